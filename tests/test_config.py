"""Config resolution: defaults < preset < size overlay < overrides, validated before any work."""

import configparser
import os

import pytest

from rjkeras import config as config_lib
from rjkeras.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_layers_apply_in_order():
    paper = config_lib.resolve("rjvae", "synthetic_sprites")
    assert (paper.model.summary_dim, paper.model.residual_dim, paper.train.batch_size) == (256, 256, 25)
    assert paper.data.image_size == 64 and paper.data.num_frames == 8
    small = config_lib.resolve("rjvae", "synthetic_sprites", size="small")
    assert small.data.image_size == 32 and small.model.hidden_dim == 128
    over = config_lib.resolve("rjvae", "synthetic_sprites", size="small",
                              overrides={"train.steps": "7", "model.frame_scale": "0.5"})
    assert over.train.steps == 7 and over.model.frame_scale == 0.5
    assert over.model.hidden_dim == 128  # the overlay still applies beneath the override


def test_dsa_defaults_are_the_baselines():
    c = config_lib.resolve("dsa", "sprites")
    assert (c.model.summary_dim, c.model.residual_dim, c.model.hidden_dim) == (256, 32, 512)
    assert (c.model.conv_channels, c.model.feature_dim, c.train.batch_size) == (256, 2048, 25)


@pytest.mark.parametrize("model", ["rjvae", "dsa"])
def test_the_vaes_run_one_op_at_a_time_at_64x64_only(model):
    # Each op of the 64x64 VAEs fills the cores (rjkeras.runtime.limit_concurrent_ops); the small
    # and tiny networks' ops do not, and keep TensorFlow's default; the GANs keep it everywhere.
    assert config_lib.resolve(model, "synthetic_sprites").train.inter_op_threads == 1
    for size in ("small", "tiny"):
        assert config_lib.resolve(model, "synthetic_sprites", size=size).train.inter_op_threads == 0
    assert config_lib.resolve("rjgan", "synthetic_sprites").train.inter_op_threads == 0


def test_every_model_dataset_pair_has_a_preset_and_sizes():
    from rjkeras.data.registry import DATASETS

    for model in config_lib.MODEL_CONFIGS:
        for dataset in DATASETS:
            assert os.path.exists(os.path.join(config_lib.CONFIGS_DIR, f"{model}_{dataset}.json"))
        for size in ("small", "tiny"):
            config_lib.resolve(model, "synthetic_sprites", size=size)  # loads and validates


def test_json_round_trip():
    c = config_lib.resolve("dsa", "synthetic_sprites", size="tiny", overrides={"data.data_dir": "/x"})
    back = config_lib.from_dict(__import__("json").loads(c.to_json()))
    assert back == c


def test_diff_ignores_training_fields_and_data_location():
    a = config_lib.resolve("rjvae", "synthetic_sprites", size="tiny")
    b = config_lib.resolve("rjvae", "synthetic_sprites", size="tiny",
                           overrides={"train.steps": 99, "data.data_dir": "/elsewhere"})
    assert config_lib.diff(a, b) == []
    c = config_lib.resolve("rjvae", "synthetic_sprites", size="tiny", overrides={"data.image_size": 32})
    assert config_lib.diff(a, c) == ["data.image_size 16 -> 32"]


@pytest.mark.parametrize("overrides,message", [
    ({"model.nope": 1}, "unknown config key 'model.nope'"),
    ({"steps": 1}, "unknown config key 'steps'"),
    ({"train.steps": "1.5"}, "expects int"),
    ({"train.image_every": 7}, "multiple of"),
    ({"train.batch_size": 0}, "train.batch_size=0"),
    ({"train.inter_op_threads": -1}, "train.inter_op_threads=-1: must be 0"),
    ({"data.image_size": 12}, "multiple of 8"),
    ({"model.residual_dim": 3}, "must equal model.summary_dim"),
    ({"model.prior_inputs": "own"}, "model.prior_inputs='own': choose posterior or prior"),
])
def test_invalid_configs_are_refused(overrides, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(".", r"\.")):
        config_lib.resolve("rjvae", "synthetic_sprites", overrides=overrides)


def test_instance_noise_placement_is_checked():
    with pytest.raises(UserError, match="model.instance_noise_at='conv': choose inputs or every_conv"):
        config_lib.resolve("mocogan", "synthetic_sprites", overrides={"model.instance_noise_at": "conv"})


def test_bad_preset_file_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="broken.json: not valid JSON"):
        config_lib.resolve("rjvae", "synthetic_sprites", preset=str(path))
    with pytest.raises(UserError, match="unknown preset 'nosuch'"):
        config_lib.resolve("rjvae", "synthetic_sprites", preset="nosuch")


def test_setup_cfg_lists_every_package():
    """A package folder missing from setup.cfg would be absent from a non-editable install."""
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, "setup.cfg"))
    listed = set(parser["options"]["packages"].split())
    mapping = dict(line.split(" = ") for line in parser["options"]["package_dir"].strip().splitlines())
    found = set()
    for package, folder in mapping.items():
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, folder)):
            dirnames[:] = [d for d in dirnames if d not in ("__pycache__", "dummy_data")]
            if "__init__.py" in filenames:
                rel = os.path.relpath(dirpath, os.path.join(ROOT, folder))
                found.add(package if rel == "." else package + "." + rel.replace(os.sep, "."))
    assert found == listed


def test_family_defaults_are_written_once():
    """Every GAN preset gets MoCoGAN's optimiser and every VAE preset DSA's batch from
    configs/families/, and no preset restates a family default."""
    import json

    from rjkeras.data.registry import DATASETS

    families = {}
    for family in ("gan", "vae"):
        with open(os.path.join(config_lib.CONFIGS_DIR, "families", f"{family}.json")) as f:
            families[family] = json.load(f)["train"]
    for name in config_lib.available_presets():
        model = next(m for m in sorted(config_lib.MODEL_CONFIGS, key=len, reverse=True)
                     if name.startswith(m + "_"))
        with open(os.path.join(config_lib.CONFIGS_DIR, f"{name}.json")) as f:
            train = json.load(f).get("train", {})
        family = families["gan" if model in config_lib.GAN_MODELS else "vae"]
        assert not {k for k, v in train.items() if family.get(k) == v}, name
    for dataset in DATASETS:
        t = config_lib.resolve("rmocogan", dataset).train
        assert (t.batch_size, t.learning_rate, t.beta_1, t.beta_2, t.weight_decay) == (16, 2e-4, 0.5, 0.999, 1e-5)
        assert config_lib.resolve("rjvae", dataset).train.batch_size == 25
