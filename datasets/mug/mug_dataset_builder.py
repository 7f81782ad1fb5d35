"""MUG Facial Expression Database (Aifanti et al., 2010), from its raw JPEG frames in manual_dir.

Each example is a clip of 16 face-cropped frames of one take of one subject performing one of six
expressions: 64x64 RGB (32x32 in the `32` configs). MUG's neutral takes are left out. See
`rjkeras.datasets.clips` for the clips, the crop, the subject split and the handling of bad input.
"""

from __future__ import annotations

import re

from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from rjkeras.datasets import clips
from rjkeras.errors import UserError

EXPRESSIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
# Takes of MUG's seventh class, left out as the baselines did.
DROPPED_EXPRESSIONS = ("neutral",)
# MUG names its subjects by 3-digit numbers and publishes no fixed list of them, so the split
# permutes every possible number: a subject's split depends on its own number alone.
SUBJECT_IDS = tuple(f"{i:03d}" for i in range(1000))
FRAME_SUFFIXES = (".jpg", ".jpeg")
RAW_LAYOUT = "subjects3/<NNN>/[session<k>/]<expression>/<take>/<frames>.jpg"


def _config(name: str, image_size: int, strict: bool, test_fraction: float = 0.2) -> clips.ClipConfig:
    what = "skips bad input (each named in the log, counted at the end)" if not strict else \
        "fails on the first bad input"
    split = "80/20 subject split" if test_fraction else "every subject in train (MoCoGAN's protocol), no test split"
    return clips.ClipConfig(
        name=name, image_size=image_size, clip_length=16, clip_stride=2, clip_hop=8, strict=strict,
        test_fraction=test_fraction,
        description=f"{image_size}x{image_size} face crops, 16-frame clips of every other frame, a clip "
                    f"every 8 frames; {split}; {what}.")


def find_subjects_dir(manual_dir: epath.Path) -> epath.Path:
    """`manual_dir/subjects3` if it exists, else manual_dir itself (pointed at subjects3)."""
    manual_dir = epath.Path(manual_dir)
    return manual_dir / "subjects3" if (manual_dir / "subjects3").is_dir() else manual_dir


def scan(manual_dir: epath.Path, report: clips.Report) -> clips.Scan:
    """Every take of the six expressions under subjects3, in sorted order; stray entries, empty
    take folders and takes whose frames cannot be ordered are reported (and skipped)."""
    root = find_subjects_dir(manual_dir)
    subjects, videos = {}, []
    for entry in clips.list_dir(root):
        if not (entry.is_dir() and re.fullmatch(r"\d{1,3}", entry.name)):
            report.bad("stray", entry, "not a subject folder (3-digit name) of MUG's subjects3")
            continue
        subject = f"{int(entry.name):03d}"
        if subject in subjects:  # e.g. "7" beside "007"
            report.bad("stray", entry, f"a second folder of subject {subject} (the first: "
                                       f"{subjects[subject].name})")
            continue
        subjects[subject] = entry
        for group in clips.list_dir(entry):
            if group.is_dir() and re.fullmatch(r"session\d+", group.name):
                for folder in clips.list_dir(group):
                    videos += _scan_expression(folder, subject, f"{entry.name}/{group.name}", report)
            else:
                videos += _scan_expression(group, subject, entry.name, report)
    if not subjects:
        raise UserError(f"no MUG subject folder in {root}; manual_dir must hold {RAW_LAYOUT} (or be "
                        "the subjects3 folder itself); see the mug MANUAL_DOWNLOAD_INSTRUCTIONS")
    return clips.Scan(subjects=subjects, videos=clips.number_videos(videos))


