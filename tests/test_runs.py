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


@pytest.mark.parametrize("case", ["other_config", "init_from_nowhere"])
def test_the_trainer_refuses_a_run_before_reading_data(workdir, tmp_path, case):
    """trainer.train (a library caller's entry) says what `rjkeras.train` says before TensorFlow's
    import, before it prepares or reads any data: the data dir stays empty."""
    from rjkeras import trainer

    path, config = workdir
    data_dir = tmp_path / "tfds"
    if case == "other_config":
        config = config_lib.resolve("rjvae", "synthetic_sprites", size="tiny", overrides={
            "data.data_dir": str(data_dir), "data.image_size": 32})
        expected = "holds a run with a different config"
    else:
        config = config_lib.resolve("rjgan", "synthetic_sprites", size="tiny", overrides={
            "data.data_dir": str(data_dir), "train.init_from": str(tmp_path / "nowhere")})
        path, expected = str(tmp_path / "new_run"), "--init_from must be a work dir"
    with pytest.raises(UserError, match=expected):
        trainer.train(config, path, strategy="one_device")
    assert not data_dir.exists()
