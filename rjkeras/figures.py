"""The paper's qualitative figures as files (PNG grids, animated GIFs) and in TensorBoard.

    python -m rjkeras.figures --model=workdirs/rjgan_mug --baseline=workdirs/image_gan_mug \\
        --output=figures/rjgan_mug --num=8 --length=16 --seed=0 --tensorboard

The model is a training work dir (its latest checkpoint) or a SavedModel from rjkeras.export
(see `rjkeras.runs.open_generator`). Every figure the model's signatures allow is written
(`--figures` picks some; asking for one the model cannot make is an error):

    summary_frames.png/.gif   fig. 3 and fig. 7 top: videos from the prior, one a row, each
                              with its summary frame in the first column (RJGAN, RJVAE);
                              videos.png/.gif for video models without summary frames
    fixed_content.png         fig. 5: pairs of rows sharing a content vector z_C, the motion
                              z_M resampled (generate_with_content: MoCoGAN, RMoCoGAN)
    images.png                images from the fixed prior (generate_images), num x num
    images_vs_baseline.png    fig. 6: the model's images above the --baseline's (same seed)
    inference.png             fig. 7 bottom (VAEs): rows alternate a real test video and its
                              reconstruction. The summary frame of the posterior mean is NOT
                              shown: no export signature decodes an encoded summary vector.
    interpolation.png/.gif    figs. 10-11: the line between the summary vectors of two seeds,
                              one row a step, summary frames first when the model has them

PNG grids have frames across and videos down (`rjkeras.summaries.video_grid`). In a GIF every
video of the grid animates side by side, one GIF frame per time step; with summary frames they
are a still row above their videos. Pillow merges a GIF frame identical to the one before it into
that one's duration, so a video that does not move has fewer GIF frames than time steps.

`--tensorboard` also writes every PNG as an image summary under `<workdir>/tensorboard/figures`
at the checkpoint's step (a work dir only).
"""

from __future__ import annotations

import os

from rjkeras.cli import define_flags, parse_only_flags, read_flags
from rjkeras.errors import UserError, fail
from rjkeras.eval.figures import Options, run


def main(argv: list[str]) -> None:
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    try:
        run(read_flags(Options))
    except UserError as e:
        fail(e)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from absl import app

    define_flags(Options)
    app.run(main, flags_parser=parse_only_flags)
