"""Trains the judge classifier of a dataset: `python -m rjkeras.eval.train_judge --dataset=mug
--workdir=workdirs/judge_mug`.

The judge has D_I's architecture (paper section 5.2) and learns the dataset's labels from single
frames of the train split (MUG and NIR: expression; Weizmann: action; Sprites: action, direction
and the four attributes); its accuracy on the test split is logged and saved in
`<workdir>/judge.json` beside its weights. `rjkeras.evaluate --judge=<workdir>` then uses it for
the Inception Score, the judge's Frechet distance and the disentanglement scores. Train it at
the frame size of the models it will judge (`--image_size`).
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

from rjkeras import runtime  # noqa: E402
from rjkeras.cli import defaults_of, parse_only_flags  # noqa: E402
from rjkeras.errors import UserError, fail  # noqa: E402

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command's flags; defined only when it runs so that importing it defines none. Their
    defaults are `judge.train_judge`'s own (which costs the command TensorFlow's import first)."""
    from rjkeras.eval import judge

    default = defaults_of(judge.train_judge)
    flags.DEFINE_string("dataset", None, "The dataset whose labels the judge learns (synthetic_sprites is "
                        "built in).")
    flags.mark_flag_as_required("dataset")
    flags.DEFINE_string("workdir", None, "Where to save the judge; default workdirs/judge_<dataset>_<size>.")
    flags.DEFINE_list("labels", None, "Class labels to learn (comma list); default the dataset's "
                      "(see rjkeras.eval.judge).")
    flags.DEFINE_integer("image_size", default["image_size"], "Frame size: the size of the models it will judge.")
    flags.DEFINE_integer("ndf", default["ndf"], "D_I's width (MoCoGAN's 64).")
    flags.DEFINE_integer("steps", default["steps"], "Training steps.")
    flags.DEFINE_integer("batch_size", default["batch_size"], "Frames per step.")
    flags.DEFINE_float("learning_rate", default["learning_rate"], "Adam's learning rate.")
    flags.DEFINE_integer("seed", default["seed"], "Seed of the initialisation and the data order.")
    flags.DEFINE_integer("log_every", default["log_every"], "Steps between progress lines.")
    flags.DEFINE_string("dataset_config", None, "TFDS builder config name (default: the builder's).")
    flags.DEFINE_string("data_dir", None, "Where prepared TFDS datasets live.")
    flags.DEFINE_string("manual_dir", None, "The raw download, for datasets that need one.")


def main(argv):
    runtime.tune_allocator()  # freed memory stays for the next step (rjkeras.runtime)
    absl_logging.set_verbosity(absl_logging.WARNING)
    logging.getLogger("rjkeras").setLevel(logging.INFO)
    try:
        from rjkeras.data.registry import DATASETS

        if FLAGS.dataset not in DATASETS:
            raise UserError(f"unknown dataset {FLAGS.dataset!r}; choose one of: "
                            f"{', '.join(sorted(DATASETS))}")
        from rjkeras.eval import judge

        workdir = FLAGS.workdir or os.path.join("workdirs", f"judge_{FLAGS.dataset}_{FLAGS.image_size}")
        trained = judge.train_judge(
            FLAGS.dataset, workdir, labels=FLAGS.labels, builder_config=FLAGS.dataset_config,
            data_dir=FLAGS.data_dir, manual_dir=FLAGS.manual_dir, image_size=FLAGS.image_size,
            ndf=FLAGS.ndf, steps=FLAGS.steps, batch_size=FLAGS.batch_size,
            learning_rate=FLAGS.learning_rate, seed=FLAGS.seed, log_every=FLAGS.log_every)
    except UserError as e:
        fail(e)
    accuracy = trained.info["test_accuracy"]
    print("test accuracy per video: " + ", ".join(
        f"{label} {accuracy[label]['video']:.3f}" for label in trained.labels))
    print(workdir)


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=parse_only_flags)
