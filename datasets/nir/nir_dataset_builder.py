"""Oulu-CASIA NIR facial expressions (Zhao et al., 2011), from its raw JPEG frames in manual_dir.

Each example is a clip of 16 face-cropped near-infrared frames of one subject performing one of six
expressions, 64x64 (32x32 in the `32` configs), the grey level copied into 3 channels so that
every model sees RGB. The paper uses the NIR frames (`OriginalImg/NI`) under strong illumination
(`Strong`), the default; `*_weak` and `*_dark` configs read the other two illuminations. See
`rjkeras.datasets.clips` for the clips, the crop, the subject split and bad input.
"""

from __future__ import annotations

import dataclasses

from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from rjkeras.datasets import clips
from rjkeras.errors import UserError

EXPRESSIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
ILLUMINATIONS = ("Strong", "Weak", "Dark")
# The release's 80 subjects, P001 ... P080; the split permutes exactly these.
SUBJECT_IDS = tuple(f"P{i:03d}" for i in range(1, 81))
FRAME_SUFFIXES = (".jpeg", ".jpg")
RAW_LAYOUT = "OriginalImg/NI/<Strong|Weak|Dark>/P<NNN>/<Expression>/<NNN>.jpeg"


@dataclasses.dataclass(eq=False, kw_only=True)
class NirConfig(clips.ClipConfig):
    """A `ClipConfig` plus the illumination whose sequences are read.

    Args:
      illumination: "Strong" (the paper's, the default), "Weak" or "Dark": the folder under
        OriginalImg/NI.
    """

    illumination: str = "Strong"

    def __post_init__(self):
        super().__post_init__()
        if self.illumination not in ILLUMINATIONS:
            raise UserError(f"builder config {self.name}: illumination={self.illumination!r} must be one of "
                            f"{', '.join(ILLUMINATIONS)}")


def _config(name: str, image_size: int, strict: bool = False, illumination: str = "Strong",
            test_fraction: float = 0.2) -> NirConfig:
    what = "fails on the first bad input" if strict else \
        "skips bad input (each named in the log, counted at the end)"
    split = "64/16 subject split" if test_fraction else "every subject in train (MoCoGAN's protocol), no test split"
    return NirConfig(
        name=name, image_size=image_size, clip_length=16, clip_stride=1, clip_hop=4, strict=strict,
        illumination=illumination, test_fraction=test_fraction,
        description=f"{illumination} illumination, {image_size}x{image_size} face crops, 16-frame clips "
                    f"of consecutive frames, a clip every 4 frames; {split}; {what}.")


def find_illumination_dir(manual_dir: epath.Path, illumination: str) -> epath.Path | None:
    """`.../OriginalImg/NI/<illumination>`, with manual_dir holding OriginalImg or being it."""
    manual_dir = epath.Path(manual_dir)
    for root in (manual_dir / "OriginalImg", manual_dir):
        if (root / "NI" / illumination).is_dir():
            return root / "NI" / illumination
    return None


def scan(manual_dir: epath.Path, illumination: str, report: clips.Report) -> clips.Scan:
    """Every expression sequence of one illumination, in sorted order; stray entries, empty and
    unorderable sequences are reported (and skipped)."""
    root = find_illumination_dir(manual_dir, illumination)
    if root is None:
        raise UserError(f"no OriginalImg/NI/{illumination} folder in {manual_dir}; manual_dir must hold "
                        f"{RAW_LAYOUT} (or be the OriginalImg folder itself); see the nir "
                        "MANUAL_DOWNLOAD_INSTRUCTIONS")
    subjects, videos = {}, []
    for entry in clips.list_dir(root):
        if not (entry.is_dir() and entry.name in SUBJECT_IDS):
            report.bad("stray", entry, "not a subject folder (P001 ... P080)")
            continue
        subjects[entry.name] = entry
        for folder in clips.list_dir(entry):
            expression = folder.name.lower()
            if not folder.is_dir() or expression not in EXPRESSIONS:
                names = ", ".join(e.capitalize() for e in EXPRESSIONS)
                report.bad("stray", folder, f"not an expression folder ({names})")
                continue
            frames = []
            for path in clips.list_dir(folder):
                if path.is_file() and path.suffix.lower() in FRAME_SUFFIXES:
                    frames.append(path)
                else:
                    report.bad("stray", path, "not a .jpeg frame")
            if not frames:
                report.bad("empty", folder, "expression folder without .jpeg frames")
                continue
            frames, why_not = clips.sorted_frames(frames)
            if why_not:
                report.bad("corrupt", folder, why_not)
                continue
            videos.append(clips.RawVideo(
                key=f"{illumination}/{entry.name}/{folder.name}", subject=entry.name, label=expression,
                path=folder, frames=tuple(frames)))
    if not subjects:
        raise UserError(f"no subject folder (P001 ... P080) in {root}; manual_dir must hold {RAW_LAYOUT}; "
                        "see the nir MANUAL_DOWNLOAD_INSTRUCTIONS")
    return clips.Scan(subjects=subjects, videos=clips.number_videos(videos))


class Builder(clips.ClipBuilder, tfds.core.GeneratorBasedBuilder):
    """Oulu-CASIA NIR facial expression clips: 6 expressions, face-cropped, split by subject."""

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
        _config("64_weak", 64, illumination="Weak"),
        _config("64_dark", 64, illumination="Dark"),
        _config("64_all", 64, test_fraction=0.0),
        _config("32_all", 32, test_fraction=0.0),
    ]
    DEFAULT_CONFIG_NAME = "64"
    SUBJECT_IDS = SUBJECT_IDS
    RAW_LAYOUT = RAW_LAYOUT
    FACE_CROP = True
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Request the Oulu-CASIA NIR&VIS facial expression database from the University of Oulu's "
        "Center for Machine Vision and Signal Analysis (a licence agreement is required) and unpack "
        "its `OriginalImg` folder into manual_dir (or point manual_dir at OriginalImg itself):\n"
        "  <manual_dir>/OriginalImg/NI/<Strong|Weak|Dark>/P<NNN>/<Expression>/<NNN>.jpeg\n"
        "where P<NNN> is one of the 80 subjects P001 ... P080 and <Expression> one of Anger, "
        "Disgust, Fear, Happiness, Sadness, Surprise; frames are ordered by their number. Only "
        "the near-infrared (NI) frames of the config's illumination (Strong by default) are read; "
        "the visible-light (VL) folder may stay beside them."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        features = clips.common_features(self.builder_config)
        features["expression"] = tfds.features.ClassLabel(names=list(EXPRESSIONS))
        features["subject"] = tfds.features.ClassLabel(names=list(SUBJECT_IDS))
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(features),
            supervised_keys=None,
            homepage="https://www.oulu.fi/en/university/faculties-and-units/"
                     "faculty-information-technology-and-electrical-engineering/"
                     "center-machine-vision-and-signal-analysis",
            metadata=tfds.core.MetadataDict(),
        )

    def _scan(self, manual_dir: epath.Path, report: clips.Report) -> clips.Scan:
        return scan(manual_dir, self.builder_config.illumination, report)

    def _load(self, video: clips.RawVideo, report: clips.Report) -> np.ndarray | None:
        # Read grey: NIR frames carry one intensity; crop_resize copies it into 3 channels.
        return clips.load_frame_folder(video, self.builder_config, report, grey=True)

    def _example(self, video: clips.RawVideo, clip: np.ndarray, start: int) -> dict:
        return {"video": clip, "expression": video.label, "subject": video.subject,
                "video_id": video.number, "clip_start": start}
