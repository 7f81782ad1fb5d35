"""Tests of `python -m rjkeras.prepare`, driven as a user would, in subprocesses."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from rjkeras.data import registry
from rjkeras.errors import UserError


def _cli(*args, check_rc=None):
    result = subprocess.run([sys.executable, "-m", "rjkeras.prepare", *args], capture_output=True,
                            text=True, timeout=120)
    if check_rc is not None:
        assert result.returncode == check_rc, result.stdout + result.stderr
    return result


def _error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_builds_tiny_then_reuses_it(tmp_path):
    first = _cli("synthetic_sprites", "--config=tiny", f"--data_dir={tmp_path}", check_rc=0)
    assert f"Prepared synthetic_sprites/tiny/1.0.0 in {tmp_path}" in first.stdout
    assert "test: 36, train: 72" in first.stdout
    assert "Generating" in first.stdout + first.stderr  # TFDS's progress bars
    files = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    second = _cli("synthetic_sprites", "--config=tiny", f"--data_dir={tmp_path}", check_rc=0)
    assert "Reused synthetic_sprites/tiny/1.0.0" in second.stdout
    assert {p: p.stat().st_mtime_ns for p in files} == files  # nothing rebuilt or touched


def test_interrupted_build_is_built_again(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "rjkeras.prepare", "synthetic_sprites", "--config=tiny",
         f"--data_dir={tmp_path}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config_dir = tmp_path / "synthetic_sprites" / "tiny"
    deadline = time.time() + 60
    while not list(config_dir.glob("incomplete.*")) and process.poll() is None:
        assert time.time() < deadline, "the build never started"
        time.sleep(0.01)
    assert process.poll() is None, "the build ended before it could be interrupted"
    os.kill(process.pid, signal.SIGKILL)  # as a power cut would: no clean-up runs
    process.wait()
    assert not (config_dir / "1.0.0").exists()
    again = _cli("synthetic_sprites", "--config=tiny", f"--data_dir={tmp_path}", check_rc=0)
    assert "Prepared synthetic_sprites/tiny/1.0.0" in again.stdout


def test_unknown_dataset_is_one_line_exit_2(tmp_path):
    result = _cli("mnist", f"--data_dir={tmp_path}", check_rc=2)
    expected = "error: unknown dataset 'mnist'; choose one of: mug, nir, sprites, synthetic_sprites, weizmann"
    assert result.stderr.strip() == expected
    assert "Traceback" not in result.stderr


def test_sprites_without_manual_dir_names_the_files(tmp_path):
    result = _cli("sprites", f"--data_dir={tmp_path}", check_rc=2)
    assert "Traceback" not in result.stderr
    [line] = _error_lines(result.stderr)
    assert "walk_front_frames_train.npy" in line and "--manual_dir" in line


def test_sprites_with_wrong_manual_dir_names_the_missing_file(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "walk_front_frames_train.npy").write_bytes(b"")
    result = _cli("sprites", f"--data_dir={tmp_path / 'data'}", f"--manual_dir={tmp_path / 'raw'}",
                  check_rc=2)
    [line] = _error_lines(result.stderr)
    assert f"missing file {tmp_path / 'raw' / 'walk_front_attributes_train.npy'}" in line
    assert "MANUAL_DOWNLOAD_INSTRUCTIONS" in line


def test_unknown_config_lists_the_valid_ones():
    with pytest.raises(UserError, match="unknown config 'huge'.*default, small, tiny"):
        registry.get_builder("synthetic_sprites", config="huge")


def test_registry_names_import_lazily():
    assert set(registry.DATASETS) >= {"synthetic_sprites", "sprites"}
    assert all(isinstance(module, str) for module in registry.DATASETS.values())
    assert registry.builder_class("sprites").__module__ == registry.DATASETS["sprites"]


def test_sprites_builds_from_a_manual_dir(tmp_path):
    manual = pathlib.Path(sys.modules[registry.DATASETS["sprites"]].__file__).parent / "dummy_data"
    builder = registry.prepare("sprites", data_dir=str(tmp_path), manual_dir=str(manual))
    assert {s: i.num_examples for s, i in builder.info.splits.items()} == {"train": 18, "test": 9}
