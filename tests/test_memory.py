"""Memory: no pipeline, nor the evaluation's reading of real videos, holds a dataset in memory.

One subprocess (this file run as a script) prepares the default synthetic Sprites (9000 training
videos: 844 MiB decoded as uint8, 3.3 GiB as float32) and reads a full epoch of it through each
pipeline as a command does: `rjkeras.data.videos` (the VAEs' training input, figures),
`rjkeras.data.gan_inputs` (the GANs' frames and clips), `rjkeras.data.frames` (the judge's
training input), and `rjkeras.evaluation.run_judge_fd` (every real training video and 2000 generated
ones through the evaluation's readers; the judge and the generator are stand-ins, so that only the
data flow is measured). It also reads a Sprites release of 324 MiB of train frames through the
sprites builder, which reads its .npy files a row at a time (a memory map would keep every page read
resident). Each measurement is the growth of the process's peak resident memory (VmHWM,
reset before it) over its resident memory after a warm-up on the tiny config; it must stay within
the pipeline's stated budget (`rjkeras.data.memory_budget`) plus a fixed allowance for the
allocator and TensorFlow's threads, far below what holding the data would take. A `.cache()` of
the decoded videos in a pipeline, a list of every batch in the evaluation, or memory-mapped
Sprites files fail it (by 0.3 to 4 GiB).
"""

import ctypes
import gc
import json
import os
import subprocess
import sys
import time

import pytest

MiB = 1 << 20
# Beyond the budget: the allocator's arenas, tf.data's threads and the interpreter's own.
ALLOWANCE = 96 * MiB
# Sprites release written for the builder's measurement: rows per train file (9 files).
SPRITES_ROWS = 96
# The whole dataset must be this many times the bound, so that holding it cannot pass.
MARGIN = 3


# ---------------------------------------------------------------------------------------------
# The measuring subprocess.


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def _measure(run) -> int:
    """Peak resident memory while `run()` runs, over the resident memory before it, in bytes."""
    gc.collect()
    try:  # hands memory freed by earlier measurements back, so that run() cannot reuse it unseen
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current VmRSS (Linux >= 4.0)
    before = _status_bytes("VmRSS")
    run()
    return _status_bytes("VmHWM") - before


def _stub_judge():
    import numpy as np

    class MeanColourJudge:
        """Stands in for the judge network: a video's features are its mean colour."""

        def videos(self, videos):
            return {"features": np.asarray(videos).mean(axis=(1, 2, 3))}

    return MeanColourJudge()


def _stub_source(data_dir: str, config: str):
    import numpy as np

    from rjkeras.eval import sources

    class RandomSource(sources.Source):
        """Stands in for a model: every call allocates a new batch of videos of random colours."""

        kind, model_name, step, image_size, length, has_video = "workdir", "stub", 0, 64, 8, True

        def __init__(self):
            self.data = sources.DataSpec("synthetic_sprites", config, data_dir, None)

        def videos(self, n, length, seed):
            videos = np.empty((n, length, self.image_size, self.image_size, 3), np.float32)
            videos[...] = np.random.default_rng(seed).uniform(-1, 1, (n, 1, 1, 1, 3))
            return videos

    return RandomSource()


