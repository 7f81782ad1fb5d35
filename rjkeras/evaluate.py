"""Evaluates a trained model: `python -m rjkeras.evaluate --workdir=workdirs/rjgan_mug --judge=...`.

Metrics (`--metrics`, a comma list; default: every one whose inputs are given and that the model
supports):

    fvd              Frechet Video Distance with I3D (needs --i3d; `rjkeras.eval.fvd`)
    is               Inception Score of images from the fixed prior under the judge (needs --judge)
    judge_fd         Frechet distance in the judge's feature space (needs --judge; NOT FVD)
    disentanglement  fix content, resample motion and the reverse; judge agreement rates
                     (needs --judge and a model with content/motion: the video GANs, the VAEs)

The model is a work dir (`--workdir`: its config.json and latest checkpoint) or a SavedModel
(`--saved_model`, from `python -m rjkeras.export`; the dataset comes from the work dir it lies
in, or from --dataset). Real videos come from the model's dataset (`--real_split`, default
train), resized to the model's frame size and cut to the generated length. Generated videos and
images are rounded to uint8 pixels, as an exported model returns them, so both ways of naming a
model give the same numbers for the same seed.

Writes a JSON report (default `<workdir>/eval/report.json`; for a SavedModel
`<its parent>/eval/report_<its name>.json`), merged with the metrics of an earlier report of the
same model, and TensorBoard scalars under `<workdir>/tensorboard/eval` at the checkpoint's step
(step 0 for a SavedModel).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

from rjkeras import data as data_lib  # noqa: E402
from rjkeras import runs  # noqa: E402
from rjkeras.errors import UserError, fail, parse_only_flags  # noqa: E402
from rjkeras.eval import fvd as fvd_lib  # noqa: E402
from rjkeras.eval import i3d as i3d_lib  # noqa: E402
from rjkeras.eval import judge as judge_lib  # noqa: E402
from rjkeras.eval import metrics  # noqa: E402
from rjkeras.export.module import MAX_LENGTH, MAX_VIDEOS  # noqa: E402
from rjkeras.models import is_gan  # noqa: E402
from rjkeras.summaries import to_uint8  # noqa: E402

log = logging.getLogger("rjkeras")

METRICS = ("fvd", "is", "judge_fd", "disentanglement")
FIX_CONTENT, FIX_MOTION = "fix_content_vary_motion", "fix_motion_vary_content"

@dataclasses.dataclass
class Options:
    """Everything a run of `evaluate` needs; the CLI's flags, one field each."""

    workdir: str | None = None
    saved_model: str | None = None
    metrics: str | None = None
    judge: str | None = None
    i3d: str | None = None
    num_real: int = 624
    num_generated: int = 624
    real_split: str = "train"
    length: int | None = None
    fvd_short_videos: str = "loop"
    is_batches: int = 10
    is_batch_size: int = 128
    groups: int = 64
    group_size: int = 8
    batch_size: int = 32
    seed: int = 0
    output: str | None = None
    dataset: str | None = None
    dataset_config: str | None = None
    data_dir: str | None = None
    manual_dir: str | None = None


# Seeds of the sample streams: a metric's i-th batch uses seed * STRIDE + stream + i, so no two
# metrics (or batches) share a draw.
_STRIDE = 1_000_000
_STREAMS = {"videos": 0, "images": 200_000, "content": 400_000, "motion": 600_000, "swap": 800_000}


def _seed(options: Options, stream: str, index: int) -> int:
    return options.seed * _STRIDE + _STREAMS[stream] + index


# ---------------------------------------------------------------------------------------------
# What is evaluated: a work dir's model or a SavedModel, behind one interface.


@dataclasses.dataclass
class DataSpec:
    dataset: str
    builder_config: str | None
    data_dir: str | None
    manual_dir: str | None


