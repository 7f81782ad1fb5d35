"""The paper's image pre-training: --init_from copies an image GAN's G_I and D_I into RJGAN."""

import numpy as np
import pytest

from rjkeras import config as config_lib
from rjkeras import runs
from rjkeras import trainer
from rjkeras.errors import UserError
from rjkeras.models import build_model, compile_model


def saved_run(workdir, model, **overrides):
    """A work dir holding a config and one checkpoint of a freshly initialised model."""
    config = config_lib.resolve(model, "synthetic_sprites", size="tiny",
                                overrides={f"train.{k}" if k == "seed" else f"model.{k}": v
                                           for k, v in overrides.items()})
    runs.write_config(str(workdir), config)
    instance = compile_model(build_model(config), config)
    trainer.checkpoint_manager(instance, str(workdir)).save(checkpoint_number=1)
    return instance


def test_init_from_copies_image_networks_exactly(tmp_path):
    source = saved_run(tmp_path / "image", "image_gan", seed=7)
    config = config_lib.resolve("rjgan", "synthetic_sprites", size="tiny",
                                overrides={"train.init_from": str(tmp_path / "image")})
    model = compile_model(build_model(config), config)
    before = {v.path: v.numpy() for v in model.video_discriminator.weights + model.motion_rnn.weights}
    trainer.initialize_from(model, config, str(tmp_path / "image"))
    for name in ("image_generator", "image_discriminator"):
        mine, theirs = getattr(model, name).weights, getattr(source, name).weights
        assert len(mine) == len(theirs) > 0
        for a, b in zip(mine, theirs):
            np.testing.assert_array_equal(a.numpy(), b.numpy())  # BN statistics included
    for v in model.video_discriminator.weights + model.motion_rnn.weights:
        np.testing.assert_array_equal(v.numpy(), before[v.path])  # the rest is RJGAN's own
    # And RJGAN's summary frames are now the image GAN's images of the same latents.
    z = np.random.default_rng(0).normal(size=(2, config.model.latent_dim)).astype("float32")
    np.testing.assert_allclose(model.summary_frames(z), source.summary_frames(z), atol=1e-6)


def test_init_from_a_mismatched_generator_is_refused(tmp_path):
    saved_run(tmp_path / "wide", "image_gan", ngf=8)
    config = config_lib.resolve("rjgan", "synthetic_sprites", size="tiny")
    model = compile_model(build_model(config), config)
    with pytest.raises(UserError, match="does not fit this model"):
        trainer.initialize_from(model, config, str(tmp_path / "wide"))


def test_init_from_a_vae_run_is_refused(tmp_path):
    saved_run(tmp_path / "vae", "rjvae")
    config = config_lib.resolve("rjgan", "synthetic_sprites", size="tiny")
    model = compile_model(build_model(config), config)
    with pytest.raises(UserError, match="must be a GAN run"):
        trainer.initialize_from(model, config, str(tmp_path / "vae"))


def test_mocogan_refuses_a_pretrained_image_generator():
    with pytest.raises(UserError, match="MoCoGAN cannot start from a pre-trained image generator"):
        config_lib.resolve("mocogan", "synthetic_sprites", overrides={"train.init_from": "x"})
