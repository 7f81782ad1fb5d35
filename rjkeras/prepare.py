"""Prepares a dataset through its TFDS builder, offline, with progress.

    python -m rjkeras.prepare synthetic_sprites [--config=tiny] [--data_dir=DIR]
    python -m rjkeras.prepare sprites --manual_dir=DIR

Already-prepared data is reused, never rebuilt or deleted (see `rjkeras.data.registry`).
"""

from __future__ import annotations

import os

# Before TensorFlow is imported anywhere: silence its C++ INFO/WARNING logs so that progress shows
# (TF 2.21 still prints a few lines before its logger reads this variable).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from rjkeras.cli import parse_flags  # noqa: E402
from rjkeras.data.registry import DATASETS, describe, get_builder, is_prepared, prepare  # noqa: E402
from rjkeras.errors import UserError, fail  # noqa: E402

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command's flags; defined only when it runs, so that importing it defines none."""
    flags.DEFINE_string("config", None, "Builder config (e.g. tiny, small, default); default: the builder's.")
    flags.DEFINE_string("data_dir", None, "Where prepared datasets live; default: $TFDS_DATA_DIR or "
                        "~/tensorflow_datasets.")
    flags.DEFINE_string("manual_dir", None, "Folder with the raw files of a dataset that cannot be "
                        "downloaded "
                        "(sprites: npy/ or its parent; mug: subjects3/ or its parent; nir: "
                        "OriginalImg/ or its parent; weizmann: the folder of .avi files).")


def main(argv: list[str]) -> None:
    logging.set_verbosity(logging.WARNING)  # TFDS's INFO lines would bury its progress bars
    try:
        if len(argv) != 2:
            raise UserError(f"expected one dataset name ({', '.join(sorted(DATASETS))}), "
                            f"got {len(argv) - 1}: usage: python -m rjkeras.prepare NAME [--config=...]")
        name = argv[1]
        reused = is_prepared(get_builder(name, data_dir=FLAGS.data_dir, config=FLAGS.config))
        builder = prepare(name, data_dir=FLAGS.data_dir, manual_dir=FLAGS.manual_dir, config=FLAGS.config)
    except UserError as e:
        fail(e)
    print(f"{'Reused' if reused else 'Prepared'} {describe(builder)}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=parse_flags)
