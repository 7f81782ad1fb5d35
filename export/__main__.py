"""Exports a work dir as a SavedModel: `python -m rjkeras.export --workdir=workdirs/rjvae_...`.

Loads the run's config.json and latest checkpoint and writes a SavedModel (default
<workdir>/saved_model) whose signatures are listed in `rjkeras.export.module`.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from rjkeras import config as config_lib  # noqa: E402
from rjkeras.cli import parse_flags  # noqa: E402
from rjkeras.errors import UserError, fail  # noqa: E402

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command's flags; defined only when it runs, so that importing it defines none."""
    flags.DEFINE_string("workdir", None, "The work dir of a training run (holds config.json and checkpoints).")
    flags.DEFINE_string("output", None, "Where to write the SavedModel; default <workdir>/saved_model.")
    flags.mark_flag_as_required("workdir")


def main(argv):
    del argv
    logging.set_verbosity(logging.INFO)
    try:
        config_lib.load_workdir_config(FLAGS.workdir)  # a missing or corrupt config.json, said at once
        from rjkeras.export.module import export_workdir  # imports TensorFlow

        print(export_workdir(FLAGS.workdir, FLAGS.output))
    except UserError as e:
        fail(e)


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=parse_flags)