class Source:
    """A generator to evaluate. Outputs are float32 NumPy arrays in [-1, 1] on the uint8 grid.

    Attributes: path, kind ("workdir" or "saved_model"), model_name (None if unknown), step,
    image_size, length (default video length, None for an image-only model), has_video, data,
    and which disentanglement protocol it supports: "generated" (groups sharing a factor),
    "encoded" (DSA's: encode real videos, swap a factor), or None.
    """

    path: str
    kind: str
    model_name: str | None = None
    step: int | None = None
    image_size: int
    length: int | None
    has_video: bool
    data: DataSpec
    disentanglement: str | None = None
    fixes_motion: bool = False  # "generated": can also fix the motion and vary the content

    def videos(self, n: int, length: int, seed: int):
        raise NotImplementedError

    def images(self, n: int, seed: int):
        raise NotImplementedError

    def fixed_content(self, n: int, length: int, content_seed: int, motion_seed: int):
        raise NotImplementedError

    def fixed_motion(self, n: int, length: int, content_seed: int, motion_seed: int):
        raise NotImplementedError

    def swap(self, videos, fixed: str, seed: int):
        raise NotImplementedError


def _quantize(x):
    """[-1, 1] floats (tf or np) -> the nearest uint8 pixel, back in [-1, 1]: what an export
    returns (the export's own `to_uint8`)."""
    return _from_uint8(np.asarray(to_uint8(x)))


def _from_uint8(x):
    return np.asarray(x, np.float32) / 127.5 - 1.0


class ModelSource(Source):
    """The latest checkpoint of a work dir, in memory."""

    kind = "workdir"

    def __init__(self, workdir: str, options: Options):
        self.path = workdir
        config, model, self.step = runs.restore_model(workdir, what=f"--workdir={workdir}")
        self.config = config
        self.model_name = config.model_name
        self.model = model
        d = config.data
        self.image_size = d.image_size
        self.data = DataSpec(d.dataset, options.dataset_config or d.builder_config,
                             options.data_dir or d.data_dir, options.manual_dir or d.manual_dir)
        self.has_video = getattr(model, "has_video", True)
        if is_gan(model):
            self.length = config.model.clip_length if self.has_video else None
            self.disentanglement = "generated" if self.has_video else None
            self.fixes_motion = self.has_video
        else:
            self.length = d.num_frames
            self.disentanglement = "encoded"
        self._sample = tf.function(lambda n, length, seed: model.sample(n, length, seed)["videos"])
        self._images = tf.function(model.sample_images)

    @staticmethod
    def _pair(seed: int):
        return tf.constant([seed, 0], tf.int64)  # what the SavedModel's signatures make of a seed

    def videos(self, n, length, seed):
        return _quantize(self._sample(n, length, self._pair(seed)))

    def images(self, n, seed):
        return _quantize(self._images(n, self._pair(seed)))

    def fixed_content(self, n, length, content_seed, motion_seed):
        return _quantize(self.model.sample_with_content(n, length, self._pair(content_seed),
                                                        self._pair(motion_seed)))

    def fixed_motion(self, n, length, content_seed, motion_seed):
        """n contents, one motion noise shared by all (the GANs' `shared_noise`)."""
        summary = self.model.sample_summary(n, self._pair(content_seed))
        return _quantize(self.model.generate(summary, length, self._pair(motion_seed), shared_noise=True))

    def swap(self, videos, fixed, seed):
        """DSA's protocol on real videos (B, T, H, W, 3): `SequentialVAE.swap_factor`."""
        return _quantize(self.model.swap_factor(tf.constant(videos, tf.float32), fixed, self._pair(seed)))


