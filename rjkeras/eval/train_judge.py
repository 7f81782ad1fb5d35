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

import dataclasses
import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

from rjkeras import runtime  # noqa: E402
from rjkeras import cli  # noqa: E402
from rjkeras.errors import UserError, fail  # noqa: E402
from rjkeras.eval.options import JudgeTraining  # noqa: E402

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command's flags; defined only when it runs so that importing it defines none. The
    training settings' are `JudgeTraining`'s fields, whose defaults `judge.train_judge` shares."""
    flags.DEFINE_string("dataset", None, "The dataset whose labels the judge learns (synthetic_sprites is "
                        "built in).")
    flags.mark_flag_as_required("dataset")
    flags.DEFINE_string("workdir", None, "Where to save the judge; default workdirs/judge_<dataset>_<size>.")
    flags.DEFINE_list("labels", None, "Class labels to learn (comma list); default the dataset's "
                      "(see rjkeras.eval.judge).")
    cli.define_flags(JudgeTraining)
    flags.DEFINE_string("dataset_config", None, "TFDS builder config name (default: the builder's).")
    flags.DEFINE_string("data_dir", None, "Where prepared TFDS datasets live.")
    flags.DEFINE_string("manual_dir", None, "The raw download, for datasets that need one.")


def main(argv):
    runtime.tune_allocator()  # freed memory stays for the next step (rjkeras.runtime)
    absl_logging.set_verbosity(absl_logging.WARNING)
    logging.getLogger("rjkeras").setLevel(logging.INFO)
    try:
        from rjkeras.data import registry

        # What needs no TensorFlow is checked before judge's import (seconds) starts it.
        registry.check_name(FLAGS.dataset)
        training = cli.read_flags(JudgeTraining)
        training.validate()
        from rjkeras.eval import judge

        workdir = FLAGS.workdir or os.path.join("workdirs", f"judge_{FLAGS.dataset}_{training.image_size}")
        trained = judge.train_judge(
            FLAGS.dataset, workdir, labels=FLAGS.labels, builder_config=FLAGS.dataset_config,
            data_dir=FLAGS.data_dir, manual_dir=FLAGS.manual_dir, **dataclasses.asdict(training))
    except UserError as e:
        fail(e)
    accuracy = trained.info["test_accuracy"]
    print("test accuracy per video: " + ", ".join(
        f"{label} {accuracy[label]['video']:.3f}" for label in trained.labels))
    print(workdir)


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=cli.parse_only_flags)
