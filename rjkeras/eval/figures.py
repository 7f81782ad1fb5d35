"""The paper's qualitative figures from a trained model, as PNG grids and animated GIFs, and in
TensorBoard: the library behind `python -m rjkeras.figures` (see that command for the figures).
`run(Options(...))` is the library call; importing this module costs no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np

from rjkeras.cli import option
from rjkeras.errors import UserError

GAP = 2  # rjkeras.summaries.GAP: white pixels between frames
FIGURES = ("summary_frames", "fixed_content", "images", "images_vs_baseline", "inference",
           "interpolation")
MAX_NUM = 32  # images.png draws num x num images in one generate_images call: at most 1024
MAX_LENGTH = 256


@dataclasses.dataclass
class Options:
    """Everything a run needs; each field is also the command's flag."""

    model: str | None = option(None, "A training work dir (latest checkpoint) or a SavedModel folder.",
                               required=True)
    output: str | None = option(None, "The folder to write the figures to.", required=True)
    baseline: str | None = option(None, "An image GAN (work dir or SavedModel): fig. 6's bottom half.")
    figures: str | None = option(None, "Comma list of: " + ", ".join(FIGURES) + ". Default: every one "
                                 "the model supports.")
    num: int = option(8, "Videos (rows) per figure; images: num x num.")
    length: int = option(16, "Frames per generated video (real videos: at most this).")
    seed: int = option(0, "Seed of every draw (interpolation: from seed to seed + 1).")
    fps: float = option(8.0, "Frames per second of the animated GIFs.")
    tensorboard: bool = option(False, "Also write the PNGs under <workdir>/tensorboard/figures.")
    split: str = option("test", "inference: the split real videos come from.")
    dataset: str | None = option(None, "inference: the dataset (default: the work dir's).")
    dataset_config: str | None = option(None, "inference: its builder config (default: the work dir's).")
    data_dir: str | None = option(None, "inference: where prepared TFDS datasets live.")
    manual_dir: str | None = option(None, "inference: the dataset's raw download, if it must be prepared.")


# ----------------------------------------------------------------------------------------------
# Layout: grids and GIF frames of uint8 arrays.


def grid(videos, first_column=None) -> np.ndarray:
    """(N, T, H, W, 3) uint8 -> the PNG grid: frames across, videos down (summaries.video_grid)."""
    from rjkeras.summaries import video_grid

    return video_grid(videos, first_column)


def gif_frames(videos, first_column=None) -> np.ndarray:
    """(N, T, H, W, 3) uint8 -> the GIF's frames: the N videos side by side (summaries.gif_frames)."""
    from rjkeras.summaries import gif_frames as frames

    return frames(videos, first_column)