class SavedModelSource(Source):
    """A SavedModel from `rjkeras.export`, through its signatures only."""

    kind = "saved_model"

    def __init__(self, path: str, options: Options):
        self.path = path
        if not os.path.exists(os.path.join(path, "saved_model.pb")):
            raise UserError(f"--saved_model={path} is not a SavedModel folder (no saved_model.pb)")
        try:
            loaded = tf.saved_model.load(path)
        except Exception as e:  # noqa: BLE001 (a corrupt or truncated SavedModel; TF raises many types)
            reason = str(e).splitlines()[0] if str(e) else ""
            raise UserError(f"--saved_model={path}: cannot load the SavedModel ({type(e).__name__}: "
                            f"{reason}); export it again with python -m rjkeras.export") from None
        self.signatures = loaded.signatures
        if "generate_images" not in self.signatures:
            raise UserError(f"--saved_model={path} was not written by rjkeras.export "
                            "(no generate_images signature)")
        # A SavedModel exported into its work dir (the default) has the run's config beside it.
        config = runs.config_beside(path)
        if config is not None:
            self.model_name = config.model_name
        self.step = None
        probe = self.signatures["generate_images"](num_images=tf.constant(1), seed=tf.constant(0, tf.int64))
        self.image_size = int(probe["images"].shape[1])
        self.has_video = "generate_videos" in self.signatures
        dataset = options.dataset or (config.data.dataset if config else None)
        if dataset is None:
            raise UserError(f"--saved_model={path} has no work dir config beside it: pass --dataset "
                            "(the dataset it was trained on)")
        self.data = DataSpec(dataset,
                             options.dataset_config or (config.data.builder_config if config else None),
                             options.data_dir or (config.data.data_dir if config else None),
                             options.manual_dir or (config.data.manual_dir if config else None))
        self.length = None
        if self.has_video and config is not None:
            self.length = getattr(config.model, "clip_length", config.data.num_frames)
        self.disentanglement = "generated" if "generate_with_content" in self.signatures else None

    def videos(self, n, length, seed):
        out = self.signatures["generate_videos"](num_videos=tf.constant(n), length=tf.constant(length),
                                                 seed=tf.constant(seed, tf.int64))
        return _from_uint8(out["videos"])

    def images(self, n, seed):
        return _from_uint8(self.signatures["generate_images"](
            num_images=tf.constant(n), seed=tf.constant(seed, tf.int64))["images"])

    def fixed_content(self, n, length, content_seed, motion_seed):
        out = self.signatures["generate_with_content"](
            num_videos=tf.constant(n), length=tf.constant(length),
            content_seed=tf.constant(content_seed, tf.int64), motion_seed=tf.constant(motion_seed, tf.int64))
        return _from_uint8(out["videos"])


def open_source(options: Options) -> Source:
    if bool(options.workdir) == bool(options.saved_model):
        raise UserError("pass exactly one of --workdir (a training run) or --saved_model (an export)")
    if options.workdir:
        if not os.path.isdir(options.workdir):
            raise UserError(f"--workdir={options.workdir} does not exist")
        return ModelSource(options.workdir, options)
    if not os.path.isdir(options.saved_model):
        raise UserError(f"--saved_model={options.saved_model} does not exist")
    return SavedModelSource(options.saved_model, options)


# ---------------------------------------------------------------------------------------------
# Inputs of the metrics


def _chunks(total: int, size: int):
    """[(index, count)] covering `total` in chunks of at most `size`."""
    return [(i, min(size, total - start)) for i, start in enumerate(range(0, total, size))]


def generated_batches(source: Source, options: Options, total: int, length: int):
    for index, count in _chunks(total, options.batch_size):
        yield source.videos(count, length, _seed(options, "videos", index))


def real_batches(source: Source, options: Options, total: int, length: int, split: str, labels=()):
    """The first `total` videos of a shuffled split (shuffled by the seed), cut to `length` frames.

    Yields videos (B, T, H, W, 3), or (labels {name: (B,)}, videos) when `labels` are asked for.
    """
    d = source.data
    ds = data_lib.videos(d.dataset, split, batch_size=options.batch_size, data_dir=d.data_dir,
                         manual_dir=d.manual_dir, builder_config=d.builder_config,
                         image_size=source.image_size, num_frames=length, shuffle=True,
                         repeat=False, seed=options.seed, drop_remainder=False)
    done = 0
    for example in ds:
        videos = _quantize(example["video"][:total - done])
        done += len(videos)
        if labels:
            yield {label: example[label].numpy()[:len(videos)] for label in labels}, videos
        else:
            yield videos
        if done >= total:
            return


