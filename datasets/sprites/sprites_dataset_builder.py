"""Sprites (LPC characters as released with the Disentangled Sequential Autoencoder), from manual_dir.

Each example is one character performing one action towards one direction: 8 frames of 64x64 RGB.
The feature spec defined here (`features()`) is shared with `synthetic_sprites`, so that models and
classifiers treat both datasets alike.
"""

from __future__ import annotations

import itertools

from absl import logging
from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from rjkeras.errors import UserError

NUM_FRAMES = 8
IMAGE_SIZE = 64
VIDEO_SHAPE = (NUM_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3)
ACTIONS = ("walk", "spellcast", "slash")
DIRECTIONS = ("left", "front", "right")
# Attribute order of the release's one-hot arrays: (N, 8, 4, 6).
ATTRIBUTES = ("body", "bottom", "top", "hair")
NUM_ATTRIBUTE_VALUES = 6

# The release spells the action "spellcard" in its file names; the label is "spellcast".
_FILE_ACTIONS = {"walk": "walk", "spellcast": "spellcard", "slash": "slash"}
SPLITS = ("train", "test")


def features() -> tfds.features.FeaturesDict:
    """The feature spec shared by `sprites` and `synthetic_sprites`.

    "video" is uint8 (8, 64, 64, 3), stored zlib-compressed (lossless, needs no ffmpeg).
    """
    spec = {
        "video": tfds.features.Tensor(
            shape=VIDEO_SHAPE, dtype=np.uint8, encoding=tfds.features.Encoding.ZLIB
        ),
        "action": tfds.features.ClassLabel(names=list(ACTIONS)),
        "direction": tfds.features.ClassLabel(names=list(DIRECTIONS)),
    }
    for name in ATTRIBUTES:
        spec[name] = tfds.features.ClassLabel(num_classes=NUM_ATTRIBUTE_VALUES)
    spec["character"] = tfds.features.Scalar(
        dtype=np.int32, doc="Character id, unique within the dataset; train and test ids are disjoint."
    )
    return tfds.features.FeaturesDict(spec)


def expected_files() -> list[str]:
    """The 36 file names of the release, relative to its `npy/` folder."""
    names = []
    for split in SPLITS:
        for action, direction in itertools.product(ACTIONS, ("front", "left", "right")):
            stem = f"{_FILE_ACTIONS[action]}_{direction}"
            names += [f"{stem}_frames_{split}.npy", f"{stem}_attributes_{split}.npy"]
    return names


def frames_to_uint8(frames: np.ndarray) -> np.ndarray:
    """Release frames (..., 3) float32 = RGB / 256 in [0, 1) -> uint8 RGB."""
    return np.clip(np.rint(np.asarray(frames, np.float32) * 256.0), 0, 255).astype(np.uint8)


