"""What the input pipelines hold in memory, bounded in the code and computed by `memory_budget`.

No pipeline caches anything: it streams from the prepared files, and what it holds
does not grow with the dataset's size. Per pipeline it holds at most (`memory_budget` computes it):

- shuffle buffers of *stored* examples, their video still zlib-compressed: `shuffle_buffer`
  (default 1024) examples per stream (`videos` and `frames` one stream, `gan_inputs` two). Stored
  videos are 2.3 KB on average for the synthetic Sprites (1024: 2.3 MB), a few KB for Sprites;
  natural video compresses little, so count up to the raw size for MUG, NIR and Weizmann: 96 KiB
  an 8-frame and 192 KiB a 16-frame 64x64 video, i.e. 96 / 192 MiB a buffer of 1024;
- a shuffle buffer of decoded uint8 frames: `frame_shuffle_buffer` frames of `gan_inputs`
  (default 4096: 48 MiB at 64x64) and of `frames` (default 2048: 24 MiB);
- batches in flight: every parallel stage runs `PARALLEL_CALLS` (4) calls and the last stage
  prefetches `PREFETCH_BATCHES` (2), fixed in the code (no autotuned buffer, which grows with a
  host's speed and free memory), counted as `IN_FLIGHT_BATCHES` (16) float32 output batches: at
  64x64, 9.4 MiB a batch of 25 8-frame videos (the VAEs' paper size, 150 MiB in all) and 12.8 MiB
  a GAN batch of 16 frames and 16 16-frame clips (204 MiB in all).

At the paper's sizes on the synthetic Sprites that is about 152 MiB for `videos` and 256 MiB for
`gan_inputs` (on 16-frame MUG clips, at most 636 MiB), whatever the number of videos: the default
synthetic Sprites decode to 1.1 GB of uint8 (4.6 GB as float32). `tests/test_memory.py` checks it
on a full epoch, also for the evaluation's reading of real videos.
"""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from rjkeras.data.stored import DatasetInfo

# What a pipeline holds in flight is fixed here, not autotuned: tf.data's autotuner sizes parallelism
# and prefetch buffers by the host's speed and free memory, so a stated budget could not hold.
PARALLEL_CALLS = 4  # elements a parallel map computes at once
PREFETCH_BATCHES = 2
# Output batches a pipeline may hold in flight, with margin: the prefetched batches, a batch being
# assembled and up to PARALLEL_CALLS elements (at most whole batches) in each parallel stage.
IN_FLIGHT_BATCHES = 16


def memory_budget(info: DatasetInfo, split: str, *, batch_frames: int, image_size: int,
                  shuffle_buffer: int = 1024, streams: int = 1,
                  frame_shuffle_buffer: int = 0) -> dict[str, int]:
    """The most one pipeline over `split` holds in memory, in bytes, by part (module docstring).

    Args:
      info: the dataset's `DatasetInfo`.
      batch_frames: frames in one output batch (`videos`: batch_size x num_frames; `gan_inputs`:
        image_batch_size + video_batch_size x clip_length; `frames`: batch_size).
      image_size: the output frames' size.
      shuffle_buffer, streams: stored examples per shuffle buffer, and how many such buffers
        (`gan_inputs`: 2, its frames and clips streams); 0 for an unshuffled pipeline.
      frame_shuffle_buffer: decoded frames in a frame shuffle buffer (`gan_inputs`, `frames`).

    Returns:
      {"shuffle_buffers": streams x shuffle_buffer stored examples at the split's mean stored size
       (the raw size where unknown), "frame_buffer": frame_shuffle_buffer uint8 frames,
       "in_flight": IN_FLIGHT_BATCHES float32 output batches, "total": their sum}.
    """
    height, width, channels = info.image_shape
    frame = height * width * channels  # uint8 bytes of a stored frame
    stored = info.split_bytes.get(split, 0) / max(info.split_sizes.get(split, 0), 1)
    stored = stored or info.num_frames * frame
    budget = {
        "shuffle_buffers": int(streams * shuffle_buffer * stored),
        "frame_buffer": frame_shuffle_buffer * frame,
        "in_flight": IN_FLIGHT_BATCHES * batch_frames * image_size * image_size * channels * 4,
    }
    budget["total"] = sum(budget.values())
    return budget
