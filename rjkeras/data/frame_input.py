"""Batches of labelled single frames (`frames`): the judge's training input."""

from __future__ import annotations

import tensorflow as tf

from rjkeras.data.memory import PARALLEL_CALLS
from rjkeras.data.stored import (VIDEO, _bounded, _check_sizes, _open, _read_encoded, _to_model_range,
                                 _video_decoder)
from rjkeras.errors import UserError


def frames(name: str, split: str, labels: tuple[str, ...] = (), *, batch_size: int,
           data_dir: str | None = None, manual_dir: str | None = None,
           builder_config: str | None = None, image_size: int = 64, shuffle: bool = True,
           repeat: bool = True, seed: int = 0, drop_remainder: bool = True,
           shuffle_buffer: int = 1024, frame_shuffle_buffer: int = 2048) -> tf.data.Dataset:
    """Batches of single frames, each with its video's labels (the judge's training input).

    Every frame of every video; when shuffling, videos are shuffled (`shuffle_buffer`, held
    compressed) and their frames mixed in a buffer of `frame_shuffle_buffer` decoded uint8 frames.
    The order is that of `videos` with the same seed, split into frames, through the frame buffer.

    Returns:
      A dataset of (images float32 (B, H, W, 3) in [-1, 1] with H = W = image_size,
      {label: (B,)} as in the dataset).
    """
    _check_sizes(batch_size=batch_size, image_size=image_size, shuffle_buffer=shuffle_buffer,
                 frame_shuffle_buffer=frame_shuffle_buffer)
    builder, info = _open(name, split, data_dir=data_dir, manual_dir=manual_dir,
                          builder_config=builder_config)
    unknown = [label for label in labels if label not in info.labels]
    if unknown:
        raise UserError(f"unknown label {unknown[0]!r} of dataset {name!r}; choose from: "
                        f"{', '.join(info.labels)}")
    decode_video = _video_decoder(builder.info.features[VIDEO])

    def split_video(example):
        video = decode_video(example[VIDEO])  # (T, H, W, 3) uint8
        steps = tf.shape(video)[0]
        return video, {label: tf.repeat(example[label], steps) for label in labels}

    ds = _read_encoded(builder, split, shuffle_files=shuffle, seed=seed)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.map(split_video, num_parallel_calls=PARALLEL_CALLS, deterministic=True).unbatch()
    if shuffle:
        ds = ds.shuffle(frame_shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(lambda images, labels_: (_to_model_range(images, image_size, info.image_shape[:2]), labels_),
                num_parallel_calls=PARALLEL_CALLS, deterministic=True)
    return _bounded(ds)
