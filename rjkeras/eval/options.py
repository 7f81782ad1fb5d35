"""What `python -m rjkeras.evaluate` and `python -m rjkeras.eval.train_judge` take: their options
(each also a flag) and the checks that need nothing but the options. Apart from
`rjkeras.eval.evaluation` and `rjkeras.eval.judge`, which import TensorFlow, so that the commands
answer a bad flag at once (TensorFlow's import alone takes seconds)."""

from __future__ import annotations

import dataclasses
import os

from rjkeras import config as config_lib
from rjkeras.cli import option
from rjkeras.errors import UserError
from rjkeras.eval import kernel
from rjkeras.export.limits import MAX_LENGTH, MAX_VIDEOS

METRICS = ("fvd", "is", "judge_fd", "disentanglement")
MAX_REPEATS = 20


@dataclasses.dataclass
class Options:
    """Everything a run of `evaluate` needs; each field is also the command's flag."""

    workdir: str | None = option(None, "Work dir of a training run (config.json, checkpoints).")
    saved_model: str | None = option(None, "Or: a SavedModel written by `python -m rjkeras.export`.")
    videos: str | None = option(None, "Or: another program's videos, a folder of GIF/MP4/PNG-strip files or "
                                "an .npz of uint8 (N, T, H, W, 3), scored by the same protocol (needs --dataset).")
    name: str | None = option(None, "--videos: the name they are reported under; default the path's base name.")
    metrics: str | None = option(None, "Comma list of: " + ", ".join(METRICS) + ". Default: every metric "
                                 "whose inputs (--i3d, --judge) are given and that the model supports.")
    judge: str | None = option(None, "Work dir of a judge from `python -m rjkeras.eval.train_judge`.")
    i3d: str | None = option(None, "The TF-Hub i3d-kinetics-400 folder, or a converted .weights.h5.")
    num_real: int = option(624, "Real videos for FVD and judge_fd (the paper: 624).")
    num_generated: int = option(624, "Generated videos for FVD and judge_fd (the paper: 624).")
    real_split: str = option("train", "Split the real videos come from.")
    length: int | None = option(None, "Frames per generated video; default the model's training length.")
    fvd_short_videos: str = option("loop", "How videos shorter than I3D's 9 frames are extended to 16: "
                                   "loop them, or repeat each frame (see rjkeras.eval.fvd).",
                                   choices=("loop", "repeat"))
    is_batches: int = option(10, "Inception Score: number of batches (the paper: 10).")
    is_batch_size: int = option(128, "Inception Score: images per batch (the paper: 128).")
    groups: int = option(64, "Disentanglement: groups of videos sharing a factor (GANs), or "
                         "groups x group_size real test videos to encode (VAEs).")
    group_size: int = option(8, "Disentanglement: videos per group (GANs), >= 2.")
    batch_size: int = option(32, "Videos generated (and judged) at a time.")
    seed: int = option(0, "Seed of every sample drawn.")
    repeats: int = option(1, "fvd, judge_fd, is: independent generated sets (the real set is drawn "
                          "once); a distance reports their mean and std, the IS every set's batches.")
    kernel_subsets: int = option(kernel.NUM_SUBSETS, "KVD and judge_fd's kernel distance: random subsets "
                                 "averaged (KID's and KVD's reference: 100).")
    kernel_subset_size: int = option(kernel.SUBSET_SIZE, "Videos a subset (at most the set's size; the "
                                     "reference: 1000).")
    real_stats: str | None = option(None, "An .npz of the real videos' features to read, or to write if absent "
                                    "(default: the cache under --cache_dir, keyed by the protocol).")
    cache_dir: str | None = option(None, "Where real features are cached; default $XDG_CACHE_HOME/rjkeras "
                                   "or ~/.cache/rjkeras.")
    output: str | None = option(None, "JSON report; default <workdir>/eval/report.json (a SavedModel: "
                                "<its parent>/eval/report_<its name>.json).")
    dataset: str | None = option(None, "SavedModel without a work dir: its dataset.")
    dataset_config: str | None = option(None, "The dataset's builder config (default: the model's).")
    data_dir: str | None = option(None, "Where prepared TFDS datasets live (default: the model's).")
    manual_dir: str | None = option(None, "The dataset's raw download, if it must be prepared.")