def check_real_videos(source: Source, options: Options, total: int, length: int, split: str) -> dict:
    """Checks the dataset has `total` videos of at least `length` frames in `split`; its info."""
    d = source.data
    info = data_lib.dataset_info(d.dataset, data_dir=d.data_dir, manual_dir=d.manual_dir,
                                 builder_config=d.builder_config)
    name = d.dataset + (f"/{info.config}" if info.config else "")
    if split not in info.split_sizes:
        raise UserError(f"--real_split={split}: {name} has splits {', '.join(info.split_sizes)}")
    if info.split_sizes[split] < total:
        raise UserError(f"{total} real videos asked for, but the {split!r} split of {name} has "
                        f"{info.split_sizes[split]}; lower --num_real (or --groups x --group_size)")
    if length > info.num_frames:
        raise UserError(f"generated videos have {length} frames but {name} has {info.num_frames}-frame "
                        f"videos; pass --length <= {info.num_frames}")
    return {"dataset": d.dataset, "builder_config": info.config, "split": split}


# ---------------------------------------------------------------------------------------------
# The metrics


def run_fvd(source, options, i3d, length) -> dict:
    real_info = check_real_videos(source, options, options.num_real, length, options.real_split)
    log.info("fvd: %d real and %d generated videos of %d frames; I3D from %s", options.num_real,
             options.num_generated, length, i3d.source)
    policy = options.fvd_short_videos
    real = fvd_lib.activations(i3d, real_batches(source, options, options.num_real, length,
                                                 options.real_split), policy, total=options.num_real,
                               what="real videos")
    generated = fvd_lib.activations(i3d, generated_batches(source, options, options.num_generated, length),
                                    policy, total=options.num_generated, what="generated videos")
    return {"value": fvd_lib.fvd(real, generated), "num_real": len(real), "num_generated": len(generated),
            "real": real_info, "i3d": {"path": i3d.source, "kind": i3d.kind, "detail": i3d.detail},
            "resolution": 224, **fvd_lib.short_video_report(length, policy)}


def run_inception_score(source, options, judge) -> dict:
    log.info("inception score: %d batches of %d images from the fixed prior", options.is_batches,
             options.is_batch_size)
    scores = metrics.inception_scores(
        judge, source.images, num_batches=options.is_batches,
        batch_size=options.is_batch_size, seed=_seed(options, "images", 0))
    first = judge.labels[0]
    return {"label": first, "mean": scores[first]["mean"], "std": scores[first]["std"],
            "per_label": {label: scores[label] for label in judge.labels},
            "num_batches": options.is_batches, "batch_size": options.is_batch_size,
            "images": "sample_images: images from the fixed prior (RJGAN/RJVAE/image GAN: the summary "
                      "frames G_I(mu); MoCoGAN/RMoCoGAN: a random frame of a generated video; DSA: "
                      "first frames of generated videos)"}


def run_judge_fd(source, options, judge, length) -> dict:
    real_info = check_real_videos(source, options, options.num_real, length, options.real_split)
    result = metrics.judge_frechet_distance(
        judge, real_batches(source, options, options.num_real, length, options.real_split),
        generated_batches(source, options, options.num_generated, length),
        num_real=options.num_real, num_generated=options.num_generated)
    return {**result, "real": real_info, "video_length": length,
            "features": "the judge's frame features (D_I's last hidden layer averaged over positions), "
                        "averaged over each video's frames; a Frechet distance in that space, not FVD"}


