"""Strategies by name. MultiWorkerMirroredStrategy: two worker processes on localhost train one
tiny RJGAN.

Each worker runs the real command (`tests/train_harness.py` = `python -m rjkeras.train` plus a dump
of its final weights outside the work dir) with its own TF_CONFIG and its OWN work dir, as on two
machines without a shared disk: the chief's work dir gets config, checkpoints, summaries and the
export; the other worker's stays absent, and on resume it gets the chief's state by broadcast.
"""

import json
import os
import socket
import subprocess
import sys

import forkserver
import numpy as np
import pytest
import tensorflow as tf

from rjkeras import config as config_lib
from rjkeras import trainer
from rjkeras.models import build_model, compile_model
from test_train_cli import tensorboard_events, train
from testing_utils import assert_one_line_error

pytestmark = pytest.mark.slow
HARNESS = os.path.join(os.path.dirname(__file__), "train_harness.py")


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def run_cluster(tmp_path, data_dir, steps, extra=()):
    """Both workers to the end; returns their CompletedProcess-like results and weights."""
    workers = [f"localhost:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                         "task": {"type": "worker", "index": index}}),
                   HARNESS_DUMP_WEIGHTS=str(tmp_path / f"weights{index}.npz"))
        args = [sys.executable, HARNESS, "--model=rjgan", "--size=tiny", "--dataset_config=tiny",
                f"--data_dir={data_dir}", f"--workdir={tmp_path / f'workdir{index}'}",
                "--strategy=multi_worker", f"--steps={steps}", "--checkpoint_every=4", *extra]
        processes.append(forkserver.Popen(args, env=env))
    outputs = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            for p in processes:
                p.kill()
            raise
        outputs.append((process.returncode, err))
    for code, err in outputs:
        assert code == 0, err
    weights = []
    for index in range(2):
        with np.load(tmp_path / f"weights{index}.npz") as data:
            weights.append([data[f"arr_{i}"] for i in range(len(data.files))])
    return [err for _, err in outputs], weights


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("tfds"))
    # Prepared once up front; concurrent preparation is covered by the lock in rjkeras.data.registry.
    from rjkeras.data import registry
    registry.prepare("synthetic_sprites", data_dir=path, config="tiny")
    return path


def assert_equal_weights(weights):
    assert len(weights[0]) == len(weights[1])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_two_workers_end_equal_and_only_the_chief_writes(tmp_path, data_dir):
    errs, weights = run_cluster(tmp_path, data_dir, steps=6, extra=["--export"])
    assert "over 2 replica(s) on 2 worker(s) (this one: worker 0)" in errs[0]
    assert "(this one: worker 1)" in errs[1]
    assert_equal_weights(weights)
    chief, other = tmp_path / "workdir0", tmp_path / "workdir1"
    assert not other.exists(), list(other.rglob("*"))  # worker 1 wrote nothing at all
    assert sorted(os.listdir(chief)) == ["checkpoints", "config.json", "saved_model", "tensorboard"]
    state = tf.train.get_checkpoint_state(str(chief / "checkpoints"))
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == ["ckpt-4", "ckpt-6"]
    assert len(os.listdir(chief / "tensorboard" / "train")) == 1  # one writer: the chief's
    assert tensorboard_events(str(chief))["generator/loss"] == [5, 6]  # tiny: log_every=5, + the end
    # The chief's checkpoint holds the state both workers ended with (step counters included).
    config = config_lib.load_workdir_config(str(chief))
    model = compile_model(build_model(config), config)
    assert trainer.restore(model, str(chief)) == 6
    variables = trainer._state_variables(model)
    # (Keras' own RNG state of the GRU layer is not checkpointed, and training never uses it.)
    kept = [i for i, v in enumerate(variables) if "seed_generator" not in v.path]
    assert_equal_weights([[variables[i].numpy() for i in kept], [weights[0][i] for i in kept]])

    # Resume with more steps: worker 1 still has no work dir and takes the chief's state.
    errs, weights = run_cluster(tmp_path, data_dir, steps=10)
    assert "at step 6" in errs[0] and "resumed from the chief's checkpoint at step 6" in errs[1]
    assert_equal_weights(weights)
    assert not other.exists()
    assert tensorboard_events(str(chief))["generator/loss"] == [5, 6, 10]


def test_multi_worker_without_tf_config_is_one_clear_line(tmp_path, data_dir, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = train("--model=rjgan", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
                   f"--workdir={tmp_path}", "--strategy=multi_worker")
    assert_one_line_error(result, "--strategy=multi_worker needs the TF_CONFIG environment variable")


def test_malformed_tf_config_is_one_clear_line(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["localhost:1"]},
                                                "task": {"type": "worker", "index": 3}}))
    result = train("--model=rjgan", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
                   f"--workdir={tmp_path}", "--strategy=multi_worker")
    assert_one_line_error(result, "TF_CONFIG's task", "is not in its cluster")
    monkeypatch.setenv("TF_CONFIG", "{cluster: nope")
    result = train("--model=rjgan", "--size=tiny", f"--workdir={tmp_path}", "--strategy=multi_worker")
    assert_one_line_error(result, "TF_CONFIG is not valid JSON")


def test_one_device_strategy_trains_on_one_replica(tmp_path, data_dir):
    from rjkeras import distribute

    strategy = distribute.make_strategy("one_device")
    assert isinstance(strategy, tf.distribute.OneDeviceStrategy) and distribute.is_chief(strategy)
    result = train("--model=rjvae", "--size=tiny", "--dataset_config=tiny", f"--data_dir={data_dir}",
                   f"--workdir={tmp_path}", "--steps=2", "--strategy=one_device")
    assert result.returncode == 0, result.stderr
    assert "over 1 replica(s) on 1 worker(s)" in result.stderr
    state = tf.train.get_checkpoint_state(str(tmp_path / "checkpoints"))
    assert state.model_checkpoint_path.endswith("ckpt-2")
