"""Typed run configuration: dataclasses, presets under `configs/`, overrides, validation.

A run's config is resolved in this order, each layer overriding the previous one:

1. the dataclass defaults below (the paper's / baseline's sizes);
2. the model family's defaults `configs/families/{gan,vae}.json` (what all its presets share);
3. the preset `configs/<model>_<dataset>.json` (or a path given with `--config`): what differs;
4. a size overlay `configs/sizes/<model>_<size>.json` (`--size=small|tiny`; `paper` adds nothing);
5. explicit overrides such as `train.steps=500` (the CLI's `--set` and its shortcut flags).

Every layer is checked against the dataclass fields, so a typo is an error naming the key,
not a silently ignored setting. The resolved config is written into the work dir as
`config.json`, which is what `export` and a resumed run read back.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import typing
from typing import Any

from rjkeras.errors import UserError

CONFIGS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
if not os.path.isdir(CONFIGS_DIR):  # installed (non-editable): the folder is the package rjkeras.configs
    CONFIGS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")

SIZES = ("paper", "small", "tiny")


@dataclasses.dataclass
class DataConfig:
    """Which dataset and how its videos are fed to the model."""

    dataset: str = "synthetic_sprites"
    builder_config: str | None = None  # a TFDS BuilderConfig name; None: the builder's default
    data_dir: str | None = None  # None: TFDS's default (~/tensorflow_datasets or $TFDS_DATA_DIR)
    manual_dir: str | None = None  # the user's raw download, for datasets that need one
    image_size: int = 64
    num_frames: int = 8
    image_fraction: float = 0.0  # GANs: share of training videos used only as single frames


@dataclasses.dataclass
class VAEConfig:
    """Sizes of the sequential VAEs (RJVAE and the Disentangled Sequential Autoencoder).

    Defaults are DSA's code: static latent 256, dynamic latent 32, hidden 512,
    a 256-channel conv encoder to 8x8 followed by dense 4096 -> 2048 frame features.
    RJVAE adds its residuals to the summary vector, so its `residual_dim` must equal
    `summary_dim`; its preset sets both to 256 (our choice: DSA's static size).
    """

    summary_dim: int = 256  # RJVAE: mu. DSA: the static latent f.
    residual_dim: int = 32  # RJVAE: delta_t (= summary_dim). DSA: the dynamic latent z_t.
    hidden_dim: int = 512  # LSTM units of the prior and of the bi-LSTM posterior
    conv_channels: int = 256  # channels of every conv layer of the frame encoder and decoder
    feature_dim: int = 2048  # per-frame feature size after the encoder's dense layers
    summary_prior_scale: float = 1.0  # sigma in p(mu) = N(0, sigma^2 I)
    frame_scale: float = 0.7071  # std of the Gaussian frame likelihood; 1/sqrt(2) = DSA's summed MSE
    # What p(d_t | d_<t) is fed in the ELBO: "posterior" (the posterior's samples, the ELBO's KL) or
    # "prior" (its own samples, rolled out as the DSA code the paper compared with does).
    prior_inputs: str = "posterior"


PRIOR_INPUTS = ("posterior", "prior")
INSTANCE_NOISE_AT = ("inputs", "every_conv")


@dataclasses.dataclass
class GANConfig:
    """Sizes of the MoCoGAN family (MoCoGAN, RJGAN, RMoCoGAN, the image-only GAN).

    Defaults are MoCoGAN's code. RJGAN's mu, delta_t and z_t have size
    `latent_dim` = content_dim + motion_dim = 60, so its G_I is exactly MoCoGAN's (our choice).
    """

    content_dim: int = 50  # z_C: MoCoGAN's content, RMoCoGAN's content summary
    motion_dim: int = 10  # z_M^t = h_t of the motion GRU R_M (MoCoGAN, RMoCoGAN)
    noise_dim: int = 10  # e_t / eps_t, R_M's per-step input noise
    category_dim: int = 0  # MoCoGAN's one-hot z_A and D_V's category head; 0 = none
    category_label: str = "action"  # the dataset label D_V's category head learns on real clips
    # MoCoGAN's --use_categories: D_V's category head and both category losses. False feeds z_A to
    # G_I alone, as the official code does by default (z_A is then one more random input).
    category_loss: bool = True
    latent_dim: int = 60  # RJGAN: mu, delta_t, z_t; the image baseline's z
    rnn_dim: int = 60  # RJGAN: GRU size of R_M(eps_t, mu); RMoCoGAN: hidden size of delta_C's MLP
    prior_scale: float = 1.0  # sigma in N(0, sigma^2 I) for mu (RJGAN) and z_C (RMoCoGAN)
    ngf: int = 64  # G_I width
    ndf: int = 64  # D_I and D_V width
    clip_length: int = 16  # frames of the clips D_V judges (S_T); generated videos in training
    clip_stride: int = 1  # S_T's frame stride on real videos
    image_batch_size: int = 10  # frames per step for D_I (train.batch_size is the clip batch)
    summary_every: int = 1  # RJGAN: the G_I(mu) term of eq. (1) enters every k-th step
    instance_noise: float = 0.0  # std of the Gaussian instance noise of the discriminators
    # Where it is added: "inputs" (ours: to D's inputs, real and fake, in D's update only) or
    # "every_conv" (MoCoGAN's --use_noise: before every conv of D_I and D_V, in every D pass of
    # training, the generator's update too).
    instance_noise_at: str = "inputs"

    @property
    def categorical_discriminator(self) -> bool:
        """Whether D_V has a category head learning `category_label` (and G its loss)."""
        return bool(self.category_dim) and self.category_loss


@dataclasses.dataclass
class TrainConfig:
    """Optimisation, logging and checkpointing."""

    batch_size: int = 25  # global batch, split over the replicas
    steps: int = 100_000
    learning_rate: float = 2e-4
    beta_1: float = 0.9
    beta_2: float = 0.999
    weight_decay: float = 0.0  # L2 added to the gradients, as PyTorch's Adam(weight_decay)
    init_from: str | None = None  # GANs: a work dir whose G_I/D_I start this run (pre-training)
    seed: int = 0  # initial weights, data order and every step's noise
    # A run that repeats bit for bit, also when killed and resumed: TensorFlow's op determinism, and
    # the data order a function of the step (a resume replays the input up to its step, unused).
    deterministic: bool = False
    log_every: int = 100  # steps between scalar summaries and progress lines
    image_every: int = 1000  # steps between image panels (a multiple of log_every)
    checkpoint_every: int = 1000  # steps between checkpoints: at most this many are lost to a crash
    keep_checkpoints: int = 3
    panel_videos: int = 6  # videos per image panel
    # Ops TensorFlow runs at once on a CPU-only host (its inter-op threads; 0: its default, one
    # per core). 1 where each op alone fills the cores (the VAEs' 64x64 presets): two at once
    # only keep more activations alive (rjkeras.runtime.limit_concurrent_ops).
    inter_op_threads: int = 0


# Model name -> its config's defaults. RJVAE's residual lives in mu's space (our size: DSA's 256).
MODEL_CONFIGS: dict[str, Any] = {
    "rjvae": functools.partial(VAEConfig, residual_dim=256),
    "dsa": VAEConfig,
    "mocogan": GANConfig,
    "rjgan": GANConfig,
    "rmocogan": GANConfig,
    "image_gan": GANConfig,
}
GAN_MODELS = ("mocogan", "rjgan", "rmocogan", "image_gan")


@dataclasses.dataclass
class Config:
    model_name: str
    model: Any
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return {
            "model_name": self.model_name,
            "model": dataclasses.asdict(self.model),
            "data": dataclasses.asdict(self.data),
            "train": dataclasses.asdict(self.train),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


# ----------------------------------------------------------------------------------------------
# Building and overriding.


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Converts a JSON or command-line value to the field's declared type."""
    args = typing.get_args(annotation)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), annotation) if args else annotation
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
        if optional:
            return None
        raise UserError(f"config key {key!r} cannot be None")
    try:
        if base is bool:
            if isinstance(value, str):
                if value.lower() in ("true", "1", "yes"):
                    return True
                if value.lower() in ("false", "0", "no"):
                    return False
                raise ValueError(value)
            return bool(value)
        if base is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if base is float:
            return float(value)
        if base is str:
            return str(value)
    except ValueError:
        raise UserError(f"config key {key!r} expects {base.__name__}, got {value!r}") from None
    return value


