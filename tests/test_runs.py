"""A trained run read back: the work dir's config, its checkpoint, the config beside a SavedModel."""

import os

import pytest

from rjkeras import config as config_lib
from rjkeras import runs
from rjkeras.errors import UserError
from rjkeras.models import build_model, compile_model


@pytest.fixture
def workdir(tmp_path):
    config = config_lib.resolve("rjvae", "synthetic_sprites", size="tiny")
    path = str(tmp_path / "run")
    runs.write_config(path, config)
    return path, config


def test_a_run_without_a_checkpoint_is_refused_in_one_line(workdir):
    path, _ = workdir
    with pytest.raises(UserError, match=r"--workdir=.* has no checkpoint yet: train first"):
        runs.restore_model(path, what=f"--workdir={path}")


def test_restore_model_returns_the_config_the_weights_and_the_step(workdir):
    path, config = workdir
    model = compile_model(build_model(config), config)
    model.optimizer.iterations.assign(7)
    runs.checkpoint_manager(model, path).save(checkpoint_number=7)
    restored_config, restored, step = runs.restore_model(path)
    assert (restored_config, step) == (config, 7)
    for a, b in zip(model.weights, restored.weights):
        assert (a.numpy() == b.numpy()).all()


def test_the_config_beside_a_saved_model(workdir, tmp_path):
    path, config = workdir
    os.makedirs(os.path.join(path, runs.SAVED_MODEL))
    assert runs.config_beside(os.path.join(path, runs.SAVED_MODEL)) == config
    os.makedirs(tmp_path / "elsewhere" / "model")
    assert runs.config_beside(str(tmp_path / "elsewhere" / "model")) is None
