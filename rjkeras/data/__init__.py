"""The data wing: datasets by name, prepared on demand, and the tf.data pipelines over them, in
[-1, 1].

    registry      the datasets rjkeras knows and their preparation (`prepare`); no TensorFlow
    stored        a prepared dataset as stored: `DatasetInfo`, `dataset_info`, reading, decoding
    video_input   `videos`: batches of whole videos with their labels (VAEs, the evaluation)
    gan_input     `gan_inputs`: frames for D_I (S_1) zipped with clips for D_V (S_T), and the
                  paper's image/video mixture, chosen by raw video (section 5.1)
    frame_input   `frames`: labelled single frames (the judge's training input)
    memory        what a pipeline holds in memory, bounded in the code (`memory_budget`)

The pipelines' names are also this package's, `data.videos(...)`, imported when first used:
importing `rjkeras.data` (or its registry, as the config's checks do) costs no TensorFlow.
"""

import importlib

_HOMES = {
    "registry": ("DATASETS", "prepare"),
    "stored": ("VIDEO", "DatasetInfo", "dataset_info"),
    "video_input": ("videos",),
    "gan_input": ("FRAMES", "CLIPS", "RAW_VIDEO", "gan_inputs", "image_only_count", "image_only_videos",
                  "image_only_examples", "raw_video_ids"),
    "frame_input": ("frames",),
    "memory": ("PARALLEL_CALLS", "PREFETCH_BATCHES", "IN_FLIGHT_BATCHES", "memory_budget"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_HOME_OF)


def __getattr__(name: str):
    if name not in _HOME_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME_OF[name]}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
