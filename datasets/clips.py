"""Raw videos -> fixed-length clips: what the `mug`, `nir` and `weizmann` builders share.

Each of the three builders reads a raw release from manual_dir (folders of JPEG frames for MUG and
Oulu-CASIA NIR, .avi files for Weizmann) and writes clips of `clip_length` frames. Shared here:

- `ClipConfig`: their BuilderConfig options (frame size, clip length / stride / hop, the subject
  split, strictness);
- `Report`: bad input (a corrupt or truncated file, an empty take folder, a stray file or folder,
  a subject with no usable video) is skipped, named in the log as it is found and counted in a
  summary at the end; a strict config raises a `UserError` on the first one instead;
- reading (`read_jpeg`, `read_avi`) and cropping (`detect_face`, `face_crop_box`,
  `centre_crop_box`, `crop_resize`);
- `subject_splits`: the split of every subject, from a seeded permutation of the release's full id
  list, so that a missing or skipped subject never moves another one;
- `ClipBuilder`: the mixin holding the builders' common flow, one raw video in memory at a time.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import os
import re
from typing import Callable, Iterator, Sequence

from absl import logging
import cv2
from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from rjkeras.errors import UserError

SPLITS = ("train", "test")
# Names that file managers and archivers leave behind: ignored without a word, so that a strict
# build does not fail on a `.DS_Store`.
_JUNK_NAMES = frozenset({"Thumbs.db", "desktop.ini", "__MACOSX"})
# Mixes the seed into the split's generator, so that it draws numbers independent of any other
# use of the same seed.
_SPLIT_STREAM = 0x5B17

# Face crops: OpenCV's bundled frontal-face Haar cascade, run on the middle frame of a video.
FACE_CASCADE = "haarcascade_frontalface_default.xml"
# The detected box spans brows to chin and cheek to cheek; widening it by 10% of its side on every
# side keeps the forehead, chin and jaw line that expressions move (the square's side is 1.2x the
# box's).
FACE_MARGIN = 0.1
# Detection runs on a copy whose longer side is at most this (MUG frames are 896x896): the Haar
# cascade's cost grows with the pixels, and a face filling a sixth of the frame is still 60 px.
_DETECT_SIDE = 400
# Faces fill a large part of MUG and NIR frames; smaller detections are background texture.
_MIN_FACE_FRACTION = 0.15


def is_junk(name: str) -> bool:
    """Whether a file or folder name is operating-system clutter (hidden files, Thumbs.db, ...)."""
    return name.startswith(".") or name in _JUNK_NAMES


# ---------------------------------------------------------------------------------------------
# Configs.


@dataclasses.dataclass(eq=False, kw_only=True)
class ClipConfig(tfds.core.BuilderConfig):
    """How raw videos become clips, which subjects form the test split, and how bad input is met.

    A raw video of T frames yields the clips starting at frames 0, clip_hop, 2 * clip_hop, ...
    whose `clip_length` frames, `clip_stride` frames apart, all lie inside it: a clip spans
    (clip_length - 1) * clip_stride + 1 raw frames. A video shorter than one span is skipped and
    counted.

    Args:
      image_size: side of the square frames stored (after the crop).
      clip_length: frames per clip (MoCoGAN's video discriminator takes 16).
      clip_stride: raw frames between consecutive frames of a clip (1: every frame; 2: every
        other frame, as MoCoGAN's preprocessing of MUG did).
      clip_hop: raw frames between the first frames of consecutive clips of one video (clips
        overlap when clip_hop < the span).
      test_fraction: share of the release's subject ids in the test split (see `subject_splits`);
        0 puts every subject in train and builds no test split (the baselines' protocol: MoCoGAN
        trained on all subjects; the evaluation needs a held-out split, so it is not the default).
      split_seed: fixes which subjects are test subjects.
      strict: raise a UserError on the first bad input instead of skipping it.
    """

    image_size: int = 64
    clip_length: int = 16
    clip_stride: int = 1
    clip_hop: int = 8
    test_fraction: float = 0.2
    split_seed: int = 0
    strict: bool = False

    def __post_init__(self):
        for key in ("clip_length", "clip_stride", "clip_hop"):
            if getattr(self, key) < 1:
                raise UserError(f"builder config {self.name}: {key}={getattr(self, key)} must be >= 1")
        if not 8 <= self.image_size <= 1024:
            raise UserError(f"builder config {self.name}: image_size={self.image_size} must be in [8, 1024]")
        if not 0.0 <= self.test_fraction < 1.0:
            raise UserError(f"builder config {self.name}: test_fraction={self.test_fraction} must be in "
                            "[0, 1)")
        if self.split_seed < 0:
            raise UserError(f"builder config {self.name}: split_seed={self.split_seed} must be >= 0")

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits this config builds: train alone when every subject is in train."""
        return SPLITS if self.test_fraction else ("train",)

    @property
    def clip_span(self) -> int:
        """Raw frames one clip spans, first to last."""
        return (self.clip_length - 1) * self.clip_stride + 1


def clip_starts(num_frames: int, config: ClipConfig) -> range:
    """First frames of the clips of a `num_frames`-frame video (empty if it is too short)."""
    return range(0, num_frames - config.clip_span + 1, config.clip_hop)


def video_feature(config: ClipConfig) -> tfds.features.Tensor:
    """uint8 (clip_length, image_size, image_size, 3), zlib-compressed (lossless, no ffmpeg)."""
    shape = (config.clip_length, config.image_size, config.image_size, 3)
    return tfds.features.Tensor(shape=shape, dtype=np.uint8, encoding=tfds.features.Encoding.ZLIB)


def common_features(config: ClipConfig) -> dict:
    """The features every clip has besides its label and subject."""
    return {
        "video": video_feature(config),
        "video_id": tfds.features.Scalar(
            dtype=np.int32, doc="The raw video the clip comes from: its position in the sorted list "
            "of every raw video found in manual_dir. Clips of one video share it."),
        "clip_start": tfds.features.Scalar(
            dtype=np.int32, doc="The raw frame (0-based, in time order) the clip starts at."),
    }


# ---------------------------------------------------------------------------------------------
# Splits.


def subject_splits(subject_ids: Sequence[str], test_fraction: float, seed: int) -> dict[str, str]:
    """The split ("train" or "test") of every subject id of a release.

    The rule: sort the release's full id list, permute it with
    `np.random.default_rng([seed, 0x5B17]).permutation`, and put the first
    `round(test_fraction * len(ids))` ids of the permutation in test. It depends on the ids
    alone, never on which subjects a copy of the release holds or which of them the build skips,
    so a missing subject never moves another one across splits.
    """
    ids = sorted(subject_ids)
    order = np.random.default_rng([seed, _SPLIT_STREAM]).permutation(len(ids))
    num_test = int(round(test_fraction * len(ids)))
    test = {ids[i] for i in order[:num_test]}
    return {subject: "test" if subject in test else "train" for subject in ids}


# ---------------------------------------------------------------------------------------------
# Bad input.


class CorruptFile(Exception):
    """A raw file that cannot be read: `path` and why."""

    def __init__(self, path, why: str):
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


# Kinds of bad input (skipped and named, or fatal when strict) and of other skips (never fatal):
# kind -> (singular, plural) as the summary writes them.
BAD_INPUT = {
    "corrupt": ("corrupt or truncated file", "corrupt or truncated files"),
    "empty": ("empty video (no frame)", "empty videos (no frame)"),
    "stray": ("stray file or folder", "stray files or folders"),
    "missing_subject": ("subject without a usable video", "subjects without a usable video"),
}
NOTES = {
    "too_short": ("video shorter than one clip", "videos shorter than one clip"),
    "no_face": ("video without a detected face (centre crop)",
                "videos without a detected face (centre crop)"),
}


class Report:
    """What a build skipped and wrote: each skip logged as found, counts summarised at the end.

    Args:
      name: the dataset and config, e.g. "mug/64", as log lines name it.
      strict: raise a UserError on the first bad input instead of skipping it.
      lenient_config: the non-strict config to suggest in a strict failure.
    """

    def __init__(self, name: str, *, strict: bool = False, lenient_config: str | None = None):
        self.name = name
        self.strict = strict
        self.lenient_config = lenient_config
        self.skipped = collections.Counter()  # kind -> count
        self.clips = collections.Counter()  # split -> clips written
        self.videos = collections.Counter()  # split -> raw videos that gave clips
        self.subjects = collections.Counter()  # split -> subjects that gave clips
        self.face_detector = None  # a description, set by builders that crop faces

    def bad(self, kind: str, path, why: str) -> None:
        """Bad input at `path`: skipped and named in the log, or a UserError when strict."""
        if self.strict:
            instead = f" (or build the config '{self.lenient_config}', which skips bad input)" \
                if self.lenient_config else ""
            raise UserError(f"{path}: {why}; fix or remove it{instead}")
        self.skipped[kind] += 1
        logging.warning("%s: skipped %s: %s", self.name, path, why)

    def note(self, kind: str, path, why: str) -> None:
        """A video left out (or cropped differently) for what it is, not for being broken."""
        self.skipped[kind] += 1
        logging.warning("%s: %s: %s", self.name, path, why)

    def summary(self) -> str:
        """One line: clips per split and every count of skips."""
        total = sum(self.clips.values())
        written = ", ".join(f"{split} {self.clips[split]}" for split in SPLITS)
        line = (f"{self.name}: wrote {total} clips ({written}) from {sum(self.videos.values())} videos "
                f"of {sum(self.subjects.values())} subjects")
        for title, kinds in (("skipped", BAD_INPUT), ("left out", NOTES)):
            parts = [f"{self.skipped[kind]} {names[self.skipped[kind] != 1]}"
                     for kind, names in kinds.items() if self.skipped[kind]]
            if parts:
                line += f"; {title}: " + ", ".join(parts)
        if any(self.skipped.values()):
            line += " (each named above)"
        if self.face_detector and self.face_detector.startswith("none"):
            line += f"; face detector: {self.face_detector}"
        return line

    def as_dict(self) -> dict:
        """The counts, as stored in the prepared dataset's metadata."""
        return {
            "clips": {split: self.clips[split] for split in SPLITS},
            "videos": {split: self.videos[split] for split in SPLITS},
            "subjects": {split: self.subjects[split] for split in SPLITS},
            "skipped": {kind: self.skipped[kind] for kind in (*BAD_INPUT, *NOTES)},
            "face_detector": self.face_detector,
        }

    def log_summary(self) -> None:
        worth_a_warning = any(self.skipped.values()) or "; face detector: none" in self.summary()
        (logging.warning if worth_a_warning else logging.info)("%s", self.summary())


# ---------------------------------------------------------------------------------------------
# Reading.


def read_jpeg(path: epath.Path, *, grey: bool = False) -> np.ndarray:
    """A JPEG frame: uint8 (H, W, 3) RGB, or (H, W) when `grey`.

    Raises:
      CorruptFile: the file is empty, truncated (no end-of-image marker) or not decodable.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CorruptFile(path, f"cannot be read ({e.strerror or e})") from None
    if not data:
        raise CorruptFile(path, "empty file")
    # OpenCV 4 decodes a truncated JPEG partially (grey below the cut), with only a libjpeg warning
    # on stderr: a whole JPEG ends with the End Of Image marker FF D9 (padding bytes aside).
    if data.rstrip(b"\x00\r\n\t ")[-2:] != b"\xff\xd9":
        raise CorruptFile(path, "truncated JPEG (no end-of-image marker)")
    try:
        flags = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:
        image = None
    if image is None:
        raise CorruptFile(path, "not a decodable JPEG")
    return image if grey else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_avi(path: epath.Path, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Every frame of a video file, each passed through `transform` as it is decoded.

    OpenCV decodes it (its wheels carry their own FFmpeg: no system ffmpeg is needed); only the
    transformed frames are kept.

    Args:
      path: a local file.
      transform: uint8 (H, W, 3) RGB frame -> the frame to keep, e.g. (S, S, 3).

    Returns:
      The kept frames stacked, (T, ...) uint8.

    Raises:
      CorruptFile: OpenCV cannot open the file, decodes no frame, or decodes fewer frames than the
        file's header declares (a truncated file).
    """
    capture = cv2.VideoCapture(os.fspath(path))
    frames, shape = [], None
    try:
        if not capture.isOpened():
            raise CorruptFile(path, "OpenCV cannot open it as a video (corrupt, truncated or an "
                              "unknown codec)")
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if shape is None:
                shape = frame.shape
            elif frame.shape != shape:
                raise CorruptFile(path, f"frame {len(frames)} is {frame.shape[1]}x{frame.shape[0]}, "
                                  f"frame 0 {shape[1]}x{shape[0]}")
            frames.append(transform(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
    finally:
        capture.release()
    if not frames:
        raise CorruptFile(path, "no frame could be decoded")
    # A cut file decodes up to the cut; its header still counts every frame. One frame of slack:
    # some containers count a trailing empty packet as a frame.
    if declared > 0 and len(frames) < declared - 1:
        raise CorruptFile(path, f"truncated: {len(frames)} of its {declared} frames decode")
    return np.stack(frames)


# ---------------------------------------------------------------------------------------------
# Cropping. A box is (x0, y0, side): the square image[y0:y0 + side, x0:x0 + side].


@functools.cache
def face_detector():
    """OpenCV's bundled frontal-face Haar cascade, or None where this OpenCV has none.

    OpenCV 5 moved the cascade classifier (and its XML files) out of the main package:
    opencv-python(-headless) 5.x has no `cv2.CascadeClassifier`; 4.x has both.
    """
    if not hasattr(cv2, "CascadeClassifier"):
        return None
    path = os.path.join(cv2.data.haarcascades, FACE_CASCADE)
    if not os.path.exists(path):
        return None
    detector = cv2.CascadeClassifier(path)
    return None if detector.empty() else detector


def describe_face_detector() -> str:
    """What crops faces in this environment, for logs and the dataset's metadata."""
    if face_detector() is None:
        return f"none: OpenCV {cv2.__version__} has no Haar cascade (every video gets a centre crop)"
    return f"OpenCV {cv2.__version__} {FACE_CASCADE}"


def detect_face(grey: np.ndarray, detector) -> tuple[int, int, int, int] | None:
    """The largest face (x, y, w, h) that `detector` finds in a uint8 (H, W) image, or None."""
    scale = min(1.0, _DETECT_SIDE / max(grey.shape))
    small = grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    min_side = max(24, int(_MIN_FACE_FRACTION * min(small.shape)))
    faces = detector.detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    if len(faces) == 0:
        return None
    x, y, w, h = max((tuple(int(v) for v in face) for face in faces), key=lambda f: f[2] * f[3])
    return tuple(int(round(v / scale)) for v in (x, y, w, h))


def face_crop_box(face: tuple[int, int, int, int], image_shape: tuple[int, ...],
                  margin: float = FACE_MARGIN) -> tuple[int, int, int]:
    """The square crop of a detected face: widened by `margin` of its side on every side, centred
    on the face, shrunk to fit the image if larger, then shifted inside the image.

    Args:
      face: (x, y, w, h) of the detected face.
      image_shape: (H, W, ...) of the frame.

    Returns:
      (x0, y0, side), with 0 <= x0, x0 + side <= W, 0 <= y0, y0 + side <= H.
    """
    x, y, w, h = face
    height, width = image_shape[:2]
    side = min(int(round(max(w, h) * (1.0 + 2.0 * margin))), height, width)
    x0 = int(round(x + w / 2.0 - side / 2.0))
    y0 = int(round(y + h / 2.0 - side / 2.0))
    return min(max(x0, 0), width - side), min(max(y0, 0), height - side), side


def centre_crop_box(image_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The largest centred square: (x0, y0, side)."""
    height, width = image_shape[:2]
    side = min(height, width)
    return (width - side) // 2, (height - side) // 2, side


def crop_resize(image: np.ndarray, box: tuple[int, int, int], size: int) -> np.ndarray:
    """(H, W[, C]) uint8 -> (size, size, 3) uint8: the box, resized; grey frames get 3 equal
    channels so that every model sees RGB."""
    x0, y0, side = box
    crop = image[y0:y0 + side, x0:x0 + side]
    # Area averaging when shrinking (no aliasing); bilinear when enlarging.
    interpolation = cv2.INTER_AREA if side >= size else cv2.INTER_LINEAR
    out = cv2.resize(crop, (size, size), interpolation=interpolation)
    return np.repeat(out[:, :, None], 3, axis=2) if out.ndim == 2 else out


# ---------------------------------------------------------------------------------------------
# The builders' common flow.


@dataclasses.dataclass(frozen=True)
class RawVideo:
    """One raw video found in manual_dir (not read yet).

    Attributes:
      key: its path inside the release, e.g. "001/session1/anger/take003": example keys start
        with it, so they hold no local path.
      subject: the subject id as the release spells it ("001", "P012", "lena").
      label: the expression or action.
      path: the take folder or the video file (named in the log).
      frames: the JPEG frames in time order (frame-folder releases); empty for video files.
      number: the `video_id` of its clips, set by `number_videos`.
    """

    key: str
    subject: str
    label: str
    path: epath.Path
    frames: tuple[epath.Path, ...] = ()
    number: int = -1


@dataclasses.dataclass
class Scan:
    """What a builder found in manual_dir.

    Attributes:
      subjects: subject id -> where it was found (for the log), for every subject seen, including
        those without any video.
      videos: every raw video found, numbered.
    """

    subjects: dict[str, epath.Path]
    videos: list[RawVideo]


def number_videos(videos: list[RawVideo]) -> list[RawVideo]:
    """The videos sorted by key, each numbered by its position (its clips' `video_id`)."""
    return [dataclasses.replace(video, number=i)
            for i, video in enumerate(sorted(videos, key=lambda v: v.key))]


def frame_number(name: str) -> int | None:
    """The frame number in a file name ("img_0012.jpg" -> 12, "7.jpeg" -> 7), or None."""
    digits = re.findall(r"\d+", name.rsplit(".", 1)[0])
    return int(digits[-1]) if digits else None


def sorted_frames(paths: list[epath.Path]) -> tuple[list[epath.Path], str | None]:
    """JPEG frames in time order by the number in their names (numerically: 10 after 9), and why
    they cannot be ordered (a name without a number, a number twice), or None."""
    numbered = {}
    for path in paths:
        number = frame_number(path.name)
        if number is None:
            return [], f"frame {path.name} has no number in its name"
        if number in numbered:
            return [], f"frames {numbered[number].name} and {path.name} have the same number {number}"
        numbered[number] = path
    return [numbered[n] for n in sorted(numbered)], None


class ClipBuilder:
    """Mixin for a `tfds.core.GeneratorBasedBuilder` whose configs are `ClipConfig`s.

    A builder defines `_info`, and:
      SUBJECT_IDS: every subject id of the release (`subject_splits` permutes them).
      RAW_LAYOUT: the layout manual_dir must hold, for error messages.
      _scan(manual_dir, report) -> Scan
      _load(video, report) -> (T, S, S, 3) uint8 frames of one raw video (frames no clip uses may
        be left zero), or None when it was skipped (and reported).
      _example(video, clip, start) -> the example of one clip, (clip_length, S, S, 3).

    The mixin lists the raw videos once, assigns splits, and generates each split subject by
    subject, holding one raw video in memory at a time.
    """

    SUBJECT_IDS: Sequence[str] = ()
    RAW_LAYOUT = ""
    FACE_CROP = False  # whether `_load` crops faces (and the report names the detector)

    def _download_and_prepare(self, dl_manager, download_config):
        config = self.builder_config
        lenient = config.name.replace("_strict", "") if config.strict else None
        self._report = Report(f"{self.name}/{config.name}", strict=config.strict, lenient_config=lenient)
        if self.FACE_CROP:
            self._report.face_detector = describe_face_detector()
            if face_detector() is None:
                logging.warning(
                    "%s: OpenCV %s has no Haar cascade face detector (OpenCV 5 moved it out of the "
                    "main package): every video gets the centre crop instead of a face crop. For face "
                    "crops, install opencv-python-headless<5 and build into a fresh data_dir.",
                    self._report.name, cv2.__version__)
        super()._download_and_prepare(dl_manager, download_config)
        self._report.log_summary()
        # Written with dataset_info.json: the prepared data says what was skipped to make it.
        self.info.metadata["preparation"] = self._report.as_dict()

    def _manual_dir(self, dl_manager) -> epath.Path:
        try:
            return epath.Path(dl_manager.manual_dir)
        except AssertionError:  # TFDS: manual_dir missing or empty (a multi-line message)
            raise UserError(
                f"missing manual_dir {getattr(dl_manager, '_manual_dir', None)} (or it is empty); it "
                f"must hold {self.RAW_LAYOUT}; see the {self.name} MANUAL_DOWNLOAD_INSTRUCTIONS") from None

    def _split_generators(self, dl_manager):
        config = self.builder_config
        scan = self._scan(self._manual_dir(dl_manager), self._report)
        splits = subject_splits(self.SUBJECT_IDS, config.test_fraction, config.split_seed)
        logging.info("%s: %d raw videos of %d subjects (of the release's %d)", self._report.name,
                     len(scan.videos), len(scan.subjects), len(self.SUBJECT_IDS))
        generators = {}
        for split in config.splits:
            subjects = {s: path for s, path in scan.subjects.items() if splits[s] == split}
            if not any(video.subject in subjects for video in scan.videos):
                raise UserError(
                    f"{self.name}: no video of a {split} subject in {self._manual_dir(dl_manager)}: "
                    f"the {len(scan.subjects)} subjects found ({', '.join(sorted(scan.subjects)) or 'none'}) "
                    f"are all {'train' if split == 'test' else 'test'} subjects under split_seed="
                    f"{config.split_seed}, test_fraction={config.test_fraction}; a partial copy of the "
                    f"release? It must hold {self.RAW_LAYOUT}")
            videos = [video for video in scan.videos if video.subject in subjects]
            generators[split] = self._generate_examples(split, subjects, videos)
        return generators

    def _generate_examples(self, split: str, subjects: dict[str, epath.Path], videos: list[RawVideo]):
        config, report = self.builder_config, self._report
        by_subject = collections.defaultdict(list)
        for video in videos:
            by_subject[video.subject].append(video)
        for i, subject in enumerate(sorted(subjects)):
            num_clips = num_videos = 0
            for video in by_subject[subject]:
                frames = self._load(video, report)  # (T, S, S, 3) uint8
                if frames is None:
                    continue
                starts = clip_starts(len(frames), config)
                if not starts:
                    report.note("too_short", video.path, too_short_message(len(frames), config))
                    continue
                num_videos += 1
                for start in starts:
                    clip = frames[start:start + config.clip_span:config.clip_stride]
                    yield f"{video.key}/{start:04d}", self._example(video, clip, start)
                    num_clips += 1
            if num_clips:
                report.subjects[split] += 1
                report.videos[split] += num_videos
                report.clips[split] += num_clips
            else:
                report.bad("missing_subject", subjects[subject],
                           f"subject {subject} has no usable video ({len(by_subject[subject])} found)")
            logging.info("%s %s: subject %s (%d/%d): %d videos -> %d clips", report.name, split, subject,
                         i + 1, len(subjects), num_videos, num_clips)
        if not report.clips[split]:
            # TFDS cannot write an empty split (and a model could not train or test on one).
            raise UserError(f"{report.name}: no usable video in the {split} split; every one was "
                            "skipped (see the lines above)")


def too_short_message(num_frames: int, config: ClipConfig) -> str:
    return (f"{num_frames} frames, fewer than the {config.clip_span} one clip spans "
            f"(clip_length {config.clip_length}, clip_stride {config.clip_stride})")


def load_frame_folder(video: RawVideo, config: ClipConfig, report: Report, *, grey: bool,
                      face_crop: bool = True) -> np.ndarray | None:
    """The cropped frames of a frame-folder video, or None if skipped (and reported).

    One crop for the whole video: the largest face OpenCV's Haar cascade finds on its middle frame,
    widened (`face_crop_box`); the centre square where no face is found (counted). Only the frames
    some clip uses are read.

    Returns:
      uint8 (T, image_size, image_size, 3); frames no clip uses are zero.
    """
    num_frames = len(video.frames)
    starts = clip_starts(num_frames, config)
    if not starts:  # known before reading anything
        report.note("too_short", video.path, too_short_message(num_frames, config))
        return None
    needed = sorted({start + k * config.clip_stride for start in starts for k in range(config.clip_length)})
    size = config.image_size
    out = np.zeros((num_frames, size, size, 3), np.uint8)
    try:
        middle_index = num_frames // 2
        middle = read_jpeg(video.frames[middle_index], grey=grey)
        box = None
        detector = face_detector() if face_crop else None
        if detector is not None:
            face = detect_face(middle if grey else cv2.cvtColor(middle, cv2.COLOR_RGB2GRAY), detector)
            if face is None:
                report.note("no_face", video.path, f"no face found on its middle frame "
                            f"{video.frames[middle_index].name}; using the centre crop")
            else:
                box = face_crop_box(face, middle.shape)
        if box is None:
            box = centre_crop_box(middle.shape)
        for index in needed:
            image = middle if index == middle_index else read_jpeg(video.frames[index], grey=grey)
            if image.shape != middle.shape:
                raise CorruptFile(video.frames[index], f"{image.shape[1]}x{image.shape[0]} pixels, unlike "
                                  f"the {middle.shape[1]}x{middle.shape[0]} of the video's other frames")
            out[index] = crop_resize(image, box, size)
    except CorruptFile as e:
        report.bad("corrupt", e.path, f"{e.why}; its video {video.key} is skipped")
        return None
    return out


def list_dir(folder: epath.Path) -> Iterator[epath.Path]:
    """A folder's entries in sorted order, clutter (`is_junk`) left out."""
    return (path for path in sorted(folder.iterdir()) if not is_junk(path.name))


def walk_files(folder: epath.Path) -> Iterator[epath.Path]:
    """Every file under a folder, its subfolders' included, in sorted order; clutter left out.

    (epath's `rglob` refuses recursive patterns, which would be slow on remote filesystems.)
    """
    for path in list_dir(folder):
        if path.is_dir():
            yield from walk_files(path)
        else:
            yield path
