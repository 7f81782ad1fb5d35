"""Tests of the weizmann builder on dummy_data/ (six tiny .avi files written by OpenCV).

The clip and split machinery is `mug/clips.py`, tested with the mug builder; here, what is
Weizmann's own: file names and labels (lena's two takes), AVI decoding, centre crops, and every
kind of bad input (default config: skipped, named and counted; strict config: a UserError naming
the file).
"""

import itertools
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
from rjkeras.datasets.weizmann import weizmann_dataset_builder as weizmann
from rjkeras.errors import UserError

DUMMY = pathlib.Path(__file__).parent / "dummy_data"


class WeizmannTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = weizmann.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["64", "32_strict"]  # clean data passes the strict config
    SPLITS = {"train": 8, "test": 2}
    # TFDS would infer rjkeras/datasets/weizmann/dummy_data, absent from an editable install.
    EXAMPLE_DIR = str(DUMMY)


def generate(manual_dir, config="64"):
    """{split: [(key, example)]} and the Report of a build, without writing a dataset (fast)."""
    builder = weizmann.Builder(config=config)
    report = clips.Report(f"weizmann/{config}", strict=builder.builder_config.strict)
    builder._report = report
    generators = builder._split_generators(types.SimpleNamespace(manual_dir=manual_dir))
    return {split: list(examples) for split, examples in generators.items()}, report


def subjects_by_split(examples):
    return {split: {e["subject"] for _, e in items} for split, items in examples.items()}


@pytest.fixture
def raw(tmp_path):
    """A writable copy of the dummy videos."""
    shutil.copytree(DUMMY, tmp_path / "raw")
    return tmp_path / "raw"


def test_every_release_file_name_gets_its_label():
    pairs = itertools.product(weizmann.PEOPLE, weizmann.ACTIONS)
    names = [f"{person}_{action}.avi" for person, action in pairs
             if not (person == "lena" and action in ("run", "skip", "walk"))]
    names += [f"lena_{action}{take}.avi" for action in ("run", "skip", "walk") for take in (1, 2)]
    assert len(names) == weizmann.NUM_FILES
    parsed = [weizmann.parse_name(name) for name in names]
    assert all(parsed)
    assert weizmann.parse_name("lena_run2.avi") == ("lena", "run")
    assert weizmann.parse_name("shahar_wave1.avi") == ("shahar", "wave1")
    assert weizmann.parse_name("Daria_Bend.AVI") == ("daria", "bend")
    for stray in ("bob_walk.avi", "daria_dance.avi", "daria_wave.avi", "daria_bend.mp4", "bend.avi"):
        assert weizmann.parse_name(stray) is None, stray


def test_clips_in_order_with_their_labels():
    examples, report = generate(DUMMY)
    assert {split: len(items) for split, items in examples.items()} == {"train": 8, "test": 2}
    assert subjects_by_split(examples) == {"train": {"daria", "lena"}, "test": {"ido"}}
    labels = {key.rsplit("/", 1)[0]: e["action"] for key, e in examples["train"] + examples["test"]}
    assert labels == {"daria_bend": "bend", "daria_wave1": "wave1", "lena_run1": "run", "lena_run2": "run",
                      "ido_jack": "jack"}
    for _, example in examples["train"] + examples["test"]:
        video = example["video"]
        assert video.shape == (16, 64, 64, 3) and video.dtype == np.uint8
        band = video[:, 3:12].mean(axis=(1, 2, 3))  # 6 x the frame number (Motion JPEG: lossy)
        expected = make_dummy_data.BAND_STEP * (example["clip_start"] + np.arange(16))
        np.testing.assert_allclose(band, expected, atol=6)
    assert report.skipped["too_short"] == 1  # daria_side: 12 frames


def test_split_is_fixed_by_the_nine_people():
    splits = clips.subject_splits(weizmann.PEOPLE, 0.2, seed=0)
    assert sorted(p for p, s in splits.items() if s == "test") == ["ido", "shahar"]


def test_videos_in_subfolders_are_found(raw):
    (raw / "run").mkdir()
    shutil.move(raw / "lena_run1.avi", raw / "run" / "lena_run1.avi")
    examples, _ = generate(raw)
    assert len(examples["train"]) == 8


def _truncated_avi(raw):
    path = raw / "lena_run1.avi"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path, "corrupt"


def _garbage_avi(raw):
    path = raw / "daria_wave1.avi"
    path.write_bytes(np.random.default_rng(2).bytes(3000))
    return path, "corrupt"


def _empty_avi(raw):
    path = raw / "daria_jump.avi"
    path.write_bytes(b"")
    return path, "empty"


def _stray_file(raw):
    path = raw / "README.txt"
    path.write_text("Weizmann actions")
    return path, "stray"


def _zip_left_over(raw):
    path = raw / "bend.zip"
    path.write_bytes(b"PK\x03\x04")
    return path, "stray"


def _unknown_name(raw):
    path = raw / "bob_walk.avi"
    shutil.copy(raw / "daria_bend.avi", path)
    return path, "stray"


def _missing_subject(raw):
    for name in ("lena_run1.avi", "lena_run2.avi"):  # every video of lena is unreadable
        (raw / name).write_bytes(b"RIFF" + b"\x00" * 100)
    return raw / "lena_*.avi", "missing_subject"


BAD_INPUTS = [_truncated_avi, _garbage_avi, _empty_avi, _stray_file, _zip_left_over, _unknown_name,
              _missing_subject]
CLIPS_LEFT = {"_truncated_avi": (6, 2), "_garbage_avi": (6, 2), "_missing_subject": (4, 2)}


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=lambda f: f.__name__[1:])
def test_bad_input_is_skipped_and_named_by_default(raw, make_bad, caplog):
    path, kind = make_bad(raw)
    with caplog.at_level(logging.WARNING):
        examples, report = generate(raw)
    assert f"skipped {path}" in caplog.text
    assert report.skipped[kind] == 1
    if kind == "missing_subject":
        assert "subject lena has no usable video (2 found)" in caplog.text
        assert report.skipped["corrupt"] == 2
    else:
        assert sum(report.skipped[k] for k in clips.BAD_INPUT) == 1
    train, test = CLIPS_LEFT.get(make_bad.__name__, (8, 2))
    assert (len(examples["train"]), len(examples["test"])) == (train, test)
    assert subjects_by_split(examples)["test"] == {"ido"}


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=lambda f: f.__name__[1:])
def test_strict_config_fails_on_bad_input_and_leaves_no_dataset(raw, make_bad, tmp_path):
    path, kind = make_bad(raw)
    if kind == "missing_subject":
        path = raw / "lena_run1.avi"  # strict stops at the first of lena's broken files
    with pytest.raises(UserError, match=re.escape(str(path)) + ": .*; fix or remove it .*config '64'"):
        registry.prepare("weizmann", data_dir=str(tmp_path / "data"), manual_dir=str(raw), config="64_strict")
    assert not registry.is_prepared(registry.get_builder("weizmann", data_dir=str(tmp_path / "data"),
                                                       config="64_strict"))
    assert not list((tmp_path / "data").rglob("dataset_info.json"))


def test_no_video_at_all_names_the_layout(tmp_path):
    (tmp_path / "notes.txt").write_text("no videos here")
    with pytest.raises(UserError, match=r"no Weizmann \.avi file in .*<person>_<action>\.avi"):
        generate(tmp_path)