def run_disentanglement(source, options, judge, length) -> dict:
    if source.disentanglement == "generated":
        def groups(kind):
            make = source.fixed_content if kind == "content" else source.fixed_motion
            for i in range(options.groups):
                yield make(options.group_size, length, _seed(options, "content", i),
                           _seed(options, "motion", i))

        out = {"protocol": "generated: each group of --group_size videos shares one factor (content "
                           "summary z_C / mu, or the motion noise); the judge's predictions are compared "
                           "between every two videos of a group"}
        out[FIX_CONTENT] = metrics.disentanglement_generated(judge, groups("content"), "content",
                                                             options.groups)
        if source.fixes_motion:
            out[FIX_MOTION] = metrics.disentanglement_generated(judge, groups("motion"), "motion",
                                                                options.groups)
        else:
            out[FIX_MOTION] = "not available from a SavedModel (no signature fixes the motion)"
        return out

    # DSA's protocol for the VAEs: encode real test videos.
    total = options.groups * options.group_size
    split = "test"
    real_info = check_real_videos(source, options, total, length, split)

    def swapped(fixed):
        for index, (labels, videos) in enumerate(
                real_batches(source, options, total, length, split, labels=judge.labels)):
            yield labels, source.swap(videos, fixed, _seed(options, "swap", index))

    return {"protocol": "DSA: real test videos are encoded; one factor keeps its posterior mean, the "
                        "other is drawn from the prior; the judge's predictions on the decoded videos "
                        "are compared with the real videos' labels",
            "real": real_info,
            FIX_CONTENT: metrics.disentanglement_encoded(judge, swapped("content"), "content", total),
            FIX_MOTION: metrics.disentanglement_encoded(judge, swapped("motion"), "motion", total)}


# ---------------------------------------------------------------------------------------------
# Orchestration


def _validate(options: Options) -> list[str] | None:
    """Checks of the options before any work starts; the metrics asked for (None: choose by
    the inputs given)."""
    for name in ("num_real", "num_generated", "is_batches", "is_batch_size", "groups", "batch_size"):
        if getattr(options, name) < 1:
            raise UserError(f"--{name}={getattr(options, name)} must be at least 1")
    for name in ("num_real", "num_generated"):
        if getattr(options, name) < 2:
            raise UserError(f"--{name}={getattr(options, name)}: a covariance needs at least 2 videos")
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
        from rjkeras.prepare import DATASETS

        if options.dataset not in DATASETS:
            raise UserError(f"--dataset: unknown dataset {options.dataset!r}; choose one of: "
                            f"{', '.join(sorted(DATASETS))}")
    if options.fvd_short_videos not in ("loop", "repeat"):
        raise UserError(f"--fvd_short_videos={options.fvd_short_videos}: choose loop or repeat")
    for name in ("judge", "i3d"):
        path = getattr(options, name)
        if path and not os.path.exists(os.path.expanduser(path)):
            raise UserError(f"--{name}={path} does not exist")
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


def _supported(source: Source, metric: str) -> str | None:
    """Why the model cannot give `metric`, or None if it can."""
    what = source.model_name or "this model"
    if metric in ("fvd", "judge_fd", "disentanglement") and not source.has_video:
        return f"{what} makes no videos (an image-only model): only 'is' applies"
    if metric == "disentanglement" and source.disentanglement is None:
        return (f"disentanglement needs a model with separate content and motion: a video GAN "
                f"(sample_with_content) or a VAE with an encoder; {what} from "
                f"{'a SavedModel' if source.kind == 'saved_model' else 'this work dir'} has neither")
    return None


def output_dir(source: Source) -> str:
    """The work dir a report and its TensorBoard logs belong to."""
    if source.kind == "workdir":
        return source.path
    return os.path.dirname(os.path.abspath(source.path))  # the run's work dir for a default export


