"""The GANs' two input streams: single frames for the image discriminator (MoCoGAN's S_1) zipped
with clips for the video discriminator (S_T), optionally from the paper's mixture of image-only
and full videos (section 5.1), chosen by raw video."""

from __future__ import annotations

import math

from absl import logging
import numpy as np
import tensorflow as tf

from rjkeras.data.memory import PARALLEL_CALLS
from rjkeras.data.stored import (VIDEO, _bounded, _check_sizes, _open, _read_encoded, _to_model_range,
                                 _video_decoder)
from rjkeras.errors import UserError

FRAMES = "frames"
CLIPS = "clips"
# Mixes the seed into the image-only split's generator, so that it draws numbers independent of
# any other use of the same seed.
_IMAGE_ONLY_STREAM = 0x1A6E


def image_only_count(num_videos: int, image_fraction: float) -> int:
    """How many of `num_videos` videos the mixed mode breaks into single frames: the fraction
    rounded to the nearest count (half up), e.g. 36 of 72 at 0.5, 2 of 3 at 0.5."""
    if not 0.0 <= image_fraction < 1.0:
        raise UserError(f"image_fraction={image_fraction} must be in [0, 1)")
    return int(math.floor(image_fraction * num_videos + 0.5))


def image_only_videos(num_videos: int, image_fraction: float, seed: int) -> np.ndarray:
    """Which videos of a split the mixed mode breaks into single frames.

    The rule: rank the split's videos by a permutation drawn from `seed`
    (`np.random.default_rng([seed, 0x1A6E]).permutation(num_videos)`); the videos whose rank is
    below `image_only_count(num_videos, image_fraction)` are image-only. Videos are numbered in the
    order TFDS reads the split unshuffled, which the prepared files fix, so the split is the same in
    every run and resume with the same seed and data; it is exact, not a coin flip per video.

    Returns:
      bool (num_videos,): True for an image-only video, by position in the unshuffled split.
    """
    count = image_only_count(num_videos, image_fraction)
    rank = np.random.default_rng([seed, _IMAGE_ONLY_STREAM]).permutation(num_videos)
    return rank < count


RAW_VIDEO = "video_id"  # natural-video builders: the raw video a stored clip was cut from


def raw_video_ids(builder, split: str) -> np.ndarray | None:
    """Each stored example's raw video (its `video_id`), in the unshuffled order of the split;
    None where every example is a video of its own (no `video_id` feature: Sprites, synthetic).

    MUG, NIR and Weizmann store several (overlapping) clips per raw take; one pass over the
    split reads their ids (the videos stay compressed and undecoded).
    """
    if RAW_VIDEO not in builder.info.features:
        return None
    ids = _read_encoded(builder, split, shuffle_files=False, seed=0).map(lambda example: example[RAW_VIDEO])
    return np.concatenate([batch.numpy() for batch in ids.batch(65536)] or [np.zeros(0, np.int32)])


def image_only_examples(raw_ids: np.ndarray | None, num_examples: int, image_fraction: float,
                        seed: int) -> tuple[np.ndarray, int, int]:
    """Which stored examples the mixed mode keeps out of the clips stream, chosen by raw video.

    The paper withholds the motion of half the *videos*: every clip of an image-only raw video
    is image-only, so D_V never sees a clip of one. The raw videos (distinct `raw_ids`, sorted)
    are ranked by `image_only_videos`; without raw ids each example is its own video.

    Returns:
      (bool (num_examples,) by position in the unshuffled split, image-only raw videos, raw videos).
    """
    if raw_ids is None:
        image_only = image_only_videos(num_examples, image_fraction, seed)
        return image_only, int(image_only.sum()), num_examples
    distinct, position = np.unique(raw_ids, return_inverse=True)
    chosen = image_only_videos(len(distinct), image_fraction, seed)
    return chosen[position], int(chosen.sum()), len(distinct)


def _sub_seed(seed: int, stream: int) -> int:
    """An independent op seed per random stream of one pipeline (shuffles, clip starts)."""
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0] >> 1)


