"""TensorBoard panels: frame grids with frames across and videos down."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

GAP = 2  # pixels between frames


def to_uint8(x):
    """[-1, 1] floats (any shape) -> uint8 pixels."""
    return tf.cast(tf.clip_by_value(tf.round((x + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def video_grid(videos, first_column=None) -> np.ndarray:
    """Videos (N, T, H, W, 3) uint8 -> one image (N*(H+gap), ..., 3): frames across, videos down.

    `first_column` (N, H, W, 3), e.g. each video's summary frame, is put before the frames with
    a wider gap so it reads as a separate column.
    """
    videos = np.asarray(videos)
    n, t, h, w, _ = videos.shape
    extra = 0 if first_column is None else w + 3 * GAP
    grid = np.full((n * (h + GAP) - GAP, extra + t * (w + GAP) - GAP, 3), 255, np.uint8)
    for i in range(n):
        top = i * (h + GAP)
        if first_column is not None:
            grid[top:top + h, :w] = np.asarray(first_column)[i]
        for j in range(t):
            left = extra + j * (w + GAP)
            grid[top:top + h, left:left + w] = videos[i, j]
    return grid


def interleave(real, fake) -> np.ndarray:
    """(N, T, H, W, 3) x 2 -> (2N, T, H, W, 3): each real video followed by its reconstruction."""
    real, fake = np.asarray(real), np.asarray(fake)
    return np.stack([real, fake], axis=1).reshape((-1,) + real.shape[1:])


def write_image(name: str, image: np.ndarray, step: int, description: str | None = None):
    tf.summary.image(name, image[None], step=step, description=description)
