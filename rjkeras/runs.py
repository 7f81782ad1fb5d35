"""A trained run: the work dir's layout, its config and checkpoints, and a generator served from
a work dir or a SavedModel behind the same signatures.

A work dir holds:
    config.json          the resolved config (what export and evaluation read back)
    checkpoints/         tf.train.CheckpointManager checkpoints, numbered by training step
    tensorboard/train/   scalars (every loss term, steps/s) and image panels
    saved_model/         the SavedModel, when exported (`rjkeras.export`, `rjkeras.train --export`)

Everything that reads a run back (export, evaluation, figures, human evaluation, benchmarks)
comes here; only the training command imports the training loop.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np

from rjkeras import config as config_lib
from rjkeras.errors import UserError

log = logging.getLogger("rjkeras")

CONFIG = "config.json"
CHECKPOINTS = "checkpoints"
SAVED_MODEL = "saved_model"


def default_workdir(model: str, dataset: str, size: str = "paper") -> str:
    suffix = "" if size == "paper" else f"_{size}"
    return os.path.join("workdirs", f"{model}_{dataset}{suffix}")


def is_workdir(path: str) -> bool:
    return os.path.exists(os.path.join(path, CONFIG))


def check_workdir(config: config_lib.Config, workdir: str) -> None:
    """Refuses a work dir that holds a run of another config (a new one, or the same run's, is fine)."""
    if is_workdir(workdir):
        changes = config_lib.diff(config_lib.load_workdir_config(workdir), config)
        if changes:
            raise UserError(
                f"{workdir} holds a run with a different config ({'; '.join(changes)}); "
                "use another --workdir, or the same flags as that run to resume it")


def check_before_training(config: config_lib.Config, workdir: str) -> None:
    """What can refuse a run before TensorFlow starts: a work dir of another config, or an
    --init_from that is no run (the command says it in seconds, the trainer again for library callers)."""
    check_workdir(config, workdir)
    if config.train.init_from:
        config_lib.load_workdir_config(config.train.init_from, "--init_from")


def write_config(workdir: str, config: config_lib.Config) -> None:
    """Writes config.json atomically (a crash never leaves half a config)."""
    path = os.path.join(workdir, CONFIG)
    try:
        os.makedirs(workdir, exist_ok=True)
        with open(path + ".tmp", "w") as f:
            f.write(config.to_json())
        os.replace(path + ".tmp", path)
    except OSError as e:
        raise UserError(f"cannot write to work dir {workdir}: {e.strerror}") from None


def config_beside(saved_model: str) -> config_lib.Config | None:
    """The run's config of a SavedModel exported into its work dir (the default), else None."""
    parent = os.path.dirname(os.path.abspath(saved_model))
    return config_lib.load_workdir_config(parent) if is_workdir(parent) else None


def checkpoint_manager(model, workdir: str, max_to_keep: int = 3, directory: str | None = None):
    import tensorflow as tf

    from rjkeras.models import named_optimizers

    checkpoint = tf.train.Checkpoint(model=model, **named_optimizers(model))
    return tf.train.CheckpointManager(checkpoint, directory or os.path.join(workdir, CHECKPOINTS),
                                      max_to_keep=max_to_keep)


def restore(model, workdir: str, expect_partial: bool = False) -> int | None:
    """Restores the latest readable checkpoint of a work dir into model; returns its step, None if none.

    TensorFlow writes a checkpoint's files before it points `checkpoints/checkpoint` at them, so a
    crash while saving leaves the previous checkpoint the latest. Should the latest one still be
    unreadable (a damaged disk, a file removed by hand), the one before it is used, with a warning.
    """
    import tensorflow as tf

    manager = checkpoint_manager(model, workdir)
    candidates = list(reversed(manager.checkpoints))
    for path in candidates:
        try:
            status = manager.checkpoint.restore(path)
        except (tf.errors.OpError, ValueError, IndexError) as e:  # what damaged files raise
            log.warning("checkpoint %s is unreadable (%s); trying the one before it", path,
                        str(e).splitlines()[0][:200])
            continue
        if expect_partial:
            status.expect_partial()
        return int(model.optimizer.iterations.numpy())
    if candidates:
        raise UserError(f"no readable checkpoint in {manager.directory} (tried {', '.join(candidates)}); "
                        "move the folder away to start again")
    return None


def restore_model(workdir: str, what: str = "") -> tuple[config_lib.Config, object, int]:
    """(config, compiled model, step) of a work dir's latest checkpoint, built outside any
    distribution strategy. `what` names the flag in the error of a run without a checkpoint."""
    from rjkeras.models import build_model, compile_model

    config = config_lib.load_workdir_config(workdir)
    model = compile_model(build_model(config), config)
    step = restore(model, workdir, expect_partial=True)
    if step is None:
        raise UserError(f"{what or workdir} has no checkpoint yet: train first "
                        f"(rjkeras.train --workdir={workdir})")
    return config, model, step


# ----------------------------------------------------------------------------------------------
# A generator, from a work dir or a SavedModel.


@dataclasses.dataclass
class Generator:
    """A trained generator: its signatures as plain callables, and where it came from."""

    name: str
    path: str
    source: str  # "saved_model" or "workdir"
    signatures: dict  # name -> callable taking the export signature's keyword arguments
    model_name: str | None = None  # from the work dir's config.json
    checkpoint_step: int | None = None

    def describe(self) -> dict:
        info = {"name": self.name, "path": self.path, "source": self.source}
        if self.model_name is not None:
            info["model_name"] = self.model_name
        if self.checkpoint_step is not None:
            info["checkpoint_step"] = self.checkpoint_step
        return info

    def sample(self, kind: str, seed: int, length: int) -> np.ndarray:
        """One sample as uint8: a video (T, H, W, 3) or an image (H, W, 3)."""
        import tensorflow as tf

        if kind == "videos":
            out = self.signatures["generate_videos"](num_videos=tf.constant(1, tf.int32),
                                                     length=tf.constant(length, tf.int32),
                                                     seed=tf.constant(seed, tf.int64))
            return out["videos"].numpy()[0]
        out = self.signatures["generate_images"](num_images=tf.constant(1, tf.int32),
                                                 seed=tf.constant(seed, tf.int64))
        return out["images"].numpy()[0]


def _default_name(path: str) -> str:
    path = os.path.normpath(os.path.abspath(path))
    base = os.path.basename(path)
    if base == SAVED_MODEL:  # <workdir>/saved_model, rjkeras.export's default
        base = os.path.basename(os.path.dirname(path))
    return base


def load_saved_model(path: str) -> dict:
    """The signatures of a SavedModel folder that `rjkeras.export` wrote; UserError in one line
    for a corrupt, truncated or foreign one."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(path)
    except Exception as e:  # noqa: BLE001 (a corrupt or truncated SavedModel; TF raises many types)
        reason = str(e).splitlines()[0] if str(e) else ""
        raise UserError(f"cannot load the SavedModel {path} ({type(e).__name__}: {reason}); export it "
                        "again with python -m rjkeras.export") from None
    if "generate_images" not in loaded.signatures:  # every export serves it
        found = ", ".join(sorted(loaded.signatures)) or "none"
        raise UserError(f"{path} is a SavedModel but not one written by rjkeras.export (no "
                        f"generate_images signature; its signatures: {found})")
    return dict(loaded.signatures)


def open_generator(path: str, name: str | None = None) -> Generator:
    """A SavedModel folder (has saved_model.pb), or a work dir (has config.json): its latest
    checkpoint, restored in memory behind the same signatures rjkeras.export would write."""
    if not os.path.isdir(path):
        raise UserError(f"model {path} not found: give a SavedModel folder or a training work dir")
    name = name or _default_name(path)
    abspath = os.path.abspath(path)
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        return Generator(name, abspath, "saved_model", load_saved_model(path))
    if is_workdir(path):
        from rjkeras.export import module

        config, model, step = restore_model(path)
        served = module.GeneratorModule(model, config.data.image_size)
        return Generator(name, abspath, "workdir", served.signatures(), model_name=config.model_name,
                         checkpoint_step=step)
    raise UserError(f"{path} is neither a SavedModel (no saved_model.pb) nor a training work dir "
                    "(no config.json)")
