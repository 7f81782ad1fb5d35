"""Runs that die: kill -9 mid-run, a crash while a checkpoint is written, a damaged checkpoint,
SIGTERM. Each time, rerunning the same command resumes from the last good checkpoint, the step
counter goes on, and TensorBoard holds every step exactly once."""

import os
import re
import signal
import subprocess
import sys
import time

import forkserver
import numpy as np
import pytest
import tensorflow as tf

from rjkeras import summaries
from test_train_cli import tensorboard_events, train
from testing_utils import assert_one_line_error

pytestmark = pytest.mark.slow
HARNESS = os.path.join(os.path.dirname(__file__), "train_harness.py")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfds"))


def flags(data_dir, workdir, steps):
    # A scalar every step, so a duplicated or missing step shows; a checkpoint every 3 steps.
    return ["--model=rjvae", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
            f"--workdir={workdir}", f"--steps={steps}", "--checkpoint_every=3",
            "--set=train.log_every=1"]


def latest_step(workdir):
    state = tf.train.get_checkpoint_state(os.path.join(workdir, "checkpoints"))
    return int(state.model_checkpoint_path.rsplit("-", 1)[1]) if state else 0


def start(args, env_extra=None, harness=False, fresh=False):
    """The command, started; `fresh`: in a new interpreter, not forked (tests/forkserver.py)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env_extra or {}))
    command = [sys.executable, HARNESS] if harness else [sys.executable, "-m", "rjkeras.train"]
    return forkserver.Popen(command + args, env=env, fresh=fresh)


def wait_for_checkpoint(process, workdir, step, timeout=240):
    deadline = time.time() + timeout
    while latest_step(workdir) < step:
        assert process.poll() is None, process.communicate()[1]
        assert time.time() < deadline, "no checkpoint in time"
        time.sleep(0.02)


def assert_every_step_once(workdir, steps):
    events = tensorboard_events(workdir)
    assert events["loss"] == list(range(1, steps + 1))
    assert events["speed/steps_per_second"] == list(range(1, steps + 1))


def test_kill_9_mid_run_then_the_same_command_resumes(data_dir, tmp_path):
    args = flags(data_dir, tmp_path, steps=40)
    process = start(args)
    wait_for_checkpoint(process, tmp_path, 6)
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate()
    assert process.returncode == -signal.SIGKILL
    resumed_at = latest_step(tmp_path)
    reached = max(int(s) for s in re.findall(r"step (\d+)/40", err))
    assert 6 <= resumed_at < 40 and reached - resumed_at < 3, (resumed_at, reached)  # <= the interval

    rerun = train(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert f"at step {resumed_at}" in rerun.stderr
    assert re.findall(r"step (\d+)/40", rerun.stderr)[0] == str(resumed_at + 1)  # the counter goes on
    assert latest_step(tmp_path) == 40
    assert_every_step_once(tmp_path, 40)


def test_a_crash_while_a_checkpoint_is_written_leaves_the_previous_one_latest(data_dir, tmp_path):
    args = flags(data_dir, tmp_path, steps=12)
    crashed = start(args, {"HARNESS_CRASH_AT_SAVE": "2"}, harness=True)  # dies writing ckpt-6
    _, err = crashed.communicate(timeout=300)
    assert crashed.returncode == -signal.SIGKILL, err
    names = os.listdir(tmp_path / "checkpoints")
    assert "ckpt-6.index" in names  # the half-written checkpoint is there...
    assert latest_step(tmp_path) == 3  # ...but the latest is still the good one
    assert max(tensorboard_events(tmp_path)["loss"]) == 6  # events were flushed up to step 6

    rerun = train(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert "at step 3" in rerun.stderr
    assert "dropped" in rerun.stderr  # steps 4-6 were logged by the crashed run
    assert latest_step(tmp_path) == 12
    assert_every_step_once(tmp_path, 12)


def test_an_unreadable_latest_checkpoint_falls_back_to_the_one_before(data_dir, tmp_path):
    assert train(*flags(data_dir, tmp_path, steps=6)).returncode == 0
    checkpoints = tmp_path / "checkpoints"
    for name in os.listdir(checkpoints):
        if name.startswith("ckpt-6.data"):
            os.truncate(checkpoints / name, 100)
    rerun = train(*flags(data_dir, tmp_path, steps=9))
    assert rerun.returncode == 0, rerun.stderr
    assert "ckpt-6 is unreadable" in rerun.stderr and "at step 3" in rerun.stderr
    assert latest_step(tmp_path) == 9
    assert_every_step_once(tmp_path, 9)


def test_sigterm_saves_a_checkpoint_and_stops_with_one_line(data_dir, tmp_path):
    args = flags(data_dir, tmp_path, steps=1000)
    process = start(args)
    wait_for_checkpoint(process, tmp_path, 3)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    result = subprocess.CompletedProcess(args, process.returncode, out, err)
    assert_one_line_error(result, "interrupted at step", "checkpoint saved", "rerun the same command")
    stopped = int(re.search(r"interrupted at step (\d+)", err).group(1))
    assert latest_step(tmp_path) == stopped


def test_truncate_events_drops_later_steps_and_a_damaged_tail(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for step in range(1, 11):
            tf.summary.scalar("x", float(step), step=step)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    with open(path, "ab") as f:
        f.write(b"\x10\x00\x00\x00half a record")  # what a kill in mid-write leaves
    assert summaries.truncate_events(str(tmp_path), after_step=4) == 6
    steps = [e.step for e in tf.compat.v1.train.summary_iterator(str(path)) if e.summary.value]
    assert steps == [1, 2, 3, 4]
    assert summaries.truncate_events(str(tmp_path), after_step=4) == 0  # nothing left to drop


def _weights(path):
    with np.load(path) as f:
        return [f[name] for name in sorted(f.files, key=lambda n: int(n.split("_")[1]))]


def test_deterministic_runs_repeat_bit_for_bit_and_a_kill_changes_nothing(data_dir, tmp_path):
    """--deterministic: two runs of one command end with the same weights, and so does a run
    killed with SIGKILL mid-way and resumed by the same command (a GAN: two optimizers, noise)."""
    def args(workdir):
        return ["--model=rjgan", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
                f"--workdir={workdir}", "--steps=24", "--checkpoint_every=4", "--set=train.log_every=1",
                "--deterministic"]

    # Fresh interpreters: forks of one server would share its hash seed, and hide an order that
    # depends on it.
    def run(workdir, dump):
        return start(args(workdir), {"HARNESS_DUMP_WEIGHTS": str(dump)}, harness=True, fresh=True)

    def finish(process, dump):
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        return _weights(dump)

    # The two full runs and the one to be killed run side by side (their imports and traces
    # dominate, and run in parallel on any core count); determinism must not depend on the load.
    runs = [run(tmp_path / name, tmp_path / f"{name}.npz") for name in "ab"]
    killed = start(args(tmp_path / "c"), fresh=True)
    wait_for_checkpoint(killed, tmp_path / "c", 8)
    killed.send_signal(signal.SIGKILL)
    killed.communicate()
    first, second = (finish(process, tmp_path / f"{name}.npz") for process, name in zip(runs, "ab"))
    assert len(first) == len(second) > 10
    assert all(np.array_equal(x, y) for x, y in zip(first, second))
    assert 8 <= latest_step(tmp_path / "c") < 24
    resumed = finish(run(tmp_path / "c", tmp_path / "c.npz"), tmp_path / "c.npz")
    different = [i for i, (x, y) in enumerate(zip(first, resumed)) if not np.array_equal(x, y)]
    assert not different, f"{len(different)} of {len(first)} variables differ after the resume"