def apply_overrides(config: Config, overrides: dict[str, Any], source: str) -> None:
    """Applies {"section.field": value} or nested {"section": {"field": value}} to config."""
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"{key}.{sub}"] = subvalue
        else:
            flat[key] = value
    for key, value in flat.items():
        section_name, _, field = key.partition(".")
        if section_name not in ("model", "data", "train") or not field:
            raise UserError(
                f"{source}: unknown config key {key!r}; keys look like model.<field>, "
                "data.<field> or train.<field>")
        section = getattr(config, section_name)
        types = _field_types(type(section))
        if field not in types:
            raise UserError(
                f"{source}: unknown config key {key!r}; {section_name} fields are: "
                + ", ".join(sorted(types)))
        setattr(section, field, _coerce(value, types[field], key))


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """Parses ["train.steps=10", ...] from the command line."""
    result = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set expects key=value (for example train.steps=500), got {item!r}")
        result[key.strip()] = value.strip()
    return result


def _load_json(path: str) -> dict:
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not valid JSON ({e})") from None
    except OSError as e:
        raise UserError(f"cannot read config {path}: {e.strerror}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object of config sections")
    data.pop("description", None)
    return data


def available_presets() -> list[str]:
    return sorted(f[:-5] for f in os.listdir(CONFIGS_DIR) if f.endswith(".json"))


