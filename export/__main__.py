"""Exports a work dir as a SavedModel: `python -m rjkeras.export --workdir=workdirs/rjvae_...`.

Loads the run's config.json and latest checkpoint and writes a SavedModel (default
<workdir>/saved_model) whose signatures are listed in `rjkeras.export.module`.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from rjkeras.errors import UserError, fail  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Work dir of a training run (holds config.json and checkpoints).")
flags.DEFINE_string("output", None, "Where to write the SavedModel; default <workdir>/saved_model.")


def export(workdir: str, output: str | None = None) -> str:
    """Exports the latest checkpoint of `workdir`; returns the SavedModel's path."""
    from rjkeras import config as config_lib
    from rjkeras import trainer
    from rjkeras.export import module
    from rjkeras.models import build_model, compile_model

    config = config_lib.load_workdir_config(workdir)
    model = compile_model(build_model(config), config)
    step = trainer.restore(model, workdir, expect_partial=True)
    if step is None:
        raise UserError(f"{workdir} has no checkpoint yet: train first (rjkeras.train --workdir={workdir})")
    output = output or os.path.join(workdir, "saved_model")
    module.save(model, config.data.image_size, output)
    logging.info("exported %s at step %d to %s", config.model_name, step, output)
    return output


def main(argv):
    del argv
    logging.set_verbosity(logging.INFO)
    if not FLAGS.workdir:
        print("error: --workdir is required (the work dir of a training run)", file=sys.stderr)
        sys.exit(2)
    try:
        print(export(FLAGS.workdir, FLAGS.output))
    except UserError as e:
        fail(e)


if __name__ == "__main__":
    app.run(main)
