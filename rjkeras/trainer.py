"""The training loop: a work dir, a strategy, data, a model, `fit`, checkpoints and summaries.

A work dir holds:
    config.json          the resolved config (what export and evaluation read back)
    checkpoints/         tf.train.CheckpointManager checkpoints, numbered by training step
    tensorboard/train/   scalars (every loss term, steps/s) and image panels

Rerunning the same command resumes from the latest checkpoint. A different model or data
config in an existing work dir is refused (training fields such as train.steps may change).
"""

from __future__ import annotations

import logging
import math
import os
import time

import keras
import tensorflow as tf

from rjkeras import config as config_lib
from rjkeras import data as data_lib
from rjkeras import summaries
from rjkeras.errors import UserError
from rjkeras.models import build_model, compile_model, is_gan, named_optimizers

log = logging.getLogger("rjkeras")


def default_workdir(model: str, dataset: str, size: str = "paper") -> str:
    suffix = "" if size == "paper" else f"_{size}"
    return os.path.join("workdirs", f"{model}_{dataset}{suffix}")


def prepare_workdir(config: config_lib.Config, workdir: str) -> None:
    """Creates the work dir, or checks that an existing one was trained with a compatible config."""
    path = os.path.join(workdir, "config.json")
    if os.path.exists(path):
        saved = config_lib.load_workdir_config(workdir)
        changes = config_lib.diff(saved, config)
        if changes:
            raise UserError(
                f"{workdir} holds a run with a different config ({'; '.join(changes)}); "
                "use another --workdir, or the same flags as that run to resume it")
    try:
        os.makedirs(workdir, exist_ok=True)
        with open(path + ".tmp", "w") as f:
            f.write(config.to_json())
        os.replace(path + ".tmp", path)
    except OSError as e:
        raise UserError(f"cannot write to work dir {workdir}: {e.strerror}") from None


def checkpoint_manager(model, workdir: str, max_to_keep: int = 3):
    checkpoint = tf.train.Checkpoint(model=model, **named_optimizers(model))
    return tf.train.CheckpointManager(checkpoint, os.path.join(workdir, "checkpoints"),
                                      max_to_keep=max_to_keep)


def restore(model, workdir: str, expect_partial: bool = False) -> int | None:
    """Restores the latest checkpoint of a work dir into model; returns its step, None if none."""
    manager = checkpoint_manager(model, workdir)
    if manager.latest_checkpoint is None:
        return None
    status = manager.checkpoint.restore(manager.latest_checkpoint)
    if expect_partial:
        status.expect_partial()
    return int(model.optimizer.iterations.numpy())


class Monitor(keras.callbacks.Callback):
    """Progress lines, TensorBoard scalars and panels, checkpoints and the step budget.

    One Keras "epoch" is `log_every` steps, so epoch ends are the logging points.
    """

    def __init__(self, config, manager, writer, panel_videos, start_step: int):
        super().__init__()
        self.config = config
        self.manager = manager
        self.writer = writer
        self.panel_videos = panel_videos  # fixed real videos for the reconstruction panel
        self.step = start_step
        self.last_saved = start_step

    def on_train_begin(self, logs=None):
        self.start_time = self.epoch_time = time.time()
        self.start_step = self.epoch_step = self.step

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        # A NaN or Inf stops the run here, before any checkpoint can hold the broken weights.
        # (Reading the running means each step costs one host sync, small next to a step.)
        bad = {name: float(value) for name, value in (logs or {}).items()
               if not math.isfinite(float(value))}
        if bad:
            terms = ", ".join(f"{name}={value}" for name, value in sorted(bad.items()))
            kept = (f"the last good checkpoint (step {self.last_saved}) is kept"
                    if self.manager.latest_checkpoint else "no checkpoint was written")
            raise UserError(
                f"step {self.step}: non-finite loss term(s) {terms}; training stopped and {kept}; "
                "lower train.learning_rate or check the data, then rerun to resume")
        if self.step >= self.config.train.steps:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        t = self.config.train
        now = time.time()
        rate = (self.step - self.epoch_step) / max(now - self.epoch_time, 1e-9)
        self.epoch_time, self.epoch_step = now, self.step
        logs = {k: float(v) for k, v in (logs or {}).items()}
        with self.writer.as_default(step=self.step):
            for name, value in logs.items():
                tf.summary.scalar(scalar_tag(name), value)
            tf.summary.scalar("speed/steps_per_second", rate)
            tf.summary.scalar("speed/videos_per_second", rate * t.batch_size)
            if self.step % t.image_every == 0 or self.step >= t.steps:
                self.write_panels()
        overall = (self.step - self.start_step) / max(now - self.start_time, 1e-9)
        eta = (t.steps - self.step) / max(overall, 1e-9)
        terms = "  ".join(f"{k}={v:.4g}" for k, v in sorted(logs.items()))
        log.info("step %d/%d (%.0f%%)  %s  %.2f steps/s  eta %s", self.step, t.steps,
                     100.0 * self.step / t.steps, terms, rate, _duration(eta))
        if self.step % t.checkpoint_every == 0 or self.step >= t.steps:
            self.save()

    def save(self):
        if self.step != self.last_saved:
            path = self.manager.save(checkpoint_number=self.step)
            self.last_saved = self.step
            log.info("saved checkpoint %s", path)

    def write_panels(self):
        summaries.write_panels(self.model, self.config, self.panel_videos, self.step)


