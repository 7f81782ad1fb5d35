"""The evaluation protocol behind `python -m rjkeras.evaluate` (see that command for the metrics):
the seeds of every draw, the real and generated inputs of each metric, the metrics' runs and the
JSON report with its TensorBoard scalars. `run(Options(...))` is the library call; the options
and their checks live in `rjkeras.eval.options`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time

import numpy as np
import tensorflow as tf

from rjkeras import data as data_lib
from rjkeras.errors import UserError
from rjkeras.eval import frechet
from rjkeras.eval import fvd as fvd_lib
from rjkeras.eval import i3d as i3d_lib
from rjkeras.eval import judge as judge_lib
from rjkeras.eval import kernel
from rjkeras.eval import metrics
from rjkeras.eval import real_cache
from rjkeras.eval.options import Options, validate
from rjkeras.eval.sources import Source, _quantize, open_source

log = logging.getLogger("rjkeras")

FIX_CONTENT, FIX_MOTION = "fix_content_vary_motion", "fix_motion_vary_content"


# Seeds of the sample streams: a metric's i-th batch uses seed * STRIDE + stream + i, so no two
# metrics (or batches) share a draw.
_STRIDE = 1_000_000
_STREAMS = {"videos": 0, "images": 200_000, "content": 400_000, "motion": 600_000, "swap": 800_000}
_REPEAT_STRIDE = 10_000  # repeat r of a stream starts at index r * _REPEAT_STRIDE


def _seed(options: Options, stream: str, index: int) -> int:
    return options.seed * _STRIDE + _STREAMS[stream] + index


# ---------------------------------------------------------------------------------------------
# Inputs of the metrics


def _chunks(total: int, size: int):
    """[(index, count)] covering `total` in chunks of at most `size`."""
    return [(i, min(size, total - start)) for i, start in enumerate(range(0, total, size))]


def generated_batches(source: Source, options: Options, total: int, length: int, repeat: int = 0):
    """`total` generated videos; repeat r is a set drawn independently of every other repeat's."""
    for index, count in _chunks(total, options.batch_size):
        yield source.videos(count, length, _seed(options, "videos", repeat * _REPEAT_STRIDE + index))


def _over_repeats(values: list[float]) -> dict:
    """A distance computed on --repeats independent generated sets: their mean is the value, their
    sample standard deviation (ddof 1) the metric's own sampling spread."""
    out = {"value": float(np.mean(values)), "repeats": [float(v) for v in values]}
    if len(values) > 1:
        out["std"] = float(np.std(values, ddof=1))
    return out


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
    return {"dataset": d.dataset, "builder_config": info.config, "split": split,
            "split_videos": info.split_sizes[split], "split_bytes": info.split_bytes.get(split, 0)}


def _real(metric: str, source: Source, options: Options, length: int, real_info: dict,
          extractor: str | None, compute) -> tuple[np.ndarray, dict]:
    """The real videos' features of `metric`, through the cache (`rjkeras.eval.real_cache`) when
    the extractor's weights are files (`extractor`; None: computed, not kept)."""
    if extractor is None:
        return np.asarray(compute(), np.float32), {"file": None, "reused": False, "key": {"extractor": None}}
    key = {**real_info, "num_real": options.num_real, "length": length, "seed": options.seed,
           "image_size": source.image_size, "extractor": real_cache.files_hash(extractor)}
    if metric == "fvd":
        key["fvd_short_videos"] = options.fvd_short_videos
    return real_cache.real_features(metric, key, compute, path=options.real_stats, cache_dir=options.cache_dir)


def _kernel(real, generated, options: Options) -> float:
    return kernel.kernel_distance(real, generated, num_subsets=options.kernel_subsets,
                                  subset_size=options.kernel_subset_size, seed=options.seed)["value"]


def _kernel_report(values: list[float], real, generated, options: Options) -> dict:
    return {**_over_repeats(values), "num_subsets": options.kernel_subsets,
            "subset_size": min(len(real), len(generated), options.kernel_subset_size),
            "kernel": "polynomial (x . y / d + 1)^3, unbiased MMD^2 averaged over random subsets"}


# ---------------------------------------------------------------------------------------------
# The metrics


def _what(what: str, repeat: int, repeats: int) -> str:
    return f"{what} (set {repeat + 1}/{repeats})" if repeats > 1 else what


def run_fvd(source, options, i3d, length) -> dict:
    real_info = check_real_videos(source, options, options.num_real, length, options.real_split)
    log.info("fvd: %d real and %d generated videos of %d frames; I3D from %s", options.num_real,
             options.num_generated, length, i3d.source)
    policy = options.fvd_short_videos
    real, cache = _real("fvd", source, options, length, real_info, options.i3d, lambda: fvd_lib.activations(
        i3d, real_batches(source, options, options.num_real, length, options.real_split), policy,
        total=options.num_real, what="real videos"))
    values, kvds = [], []
    for repeat in range(options.repeats):
        generated = fvd_lib.activations(
            i3d, generated_batches(source, options, options.num_generated, length, repeat), policy,
            total=options.num_generated, what=_what("generated videos", repeat, options.repeats))
        values.append(fvd_lib.fvd(real, generated))
        kvds.append(_kernel(real, generated, options))
    return {**_over_repeats(values), "num_real": len(real), "num_generated": len(generated),
            "kvd": _kernel_report(kvds, real, generated, options), "real": real_info,
            "real_features": cache, "i3d": {"path": i3d.source, "kind": i3d.kind, "detail": i3d.detail,
                                            "sha256": cache["key"]["extractor"]},
            "resolution": 224, **fvd_lib.short_video_report(length, policy)}