def stack_below(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Two grids of one width, one above the other, a wider white gap between."""
    if top.shape[1] != bottom.shape[1]:
        raise UserError(f"grids of widths {top.shape[1]} and {bottom.shape[1]} cannot be stacked")
    gap = np.full((3 * GAP, top.shape[1], 3), 255, np.uint8)
    return np.concatenate([top, gap, bottom], axis=0)


# ----------------------------------------------------------------------------------------------
# Drawing: the model's signatures, uint8 out.


def _call(generator, signature: str, **kwargs) -> dict:
    import tensorflow as tf

    args = {}
    for key, value in kwargs.items():
        if isinstance(value, (int, np.integer)):
            value = tf.constant(value, tf.int64 if "seed" in key else tf.int32)
        args[key] = value
    return {name: value.numpy() for name, value in generator.signatures[signature](**args).items()}


def _real_videos(options: Options, config, num: int, length: int, image_size: int) -> np.ndarray:
    """The first `num` videos of the shuffled split, uint8, cut to `length` frames."""
    from rjkeras import data as data_lib
    from rjkeras.summaries import to_uint8

    d = config.data if config is not None else None
    dataset = options.dataset or (d.dataset if d else None)
    ds = data_lib.videos(dataset, options.split, batch_size=num,
                         data_dir=options.data_dir or (d.data_dir if d else None),
                         manual_dir=options.manual_dir or (d.manual_dir if d else None),
                         builder_config=options.dataset_config or (d.builder_config if d else None),
                         image_size=image_size, shuffle=True, repeat=False, seed=options.seed,
                         drop_remainder=False)
    for example in ds.take(1):
        return to_uint8(example["video"][:num, :length]).numpy()
    raise UserError(f"the {options.split} split of {dataset} has no videos")


def _workdir_config(path: str):
    """The run's config: a work dir's own, or that of the work dir a SavedModel was exported into."""
    from rjkeras import config as config_lib
    from rjkeras import runs

    return config_lib.load_workdir_config(path) if runs.is_workdir(path) else runs.config_beside(path)


def _supported(generator, baseline, options: Options, config) -> dict[str, str | None]:
    """Figure -> None if the model can make it, else why not."""
    s = generator.signatures
    no_videos = "the model serves no generate_videos (an image-only model)"
    has_data = bool(options.dataset or config is not None)
    return {
        "summary_frames": None if "generate_videos" in s else no_videos,
        "fixed_content": None if "generate_with_content" in s else
        "the model serves no generate_with_content (only MoCoGAN and RMoCoGAN fix z_C)",
        "images": None,
        "images_vs_baseline": None if baseline is not None else "no --baseline given",
        "inference": ("the model serves no reconstruct (only the VAEs infer)" if "reconstruct" not in s
                      else None if has_data else "no dataset: give a work dir, or --dataset"),
        "interpolation": None if "interpolate" in s else
        "the model serves no interpolate (only the video GANs)",
    }


def _check(options: Options) -> list[str] | None:
    if not options.model:  # the command line has absl check these; run(Options(...)) has not
        raise UserError("--model is required: a training work dir (latest checkpoint) or a SavedModel folder")
    if not options.output:
        raise UserError("--output is required: the folder to write the figures to")
    for flag, value, limit in (("num", options.num, MAX_NUM), ("length", options.length, MAX_LENGTH)):
        if not 1 <= value <= limit:
            raise UserError(f"--{flag}={value}: must be between 1 and {limit}")
    if not options.fps > 0:
        raise UserError(f"--fps={options.fps}: must be positive")
    if options.figures is None:
        return None
    wanted = [name.strip() for name in options.figures.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in FIGURES]
    if unknown or not wanted:
        raise UserError(f"--figures={options.figures}: choose from {', '.join(FIGURES)}")
    return wanted


# ----------------------------------------------------------------------------------------------
# run


def run(options: Options) -> dict[str, str]:
    """Writes the figures; returns {file name: path} of every file written (each also printed)."""
    from rjkeras.media import gif_bytes, png_bytes
    from rjkeras.runs import open_generator as load_generator

    wanted = _check(options)
    generator = load_generator(options.model)
    baseline = load_generator(options.baseline) if options.baseline else None
    if baseline is not None and "generate_images" not in baseline.signatures:
        raise UserError(f"--baseline={options.baseline} serves no generate_images")
    if options.tensorboard and generator.source != "workdir":
        raise UserError("--tensorboard writes into the model's work dir: give --model a work dir, "
                        "not a SavedModel")
    config = _workdir_config(options.model)
    why_not = _supported(generator, baseline, options, config)
    if wanted is not None:
        refused = [f"{name}: {why_not[name]}" for name in wanted if why_not[name]]
        if refused:
            raise UserError(f"{options.model} cannot make the figure {'; '.join(refused)}")
    else:
        wanted = [name for name in FIGURES if why_not[name] is None]
        if "reconstruct" in generator.signatures and why_not["inference"]:
            print(f"note: no inference figure: {why_not['inference']}", file=sys.stderr)

    n, length, seed = options.num, options.length, options.seed
    pngs, gifs, written = {}, {}, {}

    def write(name: str, data: bytes) -> None:
        path = os.path.join(options.output, name)
        try:
            os.makedirs(options.output, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        except OSError as e:
            raise UserError(f"cannot write {path}: {e.strerror}") from None
        written[name] = path
        print(path)

    def figure(name: str, image: np.ndarray, videos=None, first_column=None) -> None:
        pngs[name] = image
        write(f"{name}.png", png_bytes(image))
        if videos is not None:
            gifs[name] = gif_frames(videos, first_column)
            write(f"{name}.gif", gif_bytes(gifs[name], options.fps))

    if "summary_frames" in wanted:
        out = _call(generator, "generate_videos", num_videos=n, length=length, seed=seed)
        summary = out.get("summary_frames")
        figure("summary_frames" if summary is not None else "videos",
               grid(out["videos"], summary), out["videos"], summary)
    if "fixed_content" in wanted:
        pairs = [_call(generator, "generate_with_content", num_videos=2, length=length,
                       content_seed=seed + i, motion_seed=seed + 10_000 + i)["videos"]
                 for i in range(max(n // 2, 1))]
        figure("fixed_content", grid(np.concatenate(pairs)))
    if "images" in wanted or "images_vs_baseline" in wanted:
        images = _call(generator, "generate_images", num_images=n * n, seed=seed)["images"]
        mine = grid(images.reshape((n, n) + images.shape[1:]))
        if "images" in wanted:
            figure("images", mine)
        if "images_vs_baseline" in wanted:
            theirs = _call(baseline, "generate_images", num_images=n * n, seed=seed)["images"]
            if theirs.shape != images.shape:
                raise UserError(f"the model makes images of shape {images.shape[1:]} and the baseline "
                                f"of {theirs.shape[1:]}: a figure compares images of one size")
            figure("images_vs_baseline", stack_below(mine, grid(theirs.reshape((n, n) + theirs.shape[1:]))))
    if "inference" in wanted:
        image_size = _call(generator, "generate_images", num_images=1, seed=seed)["images"].shape[1]
        real = _real_videos(options, config, n, length, image_size)
        recon = _call(generator, "reconstruct", videos=real)["videos"]
        from rjkeras.summaries import interleave

        figure("inference", grid(interleave(real, recon)))
    if "interpolation" in wanted:
        out = _call(generator, "interpolate", seed_a=seed, seed_b=seed + 1, steps=n, length=length)
        summary = out.get("summary_frames")
        figure("interpolation", grid(out["videos"], summary), out["videos"], summary)

    if options.tensorboard:
        _write_tensorboard(generator, pngs, gifs, options.fps)
    return written


def _write_tensorboard(generator, pngs: dict, gifs: dict, fps: float) -> None:
    import tensorflow as tf

    from rjkeras.summaries import write_gif

    logdir = os.path.join(generator.path, "tensorboard", "figures")
    writer = tf.summary.create_file_writer(logdir)
    step = generator.checkpoint_step or 0
    with writer.as_default():
        for name, image in pngs.items():
            tf.summary.image(f"figures/{name}", image[None], step=step)
        for name, frames in gifs.items():
            write_gif(f"figures_animated/{name}", frames, step, fps=fps)
    writer.close()
    print(logdir)