def scalar_tag(metric: str) -> str:
    """TensorBoard tag of a training metric: the ELBO's terms under loss/, each GAN player's
    terms (d_*, g_*) under discriminator/ and generator/."""
    if metric == "loss":
        return "loss"
    for prefix, group in (("d_", "discriminator"), ("g_", "generator")):
        if metric.startswith(prefix):
            return f"{group}/{metric[len(prefix):]}"
    return f"loss/{metric}"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _input(config, split, batch_size, seed, shuffle=True, repeat=True):
    d = config.data
    return data_lib.videos(d.dataset, split, batch_size=batch_size, data_dir=d.data_dir,
                           manual_dir=d.manual_dir, builder_config=d.builder_config,
                           image_size=d.image_size, num_frames=d.num_frames, shuffle=shuffle,
                           repeat=repeat, seed=seed)


def training_input(config, seed):
    """What train_step consumes: {"video"} batches for the VAEs; for the GANs, frames (S_1) for
    D_I and clips (S_T) for D_V, with the mixed-data split of `data.image_fraction`."""
    if config.model_name not in config_lib.GAN_MODELS:
        return _input(config, "train", config.train.batch_size, seed)
    d, m = config.data, config.model
    labels = (m.category_label,) if m.category_dim else ()
    return data_lib.gan_inputs(
        d.dataset, "train", image_batch_size=m.image_batch_size,
        video_batch_size=config.train.batch_size, clip_length=m.clip_length,
        clip_stride=m.clip_stride, image_fraction=d.image_fraction, data_dir=d.data_dir,
        manual_dir=d.manual_dir, builder_config=d.builder_config, image_size=d.image_size,
        seed=seed, labels=labels)


def initialize_from(model, config, source_dir: str) -> None:
    """Pre-training: copies G_I and D_I of another run (an image GAN, or an RJGAN) into model."""
    source_config = config_lib.load_workdir_config(source_dir)
    if source_config.model_name not in config_lib.GAN_MODELS:
        raise UserError(f"--init_from={source_dir} is a {source_config.model_name} run; "
                        "it must be a GAN run (image_gan or rjgan) with an image generator")
    source = compile_model(build_model(source_config), source_config)
    if restore(source, source_dir, expect_partial=True) is None:
        raise UserError(f"--init_from={source_dir} has no checkpoint yet")
    for name in ("image_generator", "image_discriminator"):
        mine, theirs = getattr(model, name), getattr(source, name)
        shapes = [tuple(w.shape) for w in mine.weights], [tuple(w.shape) for w in theirs.weights]
        if shapes[0] != shapes[1]:
            raise UserError(
                f"--init_from={source_dir}: its {name} does not fit this model's (G_I input "
                f"{source.latent_dim} vs {model.latent_dim}, image size "
                f"{source_config.data.image_size} vs {config.data.image_size}, widths "
                f"ngf/ndf {source_config.model.ngf}/{source_config.model.ndf} vs "
                f"{config.model.ngf}/{config.model.ndf})")
        mine.set_weights(theirs.get_weights())
    log.info("initialised image_generator and image_discriminator from %s", source_dir)


