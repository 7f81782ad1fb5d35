"""Exports a work dir as a SavedModel: `python -m rjkeras.export --workdir=workdirs/rjvae_...`.

Loads the run's config.json and latest checkpoint and writes a SavedModel (default
<workdir>/saved_model) whose signatures are listed in `rjkeras.export.module`.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from rjkeras.errors import UserError, fail, parse_flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Work dir of a training run (holds config.json and checkpoints).")
flags.DEFINE_string("output", None, "Where to write the SavedModel; default <workdir>/saved_model.")


def main(argv):
    del argv
    logging.set_verbosity(logging.INFO)
    if not FLAGS.workdir:
        print("error: --workdir is required (the work dir of a training run)", file=sys.stderr)
        sys.exit(2)
    try:
        from rjkeras.export.module import export_workdir

        print(export_workdir(FLAGS.workdir, FLAGS.output))
    except UserError as e:
        fail(e)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
