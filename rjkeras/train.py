"""Trains a model: `python -m rjkeras.train --model=rjvae --dataset=synthetic_sprites`.

Flags pick the model, the dataset, a preset and size, and override any config field; the run
lives in --workdir (config, checkpoints, TensorBoard logs) and rerunning the same command
resumes it from the last checkpoint (also after a crash or `kill -9`). Training runs under
tf.distribute.MirroredStrategy over all local devices by default; `--strategy=multi_worker`
trains on several machines (see rjkeras.distribute and the README).
"""

from __future__ import annotations

import logging as std_logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

from absl import app, flags, logging  # noqa: E402

from rjkeras import config as config_lib  # noqa: E402
from rjkeras import runs, runtime  # noqa: E402
from rjkeras.cli import parse_only_flags  # noqa: E402
from rjkeras.errors import UserError, fail  # noqa: E402

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command's flags; defined only when it runs, so that importing it defines none."""
    flags.DEFINE_string("model", "rjvae", f"Model: one of {', '.join(sorted(config_lib.MODEL_CONFIGS))}.")
    flags.DEFINE_string("dataset", "synthetic_sprites", "Dataset name (synthetic_sprites is built in).")
    flags.DEFINE_string("workdir", None, "Run directory; default workdirs/<model>_<dataset>[_<size>].")
    flags.DEFINE_string("config", None, "Preset name in configs/ or a JSON file; default <model>_<dataset>.")
    flags.DEFINE_enum("size", "paper", list(config_lib.SIZES),
                      "Network/batch size: the paper's, or a CPU-friendly small/tiny overlay.")
    flags.DEFINE_integer("steps", None, "Total training steps (train.steps).")
    flags.DEFINE_integer("batch_size", None, "Global batch size (train.batch_size).")
    flags.DEFINE_integer("image_size", None, "Frame size the data is resized to (data.image_size).")
    flags.DEFINE_integer("seed", None, "Run seed (train.seed).")
    flags.DEFINE_string("data_dir", None, "Where prepared TFDS datasets live (data.data_dir).")
    flags.DEFINE_string("manual_dir", None, "The raw download, for datasets that need one (data.manual_dir).")
    flags.DEFINE_string("dataset_config", None, "TFDS builder config name (data.builder_config).")
    flags.DEFINE_string("init_from", None, "GANs: work dir of a trained image_gan (or rjgan) whose G_I "
                        "and D_I start this run: the paper's image pre-training (train.init_from).")
    flags.DEFINE_float("image_fraction", None, "GANs: share of the training videos broken into single "
                       "frames for D_I only; 0.5 is the paper's 1:1 mixture (data.image_fraction).")
    flags.DEFINE_integer("checkpoint_every", None, "Steps between checkpoints: the most a crash can lose "
                         "(train.checkpoint_every).")
    flags.DEFINE_enum("strategy", "mirrored", ["mirrored", "one_device", "multi_worker"],
                      "mirrored: all local GPUs (or the CPU); one_device: the first GPU (or the CPU); "
                      "multi_worker: several machines, each running this command with its TF_CONFIG.")
    flags.DEFINE_bool("deterministic", None, "Runs that repeat bit for bit, also when killed and resumed: "
                      "op determinism, and the data order a function of the step (train.deterministic).")
    flags.DEFINE_bool("export", False, "When training is done, also write the SavedModel <workdir>/saved_model "
                      "(as python -m rjkeras.export; in a multi-worker run the chief writes it).")
    flags.DEFINE_multi_string("set", [], "Any config field: --set model.hidden_dim=128 (repeatable).")


_SHORTCUTS = {"steps": "train.steps", "batch_size": "train.batch_size",
              "image_size": "data.image_size", "seed": "train.seed", "data_dir": "data.data_dir",
              "manual_dir": "data.manual_dir", "dataset_config": "data.builder_config",
              "init_from": "train.init_from", "image_fraction": "data.image_fraction",
              "checkpoint_every": "train.checkpoint_every", "deterministic": "train.deterministic"}


def resolve_from_flags() -> config_lib.Config:
    overrides = {key: getattr(FLAGS, flag) for flag, key in _SHORTCUTS.items()
                 if getattr(FLAGS, flag) is not None}
    overrides.update(config_lib.parse_assignments(FLAGS.set))
    return config_lib.resolve(FLAGS.model, FLAGS.dataset, preset=FLAGS.config, size=FLAGS.size,
                              overrides=overrides)


def quiet_libraries() -> None:
    """Our progress lines at INFO; TensorFlow's and TFDS's own INFO chatter hidden."""
    logging.set_verbosity(logging.WARNING)
    std_logging.getLogger("rjkeras").setLevel(std_logging.INFO)


def _export(workdir: str) -> None:
    """--export: the SavedModel <workdir>/saved_model, written by the chief once training is done."""
    from rjkeras.export.module import export_workdir

    std_logging.getLogger("rjkeras").info("exported the generator to %s", export_workdir(workdir))


def main(argv):
    quiet_libraries()
    runtime.tune_allocator()  # freed memory stays for the next step (rjkeras.runtime)
    try:
        config = resolve_from_flags()
        workdir = FLAGS.workdir or runs.default_workdir(FLAGS.model, FLAGS.dataset, FLAGS.size)
        runs.check_before_training(config, workdir)  # before TensorFlow's import: in seconds
        from rjkeras import trainer

        trainer.train(config, workdir, strategy=FLAGS.strategy,
                      when_done=_export if FLAGS.export else None)
    except UserError as e:
        fail(e)
    std_logging.getLogger("rjkeras").info("done: %s (TensorBoard: tensorboard --logdir %s)", workdir,
                 os.path.join(workdir, "tensorboard"))


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=parse_only_flags)
