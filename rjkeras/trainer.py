"""The training loop: a work dir (`rjkeras.runs`), a strategy, data, a model, `fit`, checkpoints
and summaries.

Rerunning the same command resumes from the latest checkpoint, after a clean stop or a crash
(see Monitor and restore). A different model or data config in an existing work dir is refused
(training fields such as train.steps may change). Under a multi-worker strategy only the chief
writes the work dir (rjkeras.distribute).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import signal
import tempfile
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from rjkeras import config as config_lib
from rjkeras import data as data_lib
from rjkeras import distribute
from rjkeras import runs
from rjkeras import runtime
from rjkeras import summaries
from rjkeras.errors import UserError
from rjkeras.models import build_model, compile_model, is_gan, named_optimizers
from rjkeras.runs import checkpoint_manager, restore  # noqa: F401  (trainer.restore: the same)

log = logging.getLogger("rjkeras")


class Monitor(keras.callbacks.Callback):
    """Progress lines, TensorBoard scalars and panels, checkpoints and the step budget.

    Everything happens at global step numbers, whatever step a resumed run started from: scalars
    and a progress line every `log_every` steps (running means since the previous line), panels
    every `image_every`, a checkpoint every `checkpoint_every` and at the end. The summary writer
    is flushed before each checkpoint, so after a crash the event files hold every step up to the
    last checkpoint, and `summaries.truncate_events` drops what came after it on resume.
    Under MultiWorkerMirroredStrategy every worker saves at the same steps (saving may need
    collectives); the non-chief ones into a scratch folder that is deleted.
    """

    def __init__(self, config, manager, writer, panel_videos, start_step: int, chief: bool = True):
        super().__init__()
        self.config = config
        self.manager = manager
        self.writer = writer
        self.panel_videos = panel_videos  # fixed real videos for the reconstruction panel
        self.chief = chief
        self.step = start_step
        self.last_saved = start_step
        self.last_logs = {}

    def on_train_begin(self, logs=None):
        self.start_time = self.log_time = time.time()
        self.start_step = self.log_step = self.step

    def on_train_batch_end(self, batch, logs=None):
        t = self.config.train
        self.step += 1
        logs = {name: float(np.mean(value)) for name, value in (logs or {}).items()}
        # A NaN or Inf stops the run here, before any checkpoint can hold the broken weights.
        # (Reading the running means each step costs one host sync, small next to a step.)
        bad = {name: value for name, value in logs.items() if not math.isfinite(value)}
        if bad:
            terms = ", ".join(f"{name}={value}" for name, value in sorted(bad.items()))
            kept = (f"the last good checkpoint (step {self.last_saved}) is kept"
                    if self.manager.latest_checkpoint else "no checkpoint was written")
            raise UserError(
                f"step {self.step}: non-finite loss term(s) {terms}; training stopped and {kept}; "
                "lower train.learning_rate or check the data, then rerun to resume")
        done = self.step >= t.steps
        if self.step % t.log_every == 0 or done:
            self.write_logs(logs)
            self.model.reset_metrics()  # the next line's means start here
        if self.step % t.checkpoint_every == 0 or done:
            self.save()
        if done:
            self.model.stop_training = True

    def write_logs(self, logs):
        t = self.config.train
        now = time.time()
        rate = (self.step - self.log_step) / max(now - self.log_time, 1e-9)
        self.log_time, self.log_step, self.last_logs = now, self.step, logs
        with self.writer.as_default(step=self.step):
            for name, value in logs.items():
                tf.summary.scalar(scalar_tag(name), value)
            tf.summary.scalar("speed/steps_per_second", rate)
            tf.summary.scalar("speed/videos_per_second", rate * t.batch_size)
            if self.chief and (self.step % t.image_every == 0 or self.step >= t.steps):
                self.write_panels()
        overall = (self.step - self.start_step) / max(now - self.start_time, 1e-9)
        eta = (t.steps - self.step) / max(overall, 1e-9)
        terms = "  ".join(f"{k}={v:.4g}" for k, v in sorted(logs.items()))
        log.info("step %d/%d (%.0f%%)  %s  %.2f steps/s  eta %s", self.step, t.steps,
                 100.0 * self.step / t.steps, terms, rate, _duration(eta))

    def save(self):
        if self.step == self.last_saved:
            return
        self.writer.flush()  # events up to this step are on disk before the checkpoint says so
        path = self.manager.save(checkpoint_number=self.step)
        self.last_saved = self.step
        if self.chief:
            log.info("saved checkpoint %s", path)
        else:  # a non-chief worker's copy: written because saving is collective, then dropped
            shutil.rmtree(self.manager.directory, ignore_errors=True)

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
    D_I and clips (S_T) for D_V, with the mixed-data split of `data.image_fraction`; for the
    image-only GAN, frames alone (every frame of every video is an image)."""
    if config.model_name not in config_lib.GAN_MODELS:
        return _input(config, "train", config.train.batch_size, seed)
    d, m = config.data, config.model
    if config.model_name == "image_gan":  # D_I only: frames, no clips to decode
        images = data_lib.frames(d.dataset, "train", batch_size=m.image_batch_size, data_dir=d.data_dir,
                                 manual_dir=d.manual_dir, builder_config=d.builder_config,
                                 image_size=d.image_size, seed=seed, frame_shuffle_buffer=4096)
        return images.map(lambda frames, labels: {"frames": frames})
    labels = (m.category_label,) if m.categorical_discriminator else ()
    return data_lib.gan_inputs(
        d.dataset, "train", image_batch_size=m.image_batch_size,
        video_batch_size=config.train.batch_size, clip_length=m.clip_length,
        clip_stride=m.clip_stride, image_fraction=d.image_fraction, data_dir=d.data_dir,
        manual_dir=d.manual_dir, builder_config=d.builder_config, image_size=d.image_size,
        seed=seed, labels=labels)


