"""Frechet Video Distance (Unterthiner et al. 2018), as its reference code computes it.

    uint8 videos (B, T, H, W, 3)
      -> every frame resized bilinearly to 224x224 (TF1's `resize_bilinear`: no half-pixel centres,
         no antialiasing, as the reference calls it)
      -> 2 x / 255 - 1, in [-1, 1]
      -> I3D (Kinetics-400) logits averaged over time, (B, 400)
      -> Frechet distance in float64 with unbiased covariances (`rjkeras.eval.frechet`)

Real and generated videos go through the same uint8 stage: real frames are first brought to the
model's resolution (as the models are trained on them), generated ones are rounded to pixels as
an exported video would be.

Short videos. I3D's last pool needs T >= 9 (`i3d.MIN_FRAMES`), and Sprites has 8 frames. Our
choice, the same for real and generated videos and written into the report: a video shorter than
9 frames is *looped* to 16 frames (frame t is frame t mod T: 1..8, 1..8), 16 being the length of
MoCoGAN's and FVD's usual clips. Sprites' actions are cycles (a walk cycle, a cast or a slash that
ends where it began), so a loop continues them where repeating the last frame would freeze them.
`repeat` (each frame shown 16/T times, in order: the clip at a lower frame rate) is the other
option. FVD values depend on the length and count of the videos: compare only numbers computed
alike (the paper draws 624 real and 624 generated videos).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import tensorflow as tf

from rjkeras.eval import frechet
from rjkeras.eval.i3d import INPUT_SIZE, MIN_FRAMES

log = logging.getLogger("rjkeras")

SHORT_VIDEO_POLICIES = ("loop", "repeat")
SHORT_VIDEO_LENGTH = 16  # what a video shorter than MIN_FRAMES is extended to


def extended_indices(length: int, policy: str = "loop",
                     target: int = SHORT_VIDEO_LENGTH) -> np.ndarray | None:
    """Frame indices that extend a `length`-frame video to `target` frames, or None when it is
    long enough for I3D (length >= 9) and is used as it is.

    loop: t mod length (8 frames -> 0..7, 0..7); repeat: floor(t * length / target) (8 -> 0, 0, 1, 1, ...).
    """
    if policy not in SHORT_VIDEO_POLICIES:
        raise ValueError(f"unknown short-video policy {policy!r}; choose one of {SHORT_VIDEO_POLICIES}")
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    if length >= MIN_FRAMES:
        return None
    t = np.arange(target)
    return t % length if policy == "loop" else (t * length) // target


def short_video_report(length: int, policy: str) -> dict:
    """What the report says about the videos' length as I3D saw them."""
    indices = extended_indices(length, policy)
    if indices is None:
        return {"video_length": length, "i3d_length": length, "short_videos": "none (long enough)"}
    return {"video_length": length, "i3d_length": len(indices),
            "short_videos": f"{policy}: videos of fewer than {MIN_FRAMES} frames are extended to "
                            f"{len(indices)} frames (frame indices {indices.tolist()}), real and "
                            "generated alike"}


def preprocess(videos, policy: str = "loop") -> tf.Tensor:
    """uint8 (or 0..255 float) videos (B, T, H, W, 3) -> float32 (B, T', 224, 224, 3) in [-1, 1].

    T' = T, or 16 for T < 9 (`extended_indices`). The resize is TF1's `resize_bilinear` with
    align_corners=False and half_pixel_centers=False, which FVD's reference calls; TF2's
    `tf.image.resize` would shift the sampling grid by half a pixel.
    """
    videos = tf.convert_to_tensor(videos)
    indices = extended_indices(int(videos.shape[1]), policy)
    if indices is not None:
        videos = tf.gather(videos, indices, axis=1)
    shape = tf.shape(videos)
    frames = tf.reshape(videos, tf.concat([[-1], shape[2:]], 0))  # (B*T, H, W, 3)
    frames = tf.raw_ops.ResizeBilinear(images=frames, size=[INPUT_SIZE, INPUT_SIZE],
                                       align_corners=False, half_pixel_centers=False)  # float32
    frames = tf.reshape(frames, [shape[0], shape[1], INPUT_SIZE, INPUT_SIZE, 3])
    return 2.0 * tf.cast(frames, tf.float32) / 255.0 - 1.0


def to_uint8(videos) -> np.ndarray:
    """[-1, 1] floats -> uint8 pixels (rounded, as `rjkeras.summaries.to_uint8` and exports)."""
    videos = np.asarray(videos)
    if videos.dtype == np.uint8:
        return videos
    return np.clip(np.round((videos.astype(np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def activations(i3d, batches: Iterable, policy: str = "loop", i3d_batch_size: int = 8,
                total: int | None = None, what: str = "videos") -> np.ndarray:
    """I3D logits (N, 400) of videos given as batches of (B, T, H, W, 3), uint8 or [-1, 1] floats.

    Runs I3D `i3d_batch_size` videos at a time (a 16-frame 224x224 video is ~10 MB as floats);
    logs progress as it goes when `total` is known.
    """
    outputs, done, next_log = [], 0, 0
    for batch in batches:
        batch = to_uint8(batch)
        for start in range(0, len(batch), i3d_batch_size):
            outputs.append(i3d(preprocess(batch[start:start + i3d_batch_size], policy)))
        done += len(batch)
        if total and done >= next_log:
            log.info("fvd: I3D on %s %d/%d", what, min(done, total), total)
            next_log = done + max(total // 10, 1)
    if not outputs:
        raise ValueError(f"no {what} to compute FVD on")
    return np.concatenate(outputs, 0)


def fvd(real_activations, generated_activations) -> float:
    """FVD from I3D logits of real and generated videos (N, 400) each."""
    return frechet.frechet_distance(real_activations, generated_activations)
