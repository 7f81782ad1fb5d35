"""Tests of the sprites builder on dummy_data/ (the release's layout, 2 train and 1 test characters)."""

import logging
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

from rjkeras.datasets.sprites import sprites_dataset_builder as sprites
from rjkeras.errors import UserError

DUMMY = pathlib.Path(__file__).parent / "dummy_data"


class SpritesTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = sprites.Builder
    SPLITS = {"train": 2 * 9, "test": 1 * 9}
    # The builder memory-maps the local .npy files (3.5 GB of train frames), which needs real paths.
    MOCK_OUT_FORBIDDEN_OS_FUNCTIONS = False
    # TFDS would infer rjkeras/datasets/sprites/dummy_data, absent from an editable install.
    EXAMPLE_DIR = str(DUMMY)


@pytest.fixture
def release(tmp_path):
    """A writable copy of the dummy release; returns its npy folder."""
    shutil.copytree(DUMMY / "npy", tmp_path / "npy")
    return tmp_path / "npy"


def _read(npy_dir):
    npy_dir = sprites.check_manual_dir(npy_dir)
    return {split: sprites._Release(npy_dir, split) for split in sprites.SPLITS}


def test_release_is_read_losslessly_with_labels_from_file_names():
    builder = sprites.Builder.__new__(sprites.Builder)  # only its generator is used
    releases = _read(DUMMY)
    examples = dict(builder._generate_examples(releases["test"], id_offset=2))
    assert len(examples) == 9
    example = examples["spellcast_left_00000"]
    assert (example["action"], example["direction"], example["character"]) == ("spellcast", "left", 2)
    assert [example[a] for a in sprites.ATTRIBUTES] == [2, 3, 4, 5]  # see make_dummy_data.py
    raw = np.load(DUMMY / "npy" / "spellcard_left_frames_test.npy")[0]
    assert example["video"].dtype == np.uint8
    np.testing.assert_array_equal(example["video"].astype(np.float32) / 256.0, raw)


def test_uint8_round_trip():
    values = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(sprites.frames_to_uint8(values.astype(np.float32) / 256.0), values)


def test_manual_dir_may_be_the_npy_folder_itself():
    assert sprites.check_manual_dir(DUMMY) == DUMMY / "npy"
    assert sprites.check_manual_dir(DUMMY / "npy") == DUMMY / "npy"


def test_missing_file_is_named(release):
    (release / "slash_right_attributes_test.npy").unlink()
    with pytest.raises(UserError, match=r"missing file .*slash_right_attributes_test\.npy"):
        _read(release.parent)


def test_wrong_shape_is_named(release):
    np.save(release / "walk_front_frames_train.npy", np.zeros((2, 8, 32, 32, 3), np.float32))
    with pytest.raises(UserError, match=r"walk_front_frames_train\.npy: expected shape \(N, 8, 64, 64, 3\) "
                                        r"float32, found \(2, 8, 32, 32, 3\) float32"):
        _read(release)


def test_row_count_mismatch_is_named(release):
    frames = np.load(release / "slash_left_frames_train.npy")[:1]
    np.save(release / "slash_left_frames_train.npy", frames)
    with pytest.raises(UserError, match=r"slash_left_attributes_train\.npy: expected shape \(1, 8, 4, 6\)"):
        _read(release)


def test_truncated_file_is_named(release):
    path = release / "spellcard_front_frames_test.npy"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(UserError, match=r"spellcard_front_frames_test\.npy: not a readable \.npy"):
        _read(release)


def test_disagreeing_attributes_only_warn(release, caplog):
    path = release / "walk_right_attributes_train.npy"
    attributes = np.load(path)
    attributes[1] = np.roll(attributes[1], 1, axis=-1)
    np.save(path, attributes)
    with caplog.at_level(logging.WARNING):
        releases = _read(release)
    assert "1 of 2 rows have different attributes" in caplog.text
    assert releases["train"].attributes["walk", "right"][1].tolist() != [4, 5, 0, 1]


def test_build_without_files_raises_user_error(tmp_path):
    (tmp_path / "manual").mkdir()
    (tmp_path / "manual" / "notes.txt").write_text("not the release")
    builder = sprites.Builder(data_dir=tmp_path / "data")
    config = tfds.download.DownloadConfig(manual_dir=tmp_path / "manual", try_download_gcs=False)
    with pytest.raises(UserError, match="missing file .*walk_front_frames_train.npy and 35 more"):
        builder.download_and_prepare(download_config=config)
    assert not builder.is_prepared()