def _pipelines(data_dir: str):
    """name -> (run(config) -> what it read, budget in bytes, bytes of the data it read decoded)."""
    from rjkeras import data
    from rjkeras.eval import evaluation

    info = data.dataset_info("synthetic_sprites", data_dir=data_dir, builder_config="default")
    num_videos = info.split_sizes["train"]
    video_bytes = info.num_frames * 64 * 64 * 3  # decoded uint8
    common = dict(data_dir=data_dir, repeat=False)

    def videos(config):
        ds = data.videos("synthetic_sprites", "train", batch_size=16, builder_config=config,
                         drop_remainder=False, **common)
        return sum(int(batch["video"].shape[0]) for batch in ds)

    def gan_inputs(config):
        # 8 frames a video: frames and clips streams both last one epoch.
        ds = data.gan_inputs("synthetic_sprites", "train", image_batch_size=64, video_batch_size=8,
                             clip_length=8, builder_config=config, **common)
        return sum(int(batch["clips"].shape[0]) for batch in ds)

    def frames(config):
        ds = data.frames("synthetic_sprites", "train", ("action",), batch_size=64,
                         builder_config=config, drop_remainder=False, **common)
        return sum(int(images.shape[0]) for images, _ in ds) // info.num_frames

    def judge_fd(config):
        total = num_videos if config == "default" else 16
        options = evaluation.Options(num_real=total, num_generated=min(total, 2000), batch_size=16)
        result = evaluation.run_judge_fd(_stub_source(data_dir, config), options, _stub_judge(), 8)
        return result["num_real"] + result["num_generated"]

    budget = {
        "videos": data.memory_budget(info, "train", batch_frames=16 * 8, image_size=64),
        "gan_inputs": data.memory_budget(info, "train", batch_frames=64 + 8 * 8, image_size=64,
                                         streams=2, frame_shuffle_buffer=4096),
        "frames": data.memory_budget(info, "train", batch_frames=64, image_size=64,
                                     frame_shuffle_buffer=2048),
        # The real videos' pipeline, and one generated batch (float32) at a time.
        "judge_fd": data.memory_budget(info, "train", batch_frames=16 * 8, image_size=64),
    }
    budget["judge_fd"]["total"] += 16 * 8 * 64 * 64 * 3 * 4
    return {
        "videos": (videos, budget["videos"]["total"], num_videos * video_bytes),
        "gan_inputs": (gan_inputs, budget["gan_inputs"]["total"], num_videos * video_bytes),
        "frames": (frames, budget["frames"]["total"], num_videos * video_bytes),
        "judge_fd": (judge_fd, budget["judge_fd"]["total"], (num_videos + 2000) * video_bytes),
    }


def _write_sprites_release(folder: str, rows: int, dummy: str) -> None:
    """The dummy release with its train frames tiled to `rows` rows per file."""
    import shutil

    import numpy as np

    os.makedirs(os.path.join(folder, "npy"))
    for name in os.listdir(os.path.join(dummy, "npy")):
        source, target = os.path.join(dummy, "npy", name), os.path.join(folder, "npy", name)
        if not name.endswith("_train.npy"):
            shutil.copy(source, target)
            continue
        array = np.load(source)
        np.save(target, np.resize(array, (rows,) + array.shape[1:]))


def _sprites(folders: dict[str, str]):
    """The sprites builder's examples of a release: folders maps "tiny" and "default" to one."""
    from rjkeras.datasets.sprites import sprites_dataset_builder as sprites

    def run(config):
        release = sprites._Release(sprites.check_manual_dir(folders[config]), "train")
        builder = sprites.Builder.__new__(sprites.Builder)  # only its generator is used
        return sum(1 for _ in builder._generate_examples(release, 0))

    frames = 9 * SPRITES_ROWS * 8 * 64 * 64 * 3 * 4  # float32 frames in the files
    return run, 0, frames


def main(data_dir: str, scratch: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from absl import logging

    logging.set_verbosity(logging.ERROR)
    from rjkeras import data

    for config in ("tiny", "default"):
        data.dataset_info("synthetic_sprites", data_dir=data_dir, builder_config=config)  # prepares
    dummy = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "datasets",
                         "sprites", "dummy_data")
    big = os.path.join(scratch, "sprites")
    _write_sprites_release(big, SPRITES_ROWS, dummy)
    measurements = {**_pipelines(data_dir), "sprites_builder": _sprites({"tiny": dummy, "default": big})}
    results = {}
    for name, (run, budget, data_bytes) in measurements.items():
        run("tiny")  # warm-up: libraries, threads, traced functions
        out, start = {}, time.time()
        out["growth"] = _measure(lambda: out.update(read=run("default")))
        results[name] = {**out, "budget": budget, "data": data_bytes}
        print(f"{name}: {time.time() - start:.1f} s, read {out['read']}, " + ", ".join(
            f"{key} {results[name][key] / MiB:.1f} MiB" for key in ("growth", "budget", "data")),
            file=sys.stderr, flush=True)
    print(json.dumps(results))


