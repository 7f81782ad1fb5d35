"""What is evaluated: a work dir's model or a SavedModel, behind one interface (`Source`), whose
outputs are float32 arrays in [-1, 1] on the uint8 grid, so that both ways of naming a model give
the same numbers for the same seed."""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np
import tensorflow as tf

from rjkeras import runs
from rjkeras.errors import UserError
from rjkeras.eval.options import Options, source_kind
from rjkeras.media import STRIP_GAP
from rjkeras.models import is_gan
from rjkeras.summaries import to_uint8

log = logging.getLogger("rjkeras")


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
        self._sample = tf.function(lambda n, length, seed: model.sample(n, length, seed)["videos"],
                                    autograph=False)
        self._images = tf.function(model.sample_images, autograph=False)

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
            self.signatures = runs.load_saved_model(path)
        except UserError as e:
            raise UserError(f"--saved_model: {e}") from None
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


VIDEO_FILES = (".gif", ".mp4", ".png")


class VideoFilesSource(Source):
    """Videos another program made, scored by the same protocol: a folder of GIF, MP4 or PNG-strip
    files (a strip: the frames side by side, square, with no gap or rjkeras' white one of
    `media.STRIP_GAP` pixels), or an `.npz` of uint8 (N, T, H, W, 3) (its `videos` array, or its
    only one).

    Every video must have the frame size and length of the first readable one; a file that cannot
    be read, or differs, is named in the log and skipped (the report lists it), as the builders skip
    bad raw files. Videos are used in order (sorted file names): the generated set is the first
    --num_generated of them, the second of --repeats the next ones, so the sets never overlap.
    """

    kind = "videos"
    has_video = True

    def __init__(self, path: str, options: Options):
        self.path = path
        self.model_name = options.name or os.path.basename(os.path.normpath(path))
        if options.dataset is None:
            raise UserError(f"--videos={path}: pass --dataset (the real videos they are compared with)")
        self.skipped: dict[str, str] = {}
        self._videos = self._load(path)
        self.image_size = int(self._videos.shape[2])
        self.length = int(self._videos.shape[1])
        self.data = DataSpec(options.dataset, options.dataset_config, options.data_dir, options.manual_dir)
        self._next = 0

    def _load(self, path: str) -> np.ndarray:
        if os.path.isfile(path):
            if not path.endswith(".npz"):
                raise UserError(f"--videos={path}: give a folder of {'/'.join(VIDEO_FILES)} files or an .npz")
            try:
                with np.load(path, allow_pickle=False) as f:
                    names = f.files
                    array = f["videos"] if "videos" in names else f[names[0]] if len(names) == 1 else None
            except (OSError, ValueError) as e:
                raise UserError(f"--videos={path}: not a readable .npz ({e})") from None
            if array is None:
                raise UserError(f"--videos={path} holds {', '.join(names)}: name the videos array `videos`")
            if array.ndim != 5 or array.dtype != np.uint8 or array.shape[-1] != 3:
                raise UserError(f"--videos={path}: expected uint8 (N, T, H, W, 3), got {array.dtype} "
                                f"{tuple(array.shape)}")
            videos = [(f"video {i}", array[i]) for i in range(len(array))]
        else:
            files = sorted(f for f in os.listdir(path) if f.lower().endswith(VIDEO_FILES))
            if not files:
                raise UserError(f"--videos={path} holds no {'/'.join(VIDEO_FILES)} files")
            videos = []
            for name in files:
                try:
                    videos.append((name, _read_video(os.path.join(path, name))))
                except ValueError as e:
                    self._skip(name, str(e))
        kept = []
        for name, video in videos:
            if kept and video.shape != kept[0].shape:
                self._skip(name, f"{_shape(video)}, the first video {_shape(kept[0])}")
            elif video.shape[1] != video.shape[2]:
                self._skip(name, f"{video.shape[2]}x{video.shape[1]} frames are not square")
            else:
                kept.append(video)
        if not kept:
            raise UserError(f"--videos={path}: no readable video ({len(self.skipped)} skipped: "
                            f"{'; '.join(f'{k}: {v}' for k, v in list(self.skipped.items())[:3])})")
        return np.stack(kept)

    def _skip(self, name: str, why: str) -> None:
        log.warning("--videos: skipped %s: %s", name, why)
        self.skipped[name] = why

    def videos(self, n, length, seed):
        del seed  # the files are what they are: sets are consecutive, in order
        if self._next + n > len(self._videos):
            raise UserError(f"--videos={self.path} holds {len(self._videos)} usable videos: fewer than "
                            "--num_generated x --repeats")
        out = self._videos[self._next:self._next + n, :length]
        self._next += n
        return _from_uint8(out)


def _shape(video: np.ndarray) -> str:
    return f"{video.shape[0]} frames of {video.shape[2]}x{video.shape[1]}"


def _read_video(path: str) -> np.ndarray:
    """A video file -> uint8 (T, H, W, 3); ValueError saying why it cannot be read."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    lower = path.lower()
    if lower.endswith(".mp4"):
        import cv2

        capture = cv2.VideoCapture(path)
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        capture.release()
        if not frames:
            raise ValueError("not a readable MP4 (no frame decoded)")
        return np.stack(frames)
    try:
        with Image.open(path) as image:
            if lower.endswith(".gif"):
                return np.stack([np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)])
            strip = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ValueError(f"not a readable image ({type(e).__name__})") from None
    height, width = strip.shape[:2]
    for gap in (STRIP_GAP, 0):  # rjkeras' strips have white pixels between frames
        if (width + gap) % (height + gap) == 0:
            count = (width + gap) // (height + gap)
            return np.stack([strip[:, i * (height + gap):i * (height + gap) + height] for i in range(count)])
    raise ValueError(f"a {width}x{height} PNG is not a strip of square frames")


def open_source(options: Options) -> Source:
    kind = source_kind(options)
    if kind == "videos":
        return VideoFilesSource(options.videos, options)
    if kind == "workdir":
        return ModelSource(options.workdir, options)
    return SavedModelSource(options.saved_model, options)