def resolve(model: str, dataset: str, *, preset: str | None = None, size: str = "paper",
            overrides: dict[str, Any] | None = None) -> Config:
    """Resolves the config of a run from its model, dataset, preset, size and overrides."""
    if model not in MODEL_CONFIGS:
        raise UserError(f"unknown model {model!r}; choose one of: {', '.join(sorted(MODEL_CONFIGS))}")
    from rjkeras.data import registry  # cheap: builders are imported only when used

    registry.check_name(dataset)
    if size not in SIZES:
        raise UserError(f"unknown size {size!r}; choose one of: {', '.join(SIZES)}")
    config = Config(model_name=model, model=MODEL_CONFIGS[model]())
    config.data.dataset = dataset
    family = os.path.join(CONFIGS_DIR, "families", f"{'gan' if model in GAN_MODELS else 'vae'}.json")
    apply_overrides(config, _load_json(family), family)

    if preset is None:
        path = os.path.join(CONFIGS_DIR, f"{model}_{dataset}.json")
        if not os.path.exists(path):
            path = os.path.join(CONFIGS_DIR, f"{model}.json")  # the model's dataset-agnostic preset
    elif os.path.exists(preset) or preset.endswith(".json"):
        path = preset
    else:
        path = os.path.join(CONFIGS_DIR, f"{preset}.json")
        if not os.path.exists(path):
            raise UserError(f"unknown preset {preset!r}; presets: {', '.join(available_presets())}")
    if os.path.exists(path) or preset is not None:
        apply_overrides(config, _load_json(path), path)

    if size != "paper":
        path = os.path.join(CONFIGS_DIR, "sizes", f"{model}_{size}.json")
        apply_overrides(config, _load_json(path), path)
    if overrides:
        apply_overrides(config, overrides, "command line")
    config.data.dataset = dataset  # a preset cannot retarget the dataset the user asked for
    validate(config)
    return config


def from_dict(data: dict) -> Config:
    """Rebuilds a Config written by `Config.to_json` (a work dir's config.json)."""
    try:
        model = data["model_name"]
        if model not in MODEL_CONFIGS:
            raise UserError(f"config.json: unknown model {model!r}; choose one of: "
                            f"{', '.join(sorted(MODEL_CONFIGS))}")
        config = Config(model_name=model, model=MODEL_CONFIGS[model]())
        apply_overrides(config, {k: data[k] for k in ("model", "data", "train")}, "config.json")
    except KeyError as e:
        raise UserError(f"config.json lacks {e}; is this a work dir written by rjkeras.train?") from None
    return config


def load_workdir_config(workdir: str, flag: str = "--workdir") -> Config:
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        raise UserError(f"{path} not found: {flag} must be a work dir written by rjkeras.train")
    return from_dict(_load_json(path))


# ----------------------------------------------------------------------------------------------
# Validation: everything that can be checked before any work starts.