def _load(path: epath.Path) -> np.ndarray:
    """Memory-maps one .npy (to check its header and size); UserError if it cannot be read."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise UserError(
            f"{path}: not a readable .npy file ({e}); the file may be truncated or corrupt, "
            "copy it again from the release"
        ) from None


def _describe(array: np.ndarray) -> str:
    return f"{tuple(array.shape)} {array.dtype}"


def _check_attributes(path: epath.Path, attributes: np.ndarray) -> np.ndarray:
    """(N, 8, 4, 6) one-hot -> (N, 4) int64 attribute values from the first frame."""
    values = np.asarray(attributes[:, 0])  # (N, 4, 6); the release repeats it over the 8 frames
    one_hot = np.all((values == 0) | (values == 1)) and np.all(values.sum(-1) == 1)
    if not one_hot:
        raise UserError(f"{path}: expected one-hot attributes (N, 8, 4, 6) over 6 values per attribute")
    return values.argmax(-1)


class _Rows:
    """The rows of a validated .npy, read from the file one at a time.

    The release's train frames are 3.5 GB: reading them through a memory map would leave every
    page read resident in the process (its RSS grows to the files' size), so a row is read with a
    plain file read instead, and only the row being converted is in memory.
    """

    def __init__(self, path: epath.Path, array: np.ndarray):
        self.path = path
        self.shape = tuple(array.shape)
        self.dtype = array.dtype
        self._row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        # np.load's memmap starts at the data: `offset` is the .npy header's length.
        self._contiguous = isinstance(array, np.memmap) and array.flags.c_contiguous
        self._offset = int(array.offset) if self._contiguous else 0
        self._array = None if self._contiguous else array  # e.g. a Fortran-order file

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, row: int) -> np.ndarray:
        if self._array is not None:
            return np.asarray(self._array[row])
        offset = self._offset + row * self._row_items * self.dtype.itemsize
        values = np.fromfile(str(self.path), dtype=self.dtype, count=self._row_items, offset=offset)
        return values.reshape(self.shape[1:])


class _Release:
    """The validated files of one split: per (action, direction), frames (read a row at a time)
    and attributes."""

    def __init__(self, npy_dir: epath.Path, split: str):
        self.frames = {}  # (action, direction) -> _Rows of (N, 8, 64, 64, 3) float32
        self.attributes = {}  # (action, direction) -> (N, 4) int64
        num_rows = None
        first = None
        for action, direction in itertools.product(ACTIONS, DIRECTIONS):
            stem = f"{_FILE_ACTIONS[action]}_{direction}"
            frames_path = npy_dir / f"{stem}_frames_{split}.npy"
            attributes_path = npy_dir / f"{stem}_attributes_{split}.npy"
            frames = _load(frames_path)
            if frames.ndim != 5 or frames.shape[1:] != VIDEO_SHAPE or frames.dtype != np.float32:
                raise UserError(
                    f"{frames_path}: expected shape (N, 8, 64, 64, 3) float32, found {_describe(frames)}"
                )
            attributes = _load(attributes_path)
            if attributes.shape != (len(frames), NUM_FRAMES, len(ATTRIBUTES), NUM_ATTRIBUTE_VALUES):
                raise UserError(
                    f"{attributes_path}: expected shape ({len(frames)}, 8, 4, 6) to match "
                    f"{frames_path.name}, found {_describe(attributes)}"
                )
            # Rows are characters: the same row across the 9 files of a split is the same character,
            # so every file of a split must hold the same number of rows.
            if num_rows is None:
                num_rows, first = len(frames), frames_path
            elif len(frames) != num_rows:
                raise UserError(
                    f"{frames_path}: expected {num_rows} rows like {first.name}, found {len(frames)}"
                )
            self.frames[action, direction] = _Rows(frames_path, frames)
            del frames  # unmaps the file
            self.attributes[action, direction] = _check_attributes(attributes_path, attributes)
        self.num_rows = num_rows
        self._warn_if_attributes_disagree(split)

    def _warn_if_attributes_disagree(self, split: str) -> None:
        reference = self.attributes[ACTIONS[0], DIRECTIONS[0]]
        mismatched = set()
        for values in self.attributes.values():
            mismatched.update(np.flatnonzero(np.any(values != reference, axis=-1)).tolist())
        if mismatched:
            # Each example keeps its own file's attributes; only the character id assumes row identity.
            logging.warning(
                "sprites %s: %d of %d rows have different attributes across the 9 action/direction "
                "files; the character id (row index) may not name one character there.",
                split, len(mismatched), self.num_rows,
            )


def find_npy_dir(manual_dir: epath.Path) -> epath.Path:
    """`manual_dir/npy` if it exists, else `manual_dir` itself (pointed straight at the npy folder)."""
    manual_dir = epath.Path(manual_dir)
    return manual_dir / "npy" if (manual_dir / "npy").is_dir() else manual_dir


def check_manual_dir(manual_dir: epath.Path) -> epath.Path:
    """Returns the npy folder; UserError naming the missing files when any is absent."""
    npy_dir = find_npy_dir(manual_dir)
    missing = [name for name in expected_files() if not (npy_dir / name).exists()]
    if missing:
        more = f" and {len(missing) - 1} more of the 36 files" if len(missing) > 1 else ""
        raise UserError(
            f"missing file {npy_dir / missing[0]}{more}; see the sprites MANUAL_DOWNLOAD_INSTRUCTIONS"
        )
    return npy_dir


class Builder(tfds.core.GeneratorBasedBuilder):
    """Sprites videos: 3 actions x 3 directions per character, 4 appearance attributes."""

    VERSION = tfds.core.Version("1.0.0")
    # TFDS would look for README.md / CITATIONS.bib under the `rjkeras` package folder, where
    # an editable install (datasets/ mapped to rjkeras.datasets) has no datasets/: point at ours.
    pkg_dir_path = epath.Path(__file__).parent
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Place the Sprites release of the Disentangled Sequential Autoencoder (Li & Mandt, 2018; "
        "drawn with the Liberated Pixel Cup character generator) in manual_dir, as "
        "`<manual_dir>/npy/<file>` (or point manual_dir at the npy folder itself). The 36 files, "
        "each frames array (N, 8, 64, 64, 3) float32 = RGB/256 and each attributes array "
        "(N, 8, 4, 6) one-hot over [body, bottom, top, hair], are:\n"
        + "\n".join(f"  npy/{name}" for name in expected_files())
    )

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=features(),
            supervised_keys=None,
            homepage="https://github.com/YingzhenLi/Sprites",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        try:
            manual_dir = dl_manager.manual_dir
        except AssertionError:  # TFDS: manual_dir missing or empty (a multi-line message)
            raise UserError(
                f"missing manual_dir {getattr(dl_manager, '_manual_dir', None)} (or it is empty); it "
                f"must hold npy/{expected_files()[0]} and the other 35 files listed in the sprites "
                "MANUAL_DOWNLOAD_INSTRUCTIONS"
            ) from None
        npy_dir = check_manual_dir(manual_dir)
        # Validate every file of both splits before generating anything.
        releases = {split: _Release(npy_dir, split) for split in SPLITS}
        # Character ids: the row within the split; test ids follow the train ids so both are disjoint.
        offsets = {"train": 0, "test": releases["train"].num_rows}
        return {
            split: self._generate_examples(releases[split], offsets[split]) for split in SPLITS
        }

    def _generate_examples(self, release: _Release, id_offset: int):
        # Action and direction come from the file names, never from the release's label arrays:
        # its test split's direction-label array was saved under the `_train` name (a known defect)
        # and is thereby irrelevant here.
        for (action, direction), frames in sorted(release.frames.items()):
            attributes = release.attributes[action, direction]
            for row in range(release.num_rows):
                example = {
                    "video": frames_to_uint8(frames[row]),
                    "action": action,
                    "direction": direction,
                    "character": id_offset + row,
                }
                example.update(zip(ATTRIBUTES, attributes[row].tolist()))
                yield f"{action}_{direction}_{row:05d}", example