def run(options: Options) -> dict:
    """Evaluates, writes the report and the TensorBoard scalars; returns the report."""
    asked = _validate(options)
    explicit = asked is not None
    if not explicit:  # every metric whose inputs are given
        asked = ((["fvd"] if options.i3d else [])
                 + (["is", "judge_fd", "disentanglement"] if options.judge else []))
        if not asked:
            raise UserError("nothing to evaluate: pass --judge (for is, judge_fd, disentanglement) "
                            "and/or --i3d (for fvd), or name --metrics")
    start = time.time()
    source = open_source(options)
    log.info("evaluating %s %s (step %s) on %s", source.model_name or "model", source.path,
             source.step, source.data.dataset)
    skipped = {}
    for metric in list(asked):
        reason = _supported(source, metric)
        if reason:
            if explicit:
                raise UserError(f"--metrics={metric}: {reason}")
            skipped[metric] = reason
            asked.remove(metric)
    if not asked:
        raise UserError(f"no metric applies: {'; '.join(f'{m}: {r}' for m, r in skipped.items())}")
    length = options.length or source.length
    if length is None and any(m != "is" for m in asked):
        raise UserError(f"--saved_model={source.path} has no work dir config beside it: pass --length "
                        "(frames per generated video)")

    judge = i3d = None
    if any(m != "fvd" for m in asked):
        judge = judge_lib.load_judge(options.judge)
        judge.check_compatible(source.data.dataset, source.image_size, options.judge,
                               source.data.builder_config)
    if "fvd" in asked:
        i3d = i3d_lib.load_i3d(options.i3d)

    results = {}
    for metric in asked:
        begin = time.time()
        if metric == "fvd":
            results["fvd"] = run_fvd(source, options, i3d, length)
        elif metric == "is":
            results["inception_score"] = run_inception_score(source, options, judge)
        elif metric == "judge_fd":
            results["judge_fd"] = run_judge_fd(source, options, judge, length)
        else:
            results["disentanglement"] = run_disentanglement(source, options, judge, length)
        key = {"is": "inception_score"}.get(metric, metric)
        results[key].update(step=source.step, seconds=round(time.time() - begin, 1),
                            **({"judge": options.judge} if metric != "fvd" else {}))
        log.info("%s done in %.0fs: %s", metric, time.time() - begin, _headline(key, results[key]))
    report = write_report(source, options, results, skipped)
    log.info("evaluation done in %.0fs", time.time() - start)
    return report


def _headline(key: str, result: dict) -> str:
    if key in ("fvd", "judge_fd"):
        return f"{result['value']:.2f}"
    if key == "inception_score":
        return f"{result['mean']:.3f} +- {result['std']:.3f} ({result['label']})"
    parts = []
    for direction in (FIX_CONTENT, FIX_MOTION):
        if isinstance(result.get(direction), dict):
            parts += [f"{direction}.{k}={v:.3f}" for k, v in result[direction].items()
                      if k.endswith(("_agreement", "_change_rate"))]
    return "  ".join(parts)


def default_output(source: Source) -> str:
    """<workdir>/eval/report.json; for a SavedModel <its folder's parent>/eval/report_<name>.json,
    so that a work dir's own report and its export's do not overwrite each other."""
    if source.kind == "workdir":
        return os.path.join(source.path, "eval", "report.json")
    name = os.path.basename(os.path.abspath(source.path))
    return os.path.join(output_dir(source), "eval", f"report_{name}.json")


def scalars(results: dict) -> dict[str, float]:
    """TensorBoard scalars of a report's metrics."""
    out = {}
    if "fvd" in results:
        out["fvd"] = results["fvd"]["value"]
    if "judge_fd" in results:
        out["judge_fd"] = results["judge_fd"]["value"]
    if "inception_score" in results:
        for label, score in results["inception_score"]["per_label"].items():
            out[f"inception_score/{label}"] = score["mean"]
            out[f"inception_score_std/{label}"] = score["std"]
    if "disentanglement" in results:
        for direction, name in ((FIX_CONTENT, "fix_content"), (FIX_MOTION, "fix_motion")):
            part = results["disentanglement"].get(direction)
            if isinstance(part, dict):
                for key, value in part.items():
                    if key.endswith(("_agreement", "_change_rate")):
                        out[f"disentanglement/{name}/{key}"] = value
    return out


