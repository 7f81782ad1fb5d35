"""Tests of the mug builder on dummy_data/ (MUG's own layout, 3 subjects) and of `clips` (the code it shares with nir and weizmann).

Bad input is made in copies of the dummy data: one test per kind, each run with the default config
(skipped, named in the log, counted) and with the strict one (a UserError naming the file, and no
dataset left behind).
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
from rjkeras.datasets.clips_test import FakeDetector
from rjkeras.datasets.mug import make_dummy_data
from rjkeras.datasets.mug import mug_dataset_builder as mug
from rjkeras.errors import UserError

DUMMY = pathlib.Path(__file__).parent / "dummy_data"


class MugTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = mug.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["64", "32_strict"]  # clean data passes the strict config
    SPLITS = {"train": 8, "test": 4}
    # TFDS would infer rjkeras/datasets/mug/dummy_data, absent from an editable install.
    EXAMPLE_DIR = str(DUMMY)


# ---------------------------------------------------------------------------------------------
# Helpers.


def generate(manual_dir, config="64"):
    """{split: [(key, example)]} and the Report of a build, without writing a dataset (fast)."""
    builder = mug.Builder(config=config)
    report = clips.Report(f"mug/{config}", strict=builder.builder_config.strict)
    builder._report = report
    generators = builder._split_generators(types.SimpleNamespace(manual_dir=manual_dir))
    return {split: list(examples) for split, examples in generators.items()}, report


def subjects_by_split(examples):
    return {split: {e["subject"] for _, e in items} for split, items in examples.items()}


@pytest.fixture(scope="module")
def clean():
    return generate(DUMMY)


@pytest.fixture
def raw(tmp_path):
    """A writable copy of the dummy release; returns its subjects3 folder."""
    shutil.copytree(DUMMY / "subjects3", tmp_path / "raw" / "subjects3")
    return tmp_path / "raw" / "subjects3"


# ---------------------------------------------------------------------------------------------
# What the clips hold.


def test_clips_hold_frames_in_numeric_order_with_their_labels(clean):
    examples, report = clean
    assert {split: len(items) for split, items in examples.items()} == {"train": 8, "test": 4}
    for key, example in examples["train"] + examples["test"]:
        video = example["video"]
        assert video.shape == (16, 64, 64, 3) and video.dtype == np.uint8
        # The band's grey level is 6 x the frame number (img_1 ... img_40); clips take every other
        # frame: a lexical sort (img_1, img_10, img_11, ...) would break the steps of 12.
        band = video[:, 3:12].mean(axis=(1, 2, 3))
        first = example["clip_start"] + 1
        np.testing.assert_allclose(band, make_dummy_data.BAND_STEP * (first + 2 * np.arange(16)), atol=3)
        assert key.endswith(f"/{example['clip_start']:04d}") and "dummy_data" not in key
    labels = {(e["subject"], e["expression"]) for _, e in examples["train"] + examples["test"]}
    assert labels == {(1, "anger"), (1, "happiness"), (2, "fear"), (2, "surprise"), (8, "disgust"),
                      (8, "sadness")}  # neutral dropped, 002/sadness too short
    # Clips of one raw video share its video_id; each video gives the clips starting at 0 and 8.
    starts = {}
    for _, e in examples["train"] + examples["test"]:
        starts.setdefault(e["video_id"], []).append(e["clip_start"])
    assert sorted(map(sorted, starts.values())) == [[0, 8]] * 6
    assert report.skipped["too_short"] == 1 and sum(report.skipped[k] for k in clips.BAD_INPUT) == 0


def test_32_config_and_sessions():
    examples, _ = generate(DUMMY, config="32")
    assert examples["train"][0][1]["video"].shape == (16, 32, 32, 3)
    keys = {key.rsplit("/", 1)[0] for key, _ in examples["train"]}
    assert "002/session1/fear/take000" in keys and "002/session2/surprise/take003" in keys


def test_manual_dir_may_be_subjects3_itself():
    examples, _ = generate(DUMMY / "subjects3")
    assert len(examples["train"]) == 8


def test_build_without_manual_dir_names_the_layout(tmp_path):
    builder = mug.Builder(data_dir=tmp_path / "data")
    config = tfds.download.DownloadConfig(manual_dir=tmp_path / "nothing", try_download_gcs=False)
    with pytest.raises(UserError, match=r"missing manual_dir .*subjects3/<NNN>/"):
        builder.download_and_prepare(download_config=config)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("not MUG")
    with pytest.raises(UserError, match="no MUG subject folder in"):
        generate(tmp_path / "other")


# ---------------------------------------------------------------------------------------------
# Splits by subject.


def test_no_subject_is_in_two_splits(clean):
    by_split = subjects_by_split(clean[0])
    assert by_split == {"train": {1, 2}, "test": {8}}
    splits = clips.subject_splits(mug.SUBJECT_IDS, 0.2, seed=0)
    assert set(splits) == set(mug.SUBJECT_IDS) and sum(s == "test" for s in splits.values()) == 200
    other = clips.subject_splits(mug.SUBJECT_IDS, 0.2, seed=1)
    assert other != splits  # the seed picks the test subjects


def test_split_does_not_move_when_a_subject_is_missing(raw):
    shutil.rmtree(raw / "002")  # gone altogether
    examples, _ = generate(raw.parent)
    assert subjects_by_split(examples) == {"train": {1}, "test": {8}}
    (raw / "002").mkdir()  # present but empty: a missing subject, named
    examples, report = generate(raw.parent)
    assert subjects_by_split(examples) == {"train": {1}, "test": {8}}
    assert report.skipped["missing_subject"] == 1


def test_a_split_without_subjects_is_a_user_error(raw):
    shutil.rmtree(raw / "008")
    message = r"no video of a test subject .* \(001, 002\) are all train subjects under split_seed=0"
    with pytest.raises(UserError, match=message):
        generate(raw.parent)


# ---------------------------------------------------------------------------------------------
# Bad input: one case per kind. Each returns the path the log must name.


def _truncated_jpeg(raw):
    path = raw / "001" / "anger" / "take000" / "img_5.jpg"  # a frame some clip uses
    path.write_bytes(path.read_bytes()[:300])
    return path, "corrupt"


def _garbage_jpeg(raw):
    path = raw / "008" / "disgust" / "take000" / "img_3.jpg"
    path.write_bytes(np.random.default_rng(0).bytes(500) + b"\xff\xd9")  # ends like a JPEG
    return path, "corrupt"


def _empty_take(raw):
    path = raw / "001" / "happiness" / "take009"
    path.mkdir()
    return path, "empty"


def _stray_file(raw):
    path = raw / "002" / "session1" / "fear" / "take000" / "notes.txt"
    path.write_text("not a frame")
    return path, "stray"


def _stray_folder(raw):
    path = raw / "002" / "contempt"
    path.mkdir()
    return path, "stray"


def _missing_subject(raw):
    path = raw / "005"
    path.mkdir()
    return path, "missing_subject"


BAD_INPUTS = [_truncated_jpeg, _garbage_jpeg, _empty_take, _stray_file, _stray_folder, _missing_subject]
# Clips left per split: a corrupt frame costs its take (2 clips); the rest cost nothing written.
CLIPS_LEFT = {"_truncated_jpeg": (6, 4), "_garbage_jpeg": (8, 2)}


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=lambda f: f.__name__[1:])
def test_bad_input_is_skipped_and_named_by_default(raw, make_bad, caplog):
    path, kind = make_bad(raw)
    (raw / "001" / "anger" / ".DS_Store").write_bytes(b"\0")  # clutter: ignored without a word
    with caplog.at_level(logging.WARNING):
        examples, report = generate(raw.parent)
    assert f"skipped {path}" in caplog.text
    assert ".DS_Store" not in caplog.text
    assert report.skipped[kind] == 1
    assert sum(report.skipped[k] for k in clips.BAD_INPUT) == 1
    train, test = CLIPS_LEFT.get(make_bad.__name__, (8, 4))
    assert (len(examples["train"]), len(examples["test"])) == (train, test)
    assert subjects_by_split(examples)["test"] == {8}  # no subject changed sides


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=lambda f: f.__name__[1:])
def test_strict_config_fails_on_bad_input_and_leaves_no_dataset(raw, make_bad, tmp_path):
    path, _ = make_bad(raw)
    with pytest.raises(UserError, match=re.escape(str(path)) + ": .*; fix or remove it .*config '64'"):
        registry.prepare("mug", data_dir=str(tmp_path / "data"), manual_dir=str(raw.parent),
                         config="64_strict")
    builder = registry.get_builder("mug", data_dir=str(tmp_path / "data"), config="64_strict")
    assert not registry.is_prepared(builder)
    assert not list((tmp_path / "data").rglob("dataset_info.json"))  # nothing half-written kept


def test_build_logs_a_summary_and_records_it(raw, tmp_path, caplog):
    for make_bad in BAD_INPUTS:
        make_bad(raw)
    with caplog.at_level(logging.WARNING):
        builder = registry.prepare("mug", data_dir=str(tmp_path / "data"), manual_dir=str(raw.parent))
    summary = [r.getMessage() for r in caplog.records if "wrote" in r.getMessage()]
    assert summary[-1].startswith("mug/64: wrote 8 clips (train 6, test 2) from 4 videos of 3 subjects; "
                                  "skipped: 2 corrupt or truncated files, 1 empty video (no frame), 2 stray "
                                  "files or folders, 1 subject without a usable video; left out: 1 video "
                                  "shorter than one clip")
    assert {s: i.num_examples for s, i in builder.info.splits.items()} == {"train": 6, "test": 2}
    reloaded = registry.get_builder("mug", data_dir=str(tmp_path / "data"))
    assert reloaded.info.metadata["preparation"]["skipped"]["corrupt"] == 2


# ---------------------------------------------------------------------------------------------
# Reading and cropping MUG's frames (the generic readers and crops: datasets/clips_test.py).


def test_one_face_crop_for_every_frame_of_a_video(monkeypatch):
    # A fake detection on the middle frame: every frame is cropped to the same widened box.
    detector = FakeDetector([(10, 6, 15, 15)])
    monkeypatch.setattr(clips, "face_detector", lambda: detector)
    video = mug.scan(DUMMY, clips.Report("mug/test")).videos[0]
    config = mug.Builder.builder_configs["64"]
    report = clips.Report("mug/test")
    frames = clips.load_frame_folder(video, config, report, grey=False)
    box = clips.face_crop_box((10, 6, 15, 15), (32, 40))
    assert box == (8, 4, 18)
    for index in (0, 20, 38):
        raw = clips.read_jpeg(video.frames[index])
        np.testing.assert_array_equal(frames[index], clips.crop_resize(raw, box, 64))
    assert detector.shapes == [(32, 40)] and report.skipped["no_face"] == 0


def test_all_subjects_config_puts_every_subject_in_train(clean, raw):
    """MoCoGAN's protocol (`64_all`): every subject in train, no test split, the same clips."""
    examples, _ = generate(DUMMY, config="64_all")
    assert set(examples) == {"train"}
    assert subjects_by_split(examples) == {"train": {1, 2, 8}}
    held_out = {key for split in clean[0].values() for key, _ in split}
    assert {key for key, _ in examples["train"]} == held_out  # the 8 + 4 clips of the 80/20 split
    # A copy without a test subject cannot build the held-out split, but builds this one.
    shutil.rmtree(raw / "008")
    with pytest.raises(UserError, match="no video of a test subject"):
        generate(raw.parent)
    examples, _ = generate(raw.parent, config="64_all")
    assert subjects_by_split(examples) == {"train": {1, 2}}


def test_all_subjects_config_prepares_a_train_split_only(tmp_path):
    builder = registry.prepare("mug", data_dir=str(tmp_path), manual_dir=str(DUMMY), config="64_all")
    assert {split: info.num_examples for split, info in builder.info.splits.items()} == {"train": 12}