def run_inception_score(source, options, judge) -> dict:
    log.info("inception score: %d batches of %d images from the fixed prior", options.is_batches,
             options.is_batch_size)
    sets = [metrics.inception_scores(judge, source.images, num_batches=options.is_batches,
                                     batch_size=options.is_batch_size,
                                     seed=_seed(options, "images", repeat * _REPEAT_STRIDE))
            for repeat in range(options.repeats)]
    scores = sets[0]
    if options.repeats > 1:  # mean and std over every batch of every set; each set's mean beside
        scores = {}
        for label in judge.labels:
            every = [s for one in sets for s in one[label]["scores"]]
            scores[label] = {"mean": float(np.mean(every)), "std": float(np.std(every)), "scores": every,
                             "repeat_means": [one[label]["mean"] for one in sets]}
    first = judge.labels[0]
    return {"label": first, "mean": scores[first]["mean"], "std": scores[first]["std"],
            "per_label": {label: scores[label] for label in judge.labels}, "repeats": options.repeats,
            "num_batches": options.is_batches, "batch_size": options.is_batch_size,
            "images": "sample_images: images from the fixed prior (RJGAN/RJVAE/image GAN: the summary "
                      "frames G_I(mu); MoCoGAN/RMoCoGAN: a random frame of a generated video; DSA: "
                      "first frames of generated videos)"}


def run_judge_fd(source, options, judge, length) -> dict:
    real_info = check_real_videos(source, options, options.num_real, length, options.real_split)
    real, cache = _real("judge_fd", source, options, length, real_info, options.judge,
                        lambda: metrics.judge_features(judge, real_batches(
                            source, options, options.num_real, length, options.real_split),
                            options.num_real, "real videos"))
    values, kernels = [], []
    for repeat in range(options.repeats):
        generated = metrics.judge_features(
            judge, generated_batches(source, options, options.num_generated, length, repeat),
            options.num_generated, _what("generated videos", repeat, options.repeats))
        values.append(frechet.frechet_distance(real, generated))
        kernels.append(_kernel(real, generated, options))
    return {**_over_repeats(values), "num_real": len(real), "num_generated": len(generated),
            "kernel_distance": _kernel_report(kernels, real, generated, options),
            "feature_dim": int(real.shape[1]), "real": real_info, "real_features": cache,
            "judge_sha256": cache["key"]["extractor"], "video_length": length,
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


def _supported(source: Source, metric: str) -> str | None:
    """Why the model cannot give `metric`, or None if it can."""
    what = source.model_name or "this model"
    if source.kind == "videos" and metric in ("is", "disentanglement"):
        return f"--videos gives videos only; {metric} needs a model (its images, or videos that share a factor)"
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
    asked = validate(options)
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
        spread = f" +- {result['std']:.2f} over {len(result['repeats'])} sets" if "std" in result else ""
        kd = result["kvd" if key == "fvd" else "kernel_distance"]["value"]
        return f"{result['value']:.2f}{spread}; {'kvd' if key == 'fvd' else 'kernel distance'} {kd:.4g}"
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
        out["kvd"] = results["fvd"]["kvd"]["value"]
    if "judge_fd" in results:
        out["judge_fd"] = results["judge_fd"]["value"]
        out["judge_kd"] = results["judge_fd"]["kernel_distance"]["value"]
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


def protocol(source: Source, options: Options, results: dict) -> dict:
    """Everything two numbers must share to be compared, in one place of the report."""
    length = options.length or source.length
    out = {
        "real": {"split": options.real_split, "num_videos": options.num_real, "seed": options.seed,
                 "frames": f"the first {length} frames of each stored video (stride 1)" if length else None,
                 "resize": f"bilinear to {source.image_size}x{source.image_size}, antialiased when shrinking"},
        "generated": {"num_videos": options.num_generated, "length": length, "sets": options.repeats,
                      "seed": options.seed, "pixels": "rounded to uint8, as an export returns them"},
        "inception_score": {"batches": options.is_batches, "batch_size": options.is_batch_size},
        "kernel_distance": {"subsets": options.kernel_subsets, "subset_size": options.kernel_subset_size},
    }
    if "fvd" in results:
        out["fvd"] = {"i3d_sha256": results["fvd"]["i3d"]["sha256"], "resolution": 224,
                      "short_videos": options.fvd_short_videos}
    for key in ("judge_fd", "inception_score", "disentanglement"):
        if key in results and options.judge:
            out["judge_sha256"] = real_cache.files_hash(options.judge)
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
    if getattr(source, "skipped", None):
        report["source"]["skipped_files"] = source.skipped
    report["metrics"].update(results)
    report["settings"] = {k: v for k, v in dataclasses.asdict(options).items()
                          if k not in ("workdir", "saved_model", "output", "metrics")}
    report["protocol"] = protocol(source, options, results)
    if skipped:
        report["skipped"] = skipped
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path + ".tmp", "w") as f:
            json.dump(report, f, indent=2, sort_keys=True)
        os.replace(path + ".tmp", path)
    except OSError as e:
        raise UserError(f"cannot write the report {path}: {e.strerror}") from None
    if source.kind == "videos":  # no run to attach scalars to
        log.info("report: %s", path)
        return report
    writer = tf.summary.create_file_writer(os.path.join(base, "tensorboard", "eval"))
    with writer.as_default(step=source.step or 0):
        for tag, value in scalars(results).items():
            tf.summary.scalar(tag, value)
    writer.flush()
    log.info("report: %s", path)
    return report