def write_report(source: Source, options: Options, results: dict, skipped: dict) -> dict:
    base = output_dir(source)
    path = options.output or default_output(source)
    report = {"metrics": {}}
    if os.path.exists(path):
        try:
            with open(path) as f:
                previous = json.load(f)
            if previous.get("source", {}).get("path") == os.path.abspath(source.path):
                report = previous  # keep the metrics this run did not recompute
        except (OSError, ValueError):
            pass
    report["source"] = {"path": os.path.abspath(source.path), "kind": source.kind,
                        "model": source.model_name, "step": source.step, "dataset": source.data.dataset,
                        "builder_config": source.data.builder_config, "image_size": source.image_size,
                        "video_length": options.length or source.length}
    report["metrics"].update(results)
    report["settings"] = {k: v for k, v in dataclasses.asdict(options).items()
                          if k not in ("workdir", "saved_model", "output", "metrics")}
    if skipped:
        report["skipped"] = skipped
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path + ".tmp", "w") as f:
            json.dump(report, f, indent=2, sort_keys=True)
        os.replace(path + ".tmp", path)
    except OSError as e:
        raise UserError(f"cannot write the report {path}: {e.strerror}") from None
    writer = tf.summary.create_file_writer(os.path.join(base, "tensorboard", "eval"))
    with writer.as_default(step=source.step or 0):
        for tag, value in scalars(results).items():
            tf.summary.scalar(tag, value)
    writer.flush()
    log.info("report: %s", path)
    return report


def quiet_libraries() -> None:
    """Our progress lines at INFO; TensorFlow's and TFDS's own INFO chatter hidden (as
    rjkeras.train, whose flags cannot be imported beside ours)."""
    absl_logging.set_verbosity(absl_logging.WARNING)
    logging.getLogger("rjkeras").setLevel(logging.INFO)


FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command's flags (one per `Options` field); defined only when it runs, so that the
    library can be imported beside other commands' flags."""
    flags.DEFINE_string("workdir", None, "Work dir of a training run (config.json, checkpoints).")
    flags.DEFINE_string("saved_model", None, "Or: a SavedModel written by `python -m rjkeras.export`.")
    flags.DEFINE_string("metrics", None, "Comma list of: " + ", ".join(METRICS) + ". Default: every "
                        "metric whose inputs (--i3d, --judge) are given and that the model supports.")
    flags.DEFINE_string("judge", None, "Work dir of a judge from `python -m rjkeras.eval.train_judge`.")
    flags.DEFINE_string("i3d", None, "The TF-Hub i3d-kinetics-400 folder, or a converted .weights.h5.")
    flags.DEFINE_integer("num_real", 624, "Real videos for FVD and judge_fd (the paper: 624).")
    flags.DEFINE_integer("num_generated", 624, "Generated videos for FVD and judge_fd (the paper: 624).")
    flags.DEFINE_string("real_split", "train", "Split the real videos come from.")
    flags.DEFINE_integer("length", None, "Frames per generated video; default the model's training length.")
    flags.DEFINE_enum("fvd_short_videos", "loop", ["loop", "repeat"], "How videos shorter than I3D's "
                      "9 frames are extended to 16: loop them, or repeat each frame (see rjkeras.eval.fvd).")
    flags.DEFINE_integer("is_batches", 10, "Inception Score: number of batches (the paper: 10).")
    flags.DEFINE_integer("is_batch_size", 128, "Inception Score: images per batch (the paper: 128).")
    flags.DEFINE_integer("groups", 64, "Disentanglement: groups of videos sharing a factor (GANs), or "
                         "groups x group_size real test videos to encode (VAEs).")
    flags.DEFINE_integer("group_size", 8, "Disentanglement: videos per group (GANs), >= 2.")
    flags.DEFINE_integer("batch_size", 32, "Videos generated (and judged) at a time.")
    flags.DEFINE_integer("seed", 0, "Seed of every sample drawn.")
    flags.DEFINE_string("output", None, "JSON report; default <workdir>/eval/report.json (a SavedModel: "
                        "<its parent>/eval/report_<its name>.json).")
    flags.DEFINE_string("dataset", None, "SavedModel without a work dir: its dataset.")
    flags.DEFINE_string("dataset_config", None, "The dataset's builder config (default: the model's).")
    flags.DEFINE_string("data_dir", None, "Where prepared TFDS datasets live (default: the model's).")
    flags.DEFINE_string("manual_dir", None, "The dataset's raw download, if it must be prepared.")


def main(argv):
    quiet_libraries()
    options = Options(**{field.name: getattr(FLAGS, field.name) for field in dataclasses.fields(Options)})
    try:
        run(options)
    except UserError as e:
        fail(e)


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=parse_only_flags)
