"""Samples as media files' bytes: animated GIFs, frame strips and still PNGs (uint8 in, bytes out).

Used by the figures and the human-evaluation kit.
"""

from __future__ import annotations

import io

import numpy as np

STRIP_GAP = 2  # white pixels between the frames of a strip


def gif_bytes(video: np.ndarray, fps: float) -> bytes:
    """A looping animated GIF of a uint8 video (T, H, W, 3); each frame gets its own palette."""
    from PIL import Image

    frames = [Image.fromarray(frame) for frame in video]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:],
                   duration=int(round(1000 / fps)), loop=0)
    return out.getvalue()


def strip(video: np.ndarray, gap: int = STRIP_GAP) -> np.ndarray:
    """A video (T, H, W, 3) -> its frames side by side (H, T*W + (T-1)*gap, 3), white gaps."""
    t, h, w, _ = video.shape
    image = np.full((h, t * (w + gap) - gap, 3), 255, np.uint8)
    for i, frame in enumerate(video):
        image[:, i * (w + gap):i * (w + gap) + w] = frame
    return image


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()
