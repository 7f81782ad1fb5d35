"""Weizmann Action (Gorelick et al., 2007), from its raw .avi files in manual_dir.

Each example is a clip of 16 consecutive frames of one person performing one of ten actions:
each frame (180x144 in the release) cropped to its centre square and resized to 64x64 (32x32 in
the `32` configs), as others scaled and centre-cropped it. OpenCV decodes the files (its wheels
carry their own FFmpeg: no ffmpeg install is needed). See `rjkeras.datasets.clips` for
the clips, the subject split and the handling of bad input.
"""

from __future__ import annotations

import re

from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from rjkeras.datasets import clips
from rjkeras.errors import UserError

ACTIONS = ("bend", "jack", "jump", "pjump", "run", "side", "skip", "walk", "wave1", "wave2")
# The release's 9 people; the split permutes exactly these (7 train, 2 test by default).
PEOPLE = ("daria", "denis", "eli", "ido", "ira", "lena", "lyova", "moshe", "shahar")
NUM_FILES = 93  # 9 people x 10 actions, and lena's second takes of run, skip and walk
RAW_LAYOUT = "<person>_<action>.avi files (e.g. daria_bend.avi, lena_run2.avi)"


def _config(name: str, image_size: int, strict: bool = False, test_fraction: float = 0.2) -> clips.ClipConfig:
    what = "fails on the first bad input" if strict else \
        "skips bad input (each named in the log, counted at the end)"
    split = "7/2 person split" if test_fraction else "every person in train (MoCoGAN's protocol), no test split"
    return clips.ClipConfig(
        name=name, image_size=image_size, clip_length=16, clip_stride=1, clip_hop=8, strict=strict,
        test_fraction=test_fraction,
        description=f"{image_size}x{image_size} centre crops, 16-frame clips of consecutive frames, a clip "
                    f"every 8 frames; {split}; {what}.")


def parse_name(name: str) -> tuple[str, str] | None:
    """(person, action) of a release file name, or None if it is not one.

    "daria_bend.avi" -> ("daria", "bend"); "lena_run2.avi" -> ("lena", "run") (a second take);
    "shahar_wave1.avi" -> ("shahar", "wave1") (wave1 is an action: one-handed waving).
    """
    match = re.fullmatch(r"([a-z]+)_([a-z]+\d*)\.avi", name.lower())
    if not match or match.group(1) not in PEOPLE:
        return None
    person, action = match.groups()
    if action not in ACTIONS:
        take = re.fullmatch(r"([a-z]+)\d+", action)  # run1, run2, skip1, ...: takes of run, skip
        if not take or take.group(1) not in ACTIONS:
            return None
        action = take.group(1)
    return person, action


def scan(manual_dir: epath.Path, report: clips.Report) -> clips.Scan:
    """Every release .avi under manual_dir (subfolders included, e.g. one per unzipped action
    archive), in sorted order; other files and unknown names are reported (and skipped)."""
    manual_dir = epath.Path(manual_dir)
    subjects, videos, seen = {}, [], {}
    for path in clips.walk_files(manual_dir):
        if path.suffix.lower() != ".avi":
            hint = " (unzip it first)" if path.suffix.lower() == ".zip" else ""
            report.bad("stray", path, f"not an .avi video{hint}")
            continue
        parsed = parse_name(path.name)
        if parsed is None:
            report.bad("stray", path, f"not a Weizmann file name <person>_<action>.avi with person in "
                                      f"{', '.join(PEOPLE)} and action in {', '.join(ACTIONS)}")
            continue
        stem = path.name[:-4].lower()
        if stem in seen:
            report.bad("stray", path, f"a second copy of {seen[stem]}")
            continue
        seen[stem] = path
        person, action = parsed
        # A person has no folder of their own: the log names their files' pattern.
        subjects.setdefault(person, manual_dir / f"{person}_*.avi")
        if path.stat().length == 0:
            report.bad("empty", path, "empty file")
            continue
        videos.append(clips.RawVideo(key=stem, subject=person, label=action, path=path))
    if not subjects:
        raise UserError(f"no Weizmann .avi file in {manual_dir}; manual_dir must hold the release's "
                        f"{NUM_FILES} {RAW_LAYOUT}; see the weizmann MANUAL_DOWNLOAD_INSTRUCTIONS")
    return clips.Scan(subjects=subjects, videos=clips.number_videos(videos))


class Builder(clips.ClipBuilder, tfds.core.GeneratorBasedBuilder):
    """Weizmann action clips: 10 actions by 9 people, centre-cropped, split by person."""

    VERSION = tfds.core.Version("1.0.0")
    # TFDS would look for README.md / CITATIONS.bib under the `rjkeras` package folder, where
    # an editable install (datasets/ mapped to rjkeras.datasets) has no datasets/: point at ours.
    pkg_dir_path = epath.Path(__file__).parent
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        _config("64", 64),
        _config("32", 32),
        _config("64_strict", 64, strict=True),
        _config("32_strict", 32, strict=True),
        _config("64_all", 64, test_fraction=0.0),
        _config("32_all", 32, test_fraction=0.0),
    ]
    DEFAULT_CONFIG_NAME = "64"
    SUBJECT_IDS = PEOPLE
    RAW_LAYOUT = RAW_LAYOUT
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Download the videos of the Weizmann Action database (Classification Database) from "
        "https://www.wisdom.weizmann.ac.il/~vision/SpaceTimeActions.html: one zip per action "
        "(bend, jack, jump, pjump, run, side, skip, walk, wave1, wave2). Unzip them all into "
        "manual_dir, flat or one subfolder per zip:\n"
        "  <manual_dir>/[<any folder>/]<person>_<action>.avi\n"
        "93 files: 9 people (daria, denis, eli, ido, ira, lena, lyova, moshe, shahar) x 10 actions, "
        "and lena's second takes lena_run2, lena_skip2, lena_walk2 (her first takes are named "
        "lena_run1, lena_skip1, lena_walk1); both takes get the action's label."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        features = clips.common_features(self.builder_config)
        features["action"] = tfds.features.ClassLabel(names=list(ACTIONS))
        features["subject"] = tfds.features.ClassLabel(names=list(PEOPLE))
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(features),
            supervised_keys=None,
            homepage="https://www.wisdom.weizmann.ac.il/~vision/SpaceTimeActions.html",
            metadata=tfds.core.MetadataDict(),
        )

    def _scan(self, manual_dir: epath.Path, report: clips.Report) -> clips.Scan:
        return scan(manual_dir, report)

    def _load(self, video: clips.RawVideo, report: clips.Report) -> np.ndarray | None:
        size = self.builder_config.image_size

        def centre_crop(frame):  # (H, W, 3) -> (size, size, 3)
            return clips.crop_resize(frame, clips.centre_crop_box(frame.shape), size)

        try:
            return clips.read_avi(video.path, centre_crop)  # (T, size, size, 3)
        except clips.CorruptFile as e:
            report.bad("corrupt", e.path, e.why)
            return None

    def _example(self, video: clips.RawVideo, clip: np.ndarray, start: int) -> dict:
        return {"video": clip, "action": video.label, "subject": video.subject,
                "video_id": video.number, "clip_start": start}
