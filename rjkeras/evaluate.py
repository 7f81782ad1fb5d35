"""Evaluates a trained model: `python -m rjkeras.evaluate --workdir=workdirs/rjgan_mug --judge=...`.

Metrics (`--metrics`, a comma list; default: every one whose inputs are given and that the model
supports):

    fvd              Frechet Video Distance with I3D (needs --i3d; `rjkeras.eval.fvd`)
    is               Inception Score of images from the fixed prior under the judge (needs --judge)
    judge_fd         Frechet distance in the judge's feature space (needs --judge; NOT FVD)
    disentanglement  fix content, resample motion and the reverse; judge agreement rates
                     (needs --judge and a model with content/motion: the video GANs, the VAEs)

The model is a work dir (`--workdir`: its config.json and latest checkpoint) or a SavedModel
(`--saved_model`, from `python -m rjkeras.export`; the dataset comes from the work dir it lies
in, or from --dataset). Real videos come from the model's dataset (`--real_split`, default
train), resized to the model's frame size and cut to the generated length. Generated videos and
images are rounded to uint8 pixels, as an exported model returns them, so both ways of naming a
model give the same numbers for the same seed.

Writes a JSON report (default `<workdir>/eval/report.json`; for a SavedModel
`<its parent>/eval/report_<its name>.json`), merged with the metrics of an earlier report of the
same model, and TensorBoard scalars under `<workdir>/tensorboard/eval` at the checkpoint's step
(step 0 for a SavedModel).
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

from rjkeras import runtime  # noqa: E402
from rjkeras.cli import define_flags, parse_only_flags, read_flags  # noqa: E402
from rjkeras.errors import UserError, fail  # noqa: E402
from rjkeras.eval.options import Options, validate  # noqa: E402


def quiet_libraries() -> None:
    """Our progress lines at INFO; TensorFlow's and TFDS's own INFO chatter hidden (as
    rjkeras.train, whose flags cannot be imported beside ours)."""
    absl_logging.set_verbosity(absl_logging.WARNING)
    logging.getLogger("rjkeras").setLevel(logging.INFO)


def main(argv):
    quiet_libraries()
    runtime.tune_allocator()  # freed memory stays for the next step (rjkeras.runtime)
    options = read_flags(Options)
    try:
        validate(options)  # a bad flag is answered before TensorFlow's import
        from rjkeras.eval.evaluation import run

        run(options)
    except UserError as e:
        fail(e)


if __name__ == "__main__":
    define_flags(Options)
    app.run(main, flags_parser=parse_only_flags)
