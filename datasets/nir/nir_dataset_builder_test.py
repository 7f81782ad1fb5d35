"""Tests of the nir builder on dummy_data/ (Oulu-CASIA's own layout, 3 subjects).

The clip, crop and split machinery is `mug/clips.py`, tested with the mug builder; here, what
is NIR's own: its layout, grey frames, illumination configs, and every kind of bad input in it
(default config: skipped, named and counted; strict config: a UserError naming the file).
"""

import logging
import pathlib
import re
import shutil
import types

import numpy as np
import pytest
import tensorflow_datasets as tfds

from rjkeras.data import registry
from rjkeras.datasets import clips
from rjkeras.datasets.mug import make_dummy_data
from rjkeras.datasets.nir import nir_dataset_builder as nir
from rjkeras.errors import UserError

DUMMY = pathlib.Path(__file__).parent / "dummy_data"


class NirTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = nir.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["64", "32_strict"]  # clean data passes the strict config
    SPLITS = {"train": 8, "test": 4}
    # TFDS would infer rjkeras/datasets/nir/dummy_data, absent from an editable install.
    EXAMPLE_DIR = str(DUMMY)


def generate(manual_dir, config="64"):
    """{split: [(key, example)]} and the Report of a build, without writing a dataset (fast)."""
    builder = nir.Builder(config=config)
    report = clips.Report(f"nir/{config}", strict=builder.builder_config.strict)
    builder._report = report
    generators = builder._split_generators(types.SimpleNamespace(manual_dir=manual_dir))
    return {split: list(examples) for split, examples in generators.items()}, report


def subjects_by_split(examples):
    return {split: {e["subject"] for _, e in items} for split, items in examples.items()}


@pytest.fixture
def raw(tmp_path):
    """A writable copy of the dummy release; returns its NI/Strong folder."""
    shutil.copytree(DUMMY / "OriginalImg", tmp_path / "raw" / "OriginalImg")
    return tmp_path / "raw" / "OriginalImg" / "NI" / "Strong"


def test_grey_clips_in_order_with_their_labels():
    examples, report = generate(DUMMY)
    assert {split: len(items) for split, items in examples.items()} == {"train": 8, "test": 4}
    assert subjects_by_split(examples) == {"train": {"P001", "P002"}, "test": {"P003"}}
    for key, example in examples["train"] + examples["test"]:
        video = example["video"]
        assert video.shape == (16, 64, 64, 3) and video.dtype == np.uint8
        # Grey frames, copied into 3 equal channels.
        np.testing.assert_array_equal(video[..., 0], video[..., 1])
        np.testing.assert_array_equal(video[..., 0], video[..., 2])
        # Consecutive frames 000.jpeg ...: the band's grey level is 6 x the frame number.
        band = video[:, 3:12].mean(axis=(1, 2, 3))
        expected = make_dummy_data.BAND_STEP * (example["clip_start"] + np.arange(16))
        np.testing.assert_allclose(band, expected, atol=3)
        assert key.startswith(f"Strong/{example['subject']}/") and "dummy_data" not in key
    assert {e["clip_start"] for _, e in examples["train"]} == {0, 4}
    assert report.skipped["too_short"] == 1  # P002/Happiness: 12 frames


def test_split_is_fixed_by_the_release_subject_list():
    splits = clips.subject_splits(nir.SUBJECT_IDS, 0.2, seed=0)
    assert sum(s == "test" for s in splits.values()) == 16 and len(splits) == 80
    assert (splits["P001"], splits["P002"], splits["P003"]) == ("train", "train", "test")


def test_manual_dir_may_be_original_img_and_illumination_is_a_config():
    examples, _ = generate(DUMMY / "OriginalImg")
    assert len(examples["train"]) == 8
    with pytest.raises(UserError, match="no OriginalImg/NI/Weak folder"):
        generate(DUMMY, config="64_weak")


def test_split_does_not_move_when_a_subject_is_missing(raw):
    shutil.rmtree(raw / "P002")
    examples, _ = generate(raw.parents[2])
    assert subjects_by_split(examples) == {"train": {"P001"}, "test": {"P003"}}


def _truncated_jpeg(raw):
    path = raw / "P001" / "Anger" / "005.jpeg"
    path.write_bytes(path.read_bytes()[:200])
    return path, "corrupt"


def _garbage_jpeg(raw):
    path = raw / "P003" / "Disgust" / "010.jpeg"
    path.write_bytes(np.random.default_rng(1).bytes(400) + b"\xff\xd9")
    return path, "corrupt"


def _empty_sequence(raw):
    path = raw / "P001" / "Fear"
    path.mkdir()
    return path, "empty"


def _stray_file(raw):
    path = raw / "P002" / "Sadness" / "labels.csv"
    path.write_text("frame,label")
    return path, "stray"


def _stray_folder(raw):
    path = raw / "P099"  # not one of the release's 80 subjects
    (path / "Anger").mkdir(parents=True)
    return path, "stray"


def _missing_subject(raw):
    path = raw / "P004"
    path.mkdir()
    return path, "missing_subject"


BAD_INPUTS = [_truncated_jpeg, _garbage_jpeg, _empty_sequence, _stray_file, _stray_folder, _missing_subject]
CLIPS_LEFT = {"_truncated_jpeg": (6, 4), "_garbage_jpeg": (8, 2)}


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=lambda f: f.__name__[1:])
def test_bad_input_is_skipped_and_named_by_default(raw, make_bad, caplog):
    path, kind = make_bad(raw)
    with caplog.at_level(logging.WARNING):
        examples, report = generate(raw.parents[2])
    assert f"skipped {path}" in caplog.text
    assert report.skipped[kind] == 1 and sum(report.skipped[k] for k in clips.BAD_INPUT) == 1
    train, test = CLIPS_LEFT.get(make_bad.__name__, (8, 4))
    assert (len(examples["train"]), len(examples["test"])) == (train, test)
    assert subjects_by_split(examples)["test"] == {"P003"}


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=lambda f: f.__name__[1:])
def test_strict_config_fails_on_bad_input_and_leaves_no_dataset(raw, make_bad, tmp_path):
    path, _ = make_bad(raw)
    with pytest.raises(UserError, match=re.escape(str(path)) + ": .*; fix or remove it .*config '64'"):
        registry.prepare("nir", data_dir=str(tmp_path / "data"), manual_dir=str(raw.parents[2]),
                         config="64_strict")
    builder = registry.get_builder("nir", data_dir=str(tmp_path / "data"), config="64_strict")
    assert not registry.is_prepared(builder)
    assert not list((tmp_path / "data").rglob("dataset_info.json"))
