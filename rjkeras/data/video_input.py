"""Batches of whole videos with their labels (`videos`): the VAEs' input and the evaluation's real
videos."""

from __future__ import annotations

import tensorflow as tf

from rjkeras.data.memory import PARALLEL_CALLS
from rjkeras.data.stored import (VIDEO, _bounded, _check_sizes, _open, _read_encoded, _to_model_range,
                                 _video_decoder)
from rjkeras.errors import UserError


def videos(name: str, split: str, *, batch_size: int, data_dir: str | None = None,
           manual_dir: str | None = None, builder_config: str | None = None, image_size: int = 64,
           num_frames: int | None = None, shuffle: bool = True, repeat: bool = True, seed: int = 0,
           drop_remainder: bool = True, shuffle_buffer: int = 1024) -> tf.data.Dataset:
    """Batches of videos and their labels from a prepared (or prepared now) dataset.

    Args:
      name: registry name (a key of `registry.DATASETS`).
      split: a TFDS split ("train", "test", or a slice such as "train[:90%]").
      batch_size: videos per batch.
      image_size: frames are resized bilinearly to (image_size, image_size), antialiased when
        shrinking; the stored size keeps them as they are.
      num_frames: keep the first num_frames frames (None: all).
      shuffle: shuffle files and examples (deterministic given `seed`, reshuffled every epoch).
      repeat: repeat forever.
      drop_remainder: drop a last, smaller batch (MirroredStrategy needs equal batches).
      shuffle_buffer: examples in the shuffle buffer (held compressed).

    Returns:
      A dataset of dicts: "video" float32 (B, T, H, W, 3) in [-1, 1]; every label as in the
      dataset (class labels int64 (B,), "character" int32 (B,)).
    """
    _check_sizes(batch_size=batch_size, image_size=image_size)
    builder, info = _open(name, split, data_dir=data_dir, manual_dir=manual_dir,
                          builder_config=builder_config)
    if num_frames is not None and not 1 <= num_frames <= info.num_frames:
        raise UserError(f"num_frames={num_frames} must be in [1, {info.num_frames}] for {name}")
    num_frames = num_frames or info.num_frames
    decode_video = _video_decoder(builder.info.features[VIDEO])

    def decode(example):
        video = decode_video(example[VIDEO])[:num_frames]  # (T, H, W, 3) uint8
        example = dict(example)
        example[VIDEO] = _to_model_range(video, image_size, info.image_shape[:2])
        return example

    ds = _read_encoded(builder, split, shuffle_files=shuffle, seed=seed)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.map(decode, num_parallel_calls=PARALLEL_CALLS, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return _bounded(ds)