@dataclasses.dataclass(frozen=True)
class JudgeTraining:
    """How the judge classifier trains (`judge.train_judge`'s keywords take their defaults from
    here); each field is also a flag of `train_judge`."""

    image_size: int = option(64, "Frame size: the size of the models it will judge.")
    ndf: int = option(64, "D_I's width (MoCoGAN's 64).")
    steps: int = option(2000, "Training steps.")
    batch_size: int = option(64, "Frames per step.")
    learning_rate: float = option(2e-4, "Adam's learning rate.")
    seed: int = option(0, "Seed of the initialisation and the data order.")
    log_every: int = option(100, "Steps between progress lines.")

    def validate(self) -> None:
        for name in ("steps", "batch_size", "ndf", "log_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name}={getattr(self, name)} must be at least 1")
        if self.image_size < 16:
            raise UserError(f"--image_size={self.image_size}: D_I halves the frame four times, so it "
                            "needs >= 16")


def source_kind(options: Options) -> str:
    """Which one of --workdir, --saved_model and --videos names what is evaluated (it must exist)."""
    given = [name for name in ("workdir", "saved_model", "videos") if getattr(options, name)]
    if len(given) != 1:
        raise UserError("pass exactly one of --workdir (a training run), --saved_model (an export) or "
                        "--videos (another program's samples)")
    [kind] = given
    path = getattr(options, kind)
    if not (os.path.exists(path) if kind == "videos" else os.path.isdir(path)):
        raise UserError(f"--{kind}={path} does not exist")
    if kind == "workdir":
        config_lib.load_workdir_config(path)  # a missing or corrupt config.json, said at once
    return kind


def validate(options: Options) -> list[str] | None:
    """Checks of the options before any work starts; the metrics asked for (None: choose by
    the inputs given)."""
    for name in ("num_real", "num_generated", "is_batches", "is_batch_size", "groups", "batch_size",
                 "repeats", "kernel_subsets"):
        if getattr(options, name) < 1:
            raise UserError(f"--{name}={getattr(options, name)} must be at least 1")
    for name in ("num_real", "num_generated"):
        if getattr(options, name) < 2:
            raise UserError(f"--{name}={getattr(options, name)}: a covariance needs at least 2 videos")
    if options.kernel_subset_size < 2:
        raise UserError(f"--kernel_subset_size={options.kernel_subset_size} must be at least 2")
    if options.repeats > MAX_REPEATS:
        raise UserError(f"--repeats={options.repeats}: at most {MAX_REPEATS} generated sets")
    if options.group_size < 2:
        raise UserError(f"--group_size={options.group_size} must be at least 2")
    if options.length is not None and options.length < 1:
        raise UserError(f"--length={options.length} must be at least 1")
    # What one call of an export's signature may ask for (rjkeras.export.module's caps), so that
    # a work dir and its SavedModel accept the same flags and neither runs out of memory.
    for name in ("batch_size", "is_batch_size", "group_size"):
        if getattr(options, name) > MAX_VIDEOS:
            raise UserError(f"--{name}={getattr(options, name)}: at most {MAX_VIDEOS} videos or images "
                            "are generated at a time")
    if options.length is not None and options.length > MAX_LENGTH:
        raise UserError(f"--length={options.length}: at most {MAX_LENGTH} frames")
    if options.dataset is not None:
        from rjkeras.data import registry

        registry.check_name(options.dataset, "--dataset")
    if options.fvd_short_videos not in ("loop", "repeat"):
        raise UserError(f"--fvd_short_videos={options.fvd_short_videos}: choose loop or repeat")
    for name in ("judge", "i3d"):
        path = getattr(options, name)
        if path and not os.path.exists(os.path.expanduser(path)):
            raise UserError(f"--{name}={path} does not exist")
    source_kind(options)
    if options.metrics is None:
        return None
    asked = [m.strip() for m in options.metrics.split(",") if m.strip()]
    unknown = [m for m in asked if m not in METRICS]
    if unknown or not asked:
        problem = f"unknown metric {unknown[0]!r}" if unknown else "no metric named"
        raise UserError(f"--metrics: {problem}; choose from {', '.join(METRICS)}")
    if "fvd" in asked and not options.i3d:
        raise UserError("--metrics=fvd needs --i3d=<folder of the TF-Hub i3d-kinetics-400 module, or "
                        "a converted .weights.h5> (see the README: no weights can be downloaded here)")
    needs_judge = [m for m in asked if m != "fvd"]
    if needs_judge and not options.judge:
        raise UserError(f"--metrics={','.join(needs_judge)} needs --judge=<work dir of "
                        "python -m rjkeras.eval.train_judge>")
    return list(dict.fromkeys(asked))