def initialize_from(model, config, source_dir: str) -> None:
    """Pre-training: copies G_I and D_I of another run (an image GAN, or an RJGAN) into model."""
    source_config = config_lib.load_workdir_config(source_dir, "--init_from")
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


def validate_against_data(config) -> data_lib.DatasetInfo:
    """Checks the config against the prepared dataset (prepares it first if needed); returns
    the dataset's info."""
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
        m = config.model
        if m.categorical_discriminator and m.category_label not in info.label_names:
            raise UserError(f"model.category_label={m.category_label!r}: unknown label of {d.dataset}; "
                            f"choose from: {', '.join(sorted(info.label_names))}")
    if info.split_sizes.get("train", 0) < config.train.batch_size:
        raise UserError(f"train.batch_size={config.train.batch_size} exceeds the "
                        f"{info.split_sizes.get('train', 0)} training videos of {d.dataset}")
    return info


def train(config: config_lib.Config, workdir: str, strategy: tf.distribute.Strategy | str | None = None,
          callbacks=(), when_done=None):
    """Trains (or resumes) the run of `config` in `workdir`; returns the last logged metrics.

    Args:
      strategy: a tf.distribute strategy or its name in `distribute.STRATEGIES`; None: mirrored.
      callbacks: more Keras callbacks for `fit` (after the trainer's own).
      when_done: called with the work dir by the chief when training is done (the command's
        export), also when there was nothing left to train.
    """
    t = config.train
    runs.check_before_training(config, workdir)  # fail now, not after the data is ready
    if runtime.limit_concurrent_ops(t.inter_op_threads):  # before TensorFlow's first op: the strategy's
        log.info("TensorFlow runs at most %d op(s) at once (train.inter_op_threads)", t.inter_op_threads)
    if strategy is None or isinstance(strategy, str):
        strategy = distribute.make_strategy(strategy or "mirrored")
    chief = distribute.is_chief(strategy)
    if chief:
        runs.write_config(workdir, config)  # its config checked above
    info = validate_against_data(config)
    if t.batch_size % strategy.num_replicas_in_sync:
        raise UserError(f"train.batch_size={t.batch_size} must be divisible by the "
                        f"{strategy.num_replicas_in_sync} replicas")
    log.info("training %s on %s in %s over %d replica(s) on %d worker(s) (this one: %s)",
             config.model_name, config.data.dataset, workdir, strategy.num_replicas_in_sync,
             distribute.num_workers(strategy), distribute.worker_name(strategy))

    if t.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(t.seed)  # the initial weights are the run seed's
    with strategy.scope():
        model = compile_model(build_model(config), config)
    # Only the chief reads the work dir; the other workers get its state by broadcast.
    if chief:
        manager = checkpoint_manager(model, workdir, t.keep_checkpoints)
        step = restore(model, workdir) or 0
        if not step and t.init_from:
            initialize_from(model, config, t.init_from)
    else:
        manager = checkpoint_manager(model, workdir, t.keep_checkpoints,
                                     directory=tempfile.mkdtemp(prefix="rjkeras-worker-"))
    distribute.broadcast_from_chief(strategy, _state_variables(model))
    step = int(model.optimizer.iterations.numpy())
    for optimizer in named_optimizers(model).values():
        # A checkpoint restores the learning rate too; the config of this run decides it.
        optimizer.learning_rate.assign(t.learning_rate)
    if step:
        log.info("resumed from %s at step %d", manager.latest_checkpoint or "the chief's checkpoint", step)
    if step >= t.steps:
        log.info("already trained for %d steps (train.steps=%d): nothing to do", step, t.steps)
        if when_done and chief:
            when_done(workdir)
        return {}

    if t.deterministic:
        # The input of step k is the k-th batch of the run seed's stream, resumed or not: the
        # batches before `step` are read again and dropped (a resume costs reading them).
        dataset = training_input(config, seed=t.seed).skip(step)
    else:
        # Shuffling is seeded by the step too, so a resumed run does not replay the same batches.
        dataset = training_input(config, seed=t.seed + step)
    dataset = dataset.with_options(_sharded_by_data())
    panel = None
    if chief and not is_gan(model):  # real test videos for the reconstruction panel
        # (training videos where a builder config keeps every subject in train: MoCoGAN's protocol)
        split = "test" if "test" in info.split_sizes else "train"
        panel = next(iter(_input(config, split, t.panel_videos,
                                 seed=t.seed, shuffle=False, repeat=False)))["video"]
    if chief:
        logdir = os.path.join(workdir, "tensorboard", "train")
        dropped = summaries.truncate_events(logdir, after_step=step)
        if dropped:
            log.info("dropped %d TensorBoard events written after step %d by the interrupted run",
                     dropped, step)
        writer = tf.summary.create_file_writer(logdir)
    else:
        writer = tf.summary.create_noop_writer()
    monitor = Monitor(config, manager, writer, panel, step, chief=chief)
    multi_worker = distribute.num_workers(strategy) > 1
    try:
        with _sigterm_as_interrupt():
            model.fit(dataset, steps_per_epoch=t.steps - step, epochs=1, callbacks=[monitor, *callbacks],
                      verbose=0, shuffle=False)
    except KeyboardInterrupt:
        monitor.step = int(model.optimizer.iterations.numpy())  # the generator's steps for GANs
        if multi_worker:  # the other workers are not saving now: a collective save would hang
            raise UserError(f"interrupted at step {monitor.step}; rerun the same command on every "
                            f"worker to resume from the checkpoint of step {monitor.last_saved}") from None
        monitor.save()
        raise UserError(f"interrupted at step {monitor.step}; checkpoint saved in {workdir}: "
                        "rerun the same command to resume") from None
    finally:
        writer.flush()
        if not chief:
            shutil.rmtree(manager.directory, ignore_errors=True)
    if when_done and chief:
        when_done(workdir)
    return monitor.last_logs


def _state_variables(model) -> list:
    """Everything a checkpoint holds: the model's variables and its optimizers'."""
    variables = list(model.variables)
    for optimizer in named_optimizers(model).values():
        variables += list(optimizer.variables)
    return variables


def _sharded_by_data() -> tf.data.Options:
    """Each worker reads the whole input pipeline and keeps its share of every global batch, so a
    multi-worker step sees the batch a single machine would (TFDS' few files cannot be split)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler's preemption, `kill`) saves a checkpoint and stops, as Ctrl-C does."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