def gan_inputs(name: str, split: str, *, image_batch_size: int, video_batch_size: int,
               clip_length: int, clip_stride: int = 1, image_fraction: float = 0.0,
               data_dir: str | None = None, manual_dir: str | None = None,
               builder_config: str | None = None, image_size: int = 64, shuffle: bool = True,
               repeat: bool = True, seed: int = 0, labels: tuple[str, ...] = (), split_seed: int = 0,
               shuffle_buffer: int = 1024, frame_shuffle_buffer: int = 4096) -> tf.data.Dataset:
    """Batches of single frames (for D_I) zipped with batches of clips (for D_V).

    The two streams follow MoCoGAN's samplers:
    - frames (S_1): a frame uniformly over all frames of all videos: videos are shuffled, split
      into their frames, and the frames shuffled again in a buffer of `frame_shuffle_buffer`.
    - clips (S_T): a video, a random start, and `clip_length` frames `clip_stride` apart.
      MoCoGAN uses stride 2 for videos of >= 32 frames; here a video too short for
      `clip_stride` ((clip_length - 1) * clip_stride + 1 frames) falls back to stride 1 with a
      random start, which for a video of exactly `clip_length` frames is its first clip_length
      frames. (MoCoGAN's fallback always takes the first frames.)
    Both draw over *stored* examples, not raw videos: where a builder stores overlapping clips of
    a take (MUG, NIR, Weizmann), a take weighs by its number of clips, frames in two clips weigh
    twice, and only the frames kept in clips exist (MUG keeps every other raw frame). MoCoGAN's
    samplers draw a uniform raw video (S_T) and a uniform raw frame (S_1).

    Mixed mode (paper section 5.1): `image_fraction` of the split's videos are "broken into single
    frames": they feed the frames stream only, never the clips stream, while the frames stream
    draws from all videos. Videos are raw videos: where a builder stores several clips of one
    take (MUG, NIR, Weizmann: their `video_id`), all of its clips are image-only or none is
    (`image_only_examples`). Which ones is fixed by `split_seed` (see `image_only_videos`), not
    by `seed`: a trainer that reseeds the streams on resume keeps the same split. The paper's 1:1
    mixture is image_fraction=0.5.

    Args:
      name: registry name (a key of `registry.DATASETS`).
      split: a TFDS split ("train", "test", or a slice such as "train[:90%]").
      image_batch_size: frames per batch (Bi).
      video_batch_size: clips per batch (Bv).
      clip_length: frames per clip (L); at most the dataset's frames per video.
      clip_stride: frames between consecutive clip frames (1: contiguous).
      image_fraction: share of (raw) videos used as images only, in [0, 1).
      image_size: frames are resized bilinearly to (image_size, image_size), antialiased when
        shrinking; the stored size keeps them as they are.
      shuffle: shuffle videos and frames (deterministic given `seed`, reshuffled every epoch).
        Clip starts are drawn from `seed` either way.
      repeat: repeat forever; otherwise the zip ends with the shorter stream's last full batch.
      seed: fixes shuffles and clip starts.
      labels: label features of the clips' videos to add (e.g. ("action",)).
      split_seed: fixes which videos are image-only (mixed mode).
      shuffle_buffer: videos in each stream's shuffle buffer (held compressed).
      frame_shuffle_buffer: decoded uint8 frames in the frames stream's buffer.

    Returns:
      A dataset of dicts: "frames" float32 (Bi, H, W, 3) and "clips" float32 (Bv, L, H, W, 3),
      both in [-1, 1] with H = W = image_size, and "clip_<label>" int64 (Bv,) for each of
      `labels`. Both batch sizes are fixed (drop_remainder), as MirroredStrategy needs.
    """
    _check_sizes(image_batch_size=image_batch_size, video_batch_size=video_batch_size,
                 clip_length=clip_length, clip_stride=clip_stride, image_size=image_size,
                 shuffle_buffer=shuffle_buffer, frame_shuffle_buffer=frame_shuffle_buffer)
    image_only_count(0, image_fraction)  # validates the fraction before any work
    builder, info = _open(name, split, data_dir=data_dir, manual_dir=manual_dir,
                          builder_config=builder_config)
    if clip_length > info.num_frames:
        dataset = name + (f"/{info.config}" if info.config else "")
        raise UserError(f"clip_length={clip_length} but {dataset} has {info.num_frames}-frame videos; "
                        f"choose clip_length <= {info.num_frames} or a dataset with longer videos")
    unknown = [label for label in labels if label not in info.labels]
    if unknown:
        raise UserError(f"unknown label {unknown[0]!r} of dataset {name!r}; choose from: "
                        f"{', '.join(info.labels)}")
    num_examples = builder.info.splits[split].num_examples
    raw_ids = raw_video_ids(builder, split) if image_fraction else None
    image_only, image_only_raw, num_raw = image_only_examples(raw_ids, num_examples, image_fraction,
                                                              split_seed)
    if image_only.all():
        raise UserError(f"image_fraction={image_fraction} leaves no video of the {num_raw} in "
                        f"{name} {split!r} for clips; lower it")
    if image_fraction:
        logging.info("%s %s: %d of %d videos are image-only (%d of %d stored clips; "
                     "image_fraction=%g)", name, split, image_only_raw, num_raw, image_only.sum(),
                     num_examples, image_fraction)
    decode_video = _video_decoder(builder.info.features[VIDEO])
    stored_size = info.image_shape[:2]

    # Unshuffled files, so that enumerate() numbers every video the same way in every run (the
    # image-only rule needs that); the example-level shuffle buffers do the shuffling. TFDS writes
    # examples in an order hashed from their keys, so the stored order is already well mixed.
    indexed = _read_encoded(builder, split, shuffle_files=False, seed=seed).enumerate()

    # Frames stream (S_1): every video, frames shuffled across videos.
    frames = indexed.map(lambda index, example: example[VIDEO])
    if shuffle:
        frames = frames.shuffle(shuffle_buffer, seed=_sub_seed(seed, 1), reshuffle_each_iteration=True)
    if repeat:
        frames = frames.repeat()
    frames = frames.map(decode_video, num_parallel_calls=PARALLEL_CALLS, deterministic=True)
    frames = frames.unbatch()  # (H, W, 3) uint8 frames, video by video
    if shuffle:
        # Held as uint8 (12 KB a 64x64 frame): the float conversion comes after batching.
        frames = frames.shuffle(frame_shuffle_buffer, seed=_sub_seed(seed, 2), reshuffle_each_iteration=True)
    frames = frames.batch(image_batch_size, drop_remainder=True)
    frames = frames.map(lambda batch: _to_model_range(batch, image_size, stored_size),
                        num_parallel_calls=PARALLEL_CALLS, deterministic=True)  # (Bi, H, W, 3)

    # Clips stream (S_T): videos that are not image-only, a random clip of each.
    clips = indexed
    if image_only.any():
        is_image_only = tf.constant(image_only)
        clips = clips.filter(lambda index, example: tf.logical_not(tf.gather(is_image_only, index)))
    clips = clips.map(lambda index, example: example)
    if shuffle:
        clips = clips.shuffle(shuffle_buffer, seed=_sub_seed(seed, 3), reshuffle_each_iteration=True)
    if repeat:
        clips = clips.repeat()
    start_seed = _sub_seed(seed, 4)

    def sample_clip(draw, example):
        """A (L, H, W, 3) float clip of the example's video; `draw` numbers the clip drawn."""
        video = decode_video(example[VIDEO])  # (T, H, W, 3) uint8
        num_frames = tf.shape(video)[0]
        stride = tf.where(num_frames >= (clip_length - 1) * clip_stride + 1, clip_stride, 1)
        last_start = num_frames - (clip_length - 1) * stride  # exclusive
        # A stateless draw per clip (keyed by its number): the same starts in every run.
        start = tf.random.stateless_uniform([], seed=tf.stack([tf.constant(start_seed, tf.int64), draw]),
                                            minval=0, maxval=last_start, dtype=tf.int32)
        clip = tf.gather(video, start + stride * tf.range(clip_length))  # (L, H, W, 3) uint8
        out = {CLIPS: _to_model_range(clip, image_size, stored_size)}
        for label in labels:
            out[f"clip_{label}"] = tf.cast(example[label], tf.int64)
        return out

    clips = clips.enumerate().map(sample_clip, num_parallel_calls=PARALLEL_CALLS, deterministic=True)
    clips = clips.batch(video_batch_size, drop_remainder=True)  # (Bv, L, H, W, 3)

    ds = tf.data.Dataset.zip(frames, clips).map(lambda f, c: {FRAMES: f, **c})
    return _bounded(ds)