def validate_against_data(config) -> None:
    """Checks the config against the prepared dataset (prepares it first if needed)."""
    d = config.data
    info = data_lib.dataset_info(d.dataset, data_dir=d.data_dir, manual_dir=d.manual_dir,
                                 builder_config=d.builder_config)
    if d.num_frames > info.num_frames:
        raise UserError(f"data.num_frames={d.num_frames} but {d.dataset} has "
                        f"{info.num_frames}-frame videos")
    if config.model_name in config_lib.GAN_MODELS and config.model_name != "image_gan":
        if config.model.clip_length > info.num_frames:
            raise UserError(f"model.clip_length={config.model.clip_length} but {d.dataset} has "
                            f"{info.num_frames}-frame videos")
    if info.split_sizes.get("train", 0) < config.train.batch_size:
        raise UserError(f"train.batch_size={config.train.batch_size} exceeds the "
                        f"{info.split_sizes.get('train', 0)} training videos of {d.dataset}")


def train(config: config_lib.Config, workdir: str, strategy: tf.distribute.Strategy | None = None):
    """Trains (or resumes) the run of `config` in `workdir`; returns the final epoch's metrics."""
    t = config.train
    if t.init_from:
        config_lib.load_workdir_config(t.init_from)  # fail now, not after the data is ready
    prepare_workdir(config, workdir)
    validate_against_data(config)
    strategy = strategy or tf.distribute.MirroredStrategy()
    if t.batch_size % strategy.num_replicas_in_sync:
        raise UserError(f"train.batch_size={t.batch_size} must be divisible by the "
                        f"{strategy.num_replicas_in_sync} replicas")
    log.info("training %s on %s in %s over %d replica(s)", config.model_name,
                 config.data.dataset, workdir, strategy.num_replicas_in_sync)

    with strategy.scope():
        model = compile_model(build_model(config), config)
    manager = checkpoint_manager(model, workdir, t.keep_checkpoints)
    step = restore(model, workdir) or 0
    for optimizer in named_optimizers(model).values():
        # A checkpoint restores the learning rate too; the config of this run decides it.
        optimizer.learning_rate.assign(t.learning_rate)
    if step:
        log.info("resumed from %s at step %d", manager.latest_checkpoint, step)
    if step >= t.steps:
        log.info("already trained for %d steps (train.steps=%d): nothing to do", step, t.steps)
        return {}

    # Shuffling is seeded by the step too, so a resumed run does not replay the same batches.
    if not step and t.init_from:
        initialize_from(model, config, t.init_from)
    dataset = training_input(config, seed=t.seed + step)
    panel = None
    if not is_gan(model):  # real test videos for the reconstruction panel
        panel = next(iter(_input(config, "test", t.panel_videos, seed=t.seed, shuffle=False,
                                 repeat=False)))["video"]
    writer = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard", "train"))
    monitor = Monitor(config, manager, writer, panel, step)
    epochs = math.ceil(t.steps / t.log_every)
    try:
        history = model.fit(dataset, steps_per_epoch=t.log_every, epochs=epochs,
                            initial_epoch=step // t.log_every, callbacks=[monitor], verbose=0,
                            shuffle=False)
    except KeyboardInterrupt:
        monitor.step = int(model.optimizer.iterations.numpy())  # the generator's steps for GANs
        monitor.save()
        raise UserError(f"interrupted at step {monitor.step}; checkpoint saved in {workdir}: "
                        "rerun the same command to resume") from None
    finally:
        writer.flush()
    monitor.save()
    return {k: float(v[-1]) for k, v in history.history.items()}