def _scan_expression(folder: epath.Path, subject: str, prefix: str,
                     report: clips.Report) -> list[clips.RawVideo]:
    """The takes of one expression folder."""
    expression = folder.name.lower()
    if not folder.is_dir() or expression not in EXPRESSIONS + DROPPED_EXPRESSIONS:
        names = ", ".join(EXPRESSIONS + DROPPED_EXPRESSIONS)
        report.bad("stray", folder, f"not an expression folder ({names}) or a session<k> folder")
        return []
    if expression in DROPPED_EXPRESSIONS:
        return []
    videos = []
    for take in clips.list_dir(folder):
        if not take.is_dir():
            report.bad("stray", take, "a file where take folders are expected")
            continue
        frames = []
        for path in clips.list_dir(take):
            if path.is_file() and path.suffix.lower() in FRAME_SUFFIXES:
                frames.append(path)
            else:
                report.bad("stray", path, "not a .jpg frame")
        if not frames:
            report.bad("empty", take, "take folder without .jpg frames")
            continue
        frames, why_not = clips.sorted_frames(frames)
        if why_not:
            report.bad("corrupt", take, why_not)
            continue
        # The key is the take's path inside subjects3, as the release spells it: unique.
        videos.append(clips.RawVideo(key=f"{prefix}/{folder.name}/{take.name}", subject=subject,
                                          label=expression, path=take, frames=tuple(frames)))
    return videos


class Builder(clips.ClipBuilder, tfds.core.GeneratorBasedBuilder):
    """MUG facial expression clips: 6 expressions, face-cropped, split by subject."""

    VERSION = tfds.core.Version("1.0.0")
    # TFDS would look for README.md / CITATIONS.bib under the `rjkeras` package folder, where
    # an editable install (datasets/ mapped to rjkeras.datasets) has no datasets/: point at ours.
    pkg_dir_path = epath.Path(__file__).parent
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        _config("64", 64, strict=False),
        _config("32", 32, strict=False),
        _config("64_strict", 64, strict=True),
        _config("32_strict", 32, strict=True),
        _config("64_all", 64, strict=False, test_fraction=0.0),
        _config("32_all", 32, strict=False, test_fraction=0.0),
    ]
    DEFAULT_CONFIG_NAME = "64"
    SUBJECT_IDS = SUBJECT_IDS
    RAW_LAYOUT = RAW_LAYOUT
    FACE_CROP = True
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Request the MUG Facial Expression Database from its authors at https://mug.ee.auth.gr/fed/ "
        "(a licence agreement is required) and download the image sequences of its subjects, the "
        "`subjects3` folder. Place it in manual_dir (or point manual_dir at subjects3 itself):\n"
        "  <manual_dir>/subjects3/<NNN>/<expression>/<take>/<frames>.jpg\n"
        "  <manual_dir>/subjects3/<NNN>/session<k>/<expression>/<take>/<frames>.jpg\n"
        "where <NNN> is the subject's number (e.g. 001), <expression> one of anger, disgust, fear, "
        "happiness, sadness, surprise (neutral takes are ignored), <take> a folder per recording "
        "(e.g. take000) and each frame's file name holds its frame number (e.g. img_0001.jpg); "
        "frames are ordered by that number."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        features = clips.common_features(self.builder_config)
        features["expression"] = tfds.features.ClassLabel(names=list(EXPRESSIONS))
        features["subject"] = tfds.features.Scalar(
            dtype=np.int32, doc="MUG subject number (its subjects3 folder name); no subject is in "
                                "two splits.")
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(features),
            supervised_keys=None,
            homepage="https://mug.ee.auth.gr/fed/",
            metadata=tfds.core.MetadataDict(),
        )

    def _scan(self, manual_dir: epath.Path, report: clips.Report) -> clips.Scan:
        return scan(manual_dir, report)

    def _load(self, video: clips.RawVideo, report: clips.Report) -> np.ndarray | None:
        return clips.load_frame_folder(video, self.builder_config, report, grey=False)

    def _example(self, video: clips.RawVideo, clip: np.ndarray, start: int) -> dict:
        return {"video": clip, "expression": video.label, "subject": int(video.subject),
                "video_id": video.number, "clip_start": start}
