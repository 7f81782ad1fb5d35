"""The I3D weights' converter command, `python -m rjkeras.eval.i3d --saved_model=DIR
--output=i3d_kinetics400.weights.h5` (`rjkeras.eval.i3d.convert` does the work).

Its flags and the checks that need only paths live here, apart from `rjkeras.eval.i3d`, which
imports TensorFlow: that module's `__main__` hands over to `run` before its own imports, so a
misspelt flag or a wrong folder is answered at once rather than after TensorFlow's import.
"""

from __future__ import annotations

import os

from rjkeras.cli import parse_only_flags
from rjkeras.errors import UserError, fail


def is_saved_model(path: str) -> bool:
    """A SavedModel folder: it holds saved_model.pb (or .pbtxt)."""
    return os.path.isdir(path) and (os.path.exists(os.path.join(path, "saved_model.pb"))
                                    or os.path.exists(os.path.join(path, "saved_model.pbtxt")))


def check_paths(saved_model: str, output: str) -> None:
    """The conversion's input is a SavedModel folder and its output a Keras weights file name."""
    if not is_saved_model(saved_model):
        raise UserError(f"--saved_model={saved_model} is not a SavedModel folder (no saved_model.pb)")
    if not output.endswith(".weights.h5"):
        raise UserError(f"--output={output} must end with .weights.h5")


def main(argv):
    from absl import flags
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)
    FLAGS = flags.FLAGS
    saved_model, output = os.path.expanduser(FLAGS.saved_model), os.path.expanduser(FLAGS.output)
    try:
        check_paths(saved_model, output)
        from rjkeras.eval import i3d

        output, difference = i3d.convert(saved_model, output, check=FLAGS.check)
    except UserError as e:
        fail(e)
    if difference is not None:
        print(f"checked: the converted network matches the module (largest logit difference "
              f"{difference:.2g} on a random video)")
    print(output)


def run() -> None:
    """Defines the command's flags and runs it (absl's app.run exits)."""
    from absl import app, flags

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    flags.disclaim_key_flags()  # the flags are the running command's (`i3d`'s): --helpshort lists them
    flags.DEFINE_string("saved_model", None, "The folder of the TF-Hub i3d-kinetics-400 module (untarred).")
    flags.mark_flag_as_required("saved_model")
    flags.DEFINE_string("output", "i3d_kinetics400.weights.h5", "Keras weights file to write.")
    flags.DEFINE_bool("check", True, "Run both networks on a random video and refuse to write "
                      "weights that disagree with the module.")
    app.run(main, flags_parser=parse_only_flags)