def validate(config: Config) -> None:
    d, t, m = config.data, config.train, config.model
    if d.num_frames < 1:
        raise UserError(f"data.num_frames={d.num_frames}: must be at least 1")
    for name in ("batch_size", "steps", "log_every", "image_every", "checkpoint_every",
                 "keep_checkpoints", "panel_videos"):
        if getattr(t, name) < 1:
            raise UserError(f"train.{name}={getattr(t, name)}: must be at least 1")
    if t.image_every % t.log_every:
        raise UserError(f"train.image_every={t.image_every} must be a multiple of "
                        f"train.log_every={t.log_every}")
    if t.learning_rate <= 0:
        raise UserError(f"train.learning_rate={t.learning_rate}: must be positive")
    if t.inter_op_threads < 0:
        raise UserError(f"train.inter_op_threads={t.inter_op_threads}: must be 0 (TensorFlow's "
                        "default) or more")
    if isinstance(m, GANConfig):
        _validate_gan(config)
    if isinstance(m, VAEConfig):
        if d.image_size < 8 or d.image_size % 8:
            raise UserError(f"data.image_size={d.image_size}: must be a positive multiple of 8 "
                            "(the VAEs' networks halve it three times)")
        for name in ("summary_dim", "residual_dim", "hidden_dim", "conv_channels", "feature_dim"):
            if getattr(m, name) < 1:
                raise UserError(f"model.{name}={getattr(m, name)}: must be at least 1")
        if m.prior_inputs not in PRIOR_INPUTS:
            raise UserError(f"model.prior_inputs={m.prior_inputs!r}: choose {' or '.join(PRIOR_INPUTS)}")
        if m.summary_prior_scale <= 0 or m.frame_scale <= 0:
            raise UserError("model.summary_prior_scale and model.frame_scale must be positive")
        if config.model_name == "rjvae" and m.residual_dim != m.summary_dim:
            raise UserError(
                f"rjvae adds residuals to the summary vector (z_t = mu + delta_t), so "
                f"model.residual_dim ({m.residual_dim}) must equal model.summary_dim ({m.summary_dim})")


def _validate_gan(config: Config) -> None:
    d, t, m = config.data, config.train, config.model
    for name in ("content_dim", "motion_dim", "noise_dim", "latent_dim", "rnn_dim", "ngf", "ndf",
                 "clip_length", "clip_stride", "image_batch_size", "summary_every"):
        if getattr(m, name) < 1:
            raise UserError(f"model.{name}={getattr(m, name)}: must be at least 1")
    if m.instance_noise_at not in INSTANCE_NOISE_AT:
        raise UserError(f"model.instance_noise_at={m.instance_noise_at!r}: choose "
                        f"{' or '.join(INSTANCE_NOISE_AT)}")
    if m.category_dim < 0 or m.instance_noise < 0 or m.prior_scale <= 0 or t.weight_decay < 0:
        raise UserError("model.category_dim, model.instance_noise and train.weight_decay must be "
                        ">= 0 and model.prior_scale > 0")
    base = d.image_size
    while base % 2 == 0 and base > 7:
        base //= 2
    if d.image_size < 16 or not 4 <= base <= 7:
        raise UserError(f"data.image_size={d.image_size}: the GANs need a size >= 16 of the form "
                        "base * 2^n with base 4..7 (16, 32, 48, 64, 96, 128, ...): G_I doubles a "
                        "base x base map up to it, D_I and D_V halve it four times")
    if not 0.0 <= d.image_fraction < 1.0:
        raise UserError(f"data.image_fraction={d.image_fraction}: must be in [0, 1)")
    if config.model_name == "mocogan" and t.init_from:
        raise UserError("MoCoGAN cannot start from a pre-trained image generator: its frames are "
                        "[z_C, z_M^t] with a learnt motion distribution, not images of a fixed prior "
                        "(paper section 5.1); --init_from works for rjgan (and rmocogan)")
    if m.category_dim and config.model_name != "mocogan":
        raise UserError("model.category_dim > 0 (z_A) is MoCoGAN's; the other models have no categories")


def diff(saved: Config, current: Config, ignore_sections: tuple[str, ...] = ("train",)) -> list[str]:
    """Fields that differ between two configs, outside the sections a resumed run may change."""
    a, b = saved.to_dict(), current.to_dict()
    changes = []
    if a["model_name"] != b["model_name"]:
        changes.append(f"model {a['model_name']} -> {b['model_name']}")
    for section in ("model", "data"):
        if section in ignore_sections:
            continue
        for key in sorted(set(a[section]) | set(b[section])):
            if key in ("data_dir", "manual_dir"):
                continue  # where the data lives may move between runs
            if a[section].get(key) != b[section].get(key):
                changes.append(f"{section}.{key} {a[section].get(key)!r} -> {b[section].get(key)!r}")
    return changes