# ---------------------------------------------------------------------------------------------
# The tests.


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("needs Linux's /proc to measure peak memory")
    data_dir = tmp_path_factory.mktemp("tfds")
    scratch = tmp_path_factory.mktemp("scratch")
    result = subprocess.run([sys.executable, os.path.abspath(__file__), str(data_dir), str(scratch)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name, expected_read", [
    ("videos", 9000), ("gan_inputs", 9000), ("frames", 9000), ("judge_fd", 11000),
    ("sprites_builder", 9 * SPRITES_ROWS)])
def test_a_full_pass_stays_within_the_stated_budget(measured, name, expected_read):
    m = measured[name]
    bound = m["budget"] + ALLOWANCE
    assert m["read"] == expected_read  # every video was read
    assert m["data"] >= MARGIN * bound  # so holding them could not stay within the bound
    assert m["growth"] <= bound, (
        f"{name}: peak memory grew by {m['growth'] / MiB:.0f} MiB over a pass over "
        f"{m['data'] / MiB:.0f} MiB of videos; the stated budget is {m['budget'] / MiB:.0f} MiB "
        f"(+ {ALLOWANCE / MiB:.0f} MiB allowance)")


def test_the_stated_budget_at_the_paper_sizes():
    """The numbers of rjkeras/data/memory.py's docstring."""
    from rjkeras import data

    info = data.DatasetInfo(name="synthetic_sprites", config="default", num_frames=8,
                            image_shape=(64, 64, 3), split_sizes={"train": 9000},
                            label_names={}, labels=(), split_bytes={"train": 20594249})
    vae = data.memory_budget(info, "train", batch_frames=25 * 8, image_size=64)
    gan = data.memory_budget(info, "train", batch_frames=16 + 16 * 16, image_size=64, streams=2,
                             frame_shuffle_buffer=4096)
    assert round(vae["total"] / MiB) == 152 and round(gan["total"] / MiB) == 256
    assert gan["frame_buffer"] == 48 * MiB
    mug = data.DatasetInfo(name="mug", config="64", num_frames=16, image_shape=(64, 64, 3),
                           split_sizes={"train": 1}, label_names={}, labels=())  # sizes unknown: raw
    worst = data.memory_budget(mug, "train", batch_frames=16 + 16 * 16, image_size=64, streams=2,
                               frame_shuffle_buffer=4096)
    assert worst["shuffle_buffers"] == 2 * 1024 * 192 * 1024 and round(worst["total"] / MiB) == 636


def test_prepare_holds_at_most_its_stated_memory_while_tfds_orders_examples(tmp_path, monkeypatch):
    """TFDS keeps up to 1 GB of a split's examples in memory to order them; `rjkeras.data.registry` caps
    that at `SHUFFLE_MEMORY_BYTES` (TFDS then sorts through files on disk), and the prepared files
    are the same either way."""
    from tensorflow_datasets.core import shuffle

    from rjkeras.data import registry

    held = []  # bytes of examples held in memory, after every example added
    add = shuffle.Shuffler.add

    def spy(self, key, data):
        add(self, key, data)
        held.append(self._total_bytes if self._in_memory else 0)

    monkeypatch.setattr(shuffle.Shuffler, "add", spy)
    files = {}
    for limit in (registry.SHUFFLE_MEMORY_BYTES, 16 << 10):
        monkeypatch.setattr(registry, "SHUFFLE_MEMORY_BYTES", limit)
        held.clear()
        builder = registry.prepare("synthetic_sprites", data_dir=str(tmp_path / str(limit)), config="tiny")
        assert max(held) <= limit + (16 << 10)  # the limit, and the example that crossed it
        files[limit] = {path.name: path.read_bytes() for path in builder.data_path.glob("*.tfrecord*")}
    assert shuffle.MAX_MEM_BUFFER_SIZE == 1000 << 20  # TFDS's own, restored
    assert len(files[16 << 10]) == 2 and files[16 << 10] == files[registry.SHUFFLE_MEMORY_BYTES]


if __name__ == "__main__":
    main(*sys.argv[1:])
