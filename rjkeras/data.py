"""tf.data pipelines over prepared datasets: batches of videos in [-1, 1] with their labels.

Datasets are prepared on demand through `rjkeras.prepare`. Examples are shuffled while still
zlib-compressed (a few KB each) and decoded afterwards in parallel, so memory stays small whatever
the dataset's size: nothing is cached.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from rjkeras import prepare
from rjkeras.errors import UserError

VIDEO = "video"


@tfds.decode.make_decoder(output_dtype=tf.string)
def _keep_encoded(serialized, feature):
    """Leaves a feature's serialized bytes as they are (tfds.decode.SkipDecoding, minus the
    deprecation warning it logs in TFDS 4.9.10)."""
    del feature
    return serialized


def _video_decoder(feature):
    """Decoder of the builders' video feature: zlib-compressed raw uint8 bytes -> (T, H, W, 3).

    Equivalent to `feature.decode_example`, which in TFDS 4.9.10 logs a deprecation warning from
    inside every pipeline.
    """
    spec = feature.to_json_content()
    if feature.np_dtype != np.uint8 or spec.encoding != "zlib":
        return feature.decode_example  # any other video encoding: TFDS's own decoder
    shape = feature.shape

    def decode(serialized):
        raw = tf.io.decode_compressed(serialized, compression_type="ZLIB")
        return tf.reshape(tf.io.decode_raw(raw, tf.uint8), shape)

    return decode


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a trainer needs to validate a config against a dataset.

    Attributes:
      name: registry name (a key of `prepare.DATASETS`).
      config: the builder config's name (None if the builder has none).
      num_frames: frames per stored video.
      image_shape: (height, width, channels) of a stored frame.
      split_sizes: split name -> number of videos.
      label_names: class names of each class-label feature, e.g. {"action": ["walk", ...]}.
      labels: every feature other than the video (class labels and ids such as "character").
    """

    name: str
    config: str | None
    num_frames: int
    image_shape: tuple[int, int, int]
    split_sizes: dict[str, int]
    label_names: dict[str, list[str]]
    labels: tuple[str, ...]


def _info_of(name: str, builder) -> DatasetInfo:
    features = builder.info.features
    num_frames, *image_shape = features[VIDEO].shape
    return DatasetInfo(
        name=name,
        config=builder.builder_config.name if builder.builder_config else None,
        num_frames=int(num_frames),
        image_shape=tuple(int(d) for d in image_shape),
        split_sizes={split: info.num_examples for split, info in sorted(builder.info.splits.items())},
        label_names={key: list(feature.names) for key, feature in features.items()
                     if isinstance(feature, tfds.features.ClassLabel)},
        labels=tuple(key for key in features if key != VIDEO),
    )


def dataset_info(name: str, *, data_dir: str | None = None, manual_dir: str | None = None,
                 builder_config: str | None = None) -> DatasetInfo:
    """Frames, image shape, split sizes and label names of a dataset, preparing it if needed."""
    builder = prepare.prepare(name, data_dir=data_dir, manual_dir=manual_dir, config=builder_config)
    return _info_of(name, builder)


def videos(name: str, split: str, *, batch_size: int, data_dir: str | None = None,
           manual_dir: str | None = None, builder_config: str | None = None, image_size: int = 64,
           num_frames: int | None = None, shuffle: bool = True, repeat: bool = True, seed: int = 0,
           drop_remainder: bool = True, shuffle_buffer: int = 1024) -> tf.data.Dataset:
    """Batches of videos and their labels from a prepared (or prepared now) dataset.

    Args:
      name: registry name (a key of `prepare.DATASETS`).
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
    if batch_size < 1:
        raise UserError(f"batch_size={batch_size} must be >= 1")
    if image_size < 1:
        raise UserError(f"image_size={image_size} must be >= 1")
    builder = prepare.prepare(name, data_dir=data_dir, manual_dir=manual_dir, config=builder_config)
    info = _info_of(name, builder)
    try:
        builder.info.splits[split]
    except (KeyError, ValueError, AssertionError):
        raise UserError(f"unknown split {split!r} of dataset {name!r}; choose one of: "
                        f"{', '.join(info.split_sizes)}") from None
    if num_frames is not None and not 1 <= num_frames <= info.num_frames:
        raise UserError(f"num_frames={num_frames} must be in [1, {info.num_frames}] for {name}")
    num_frames = num_frames or info.num_frames
    height, width, _ = info.image_shape
    decode_video = _video_decoder(builder.info.features[VIDEO])

    def decode(example):
        video = decode_video(example[VIDEO])[:num_frames]  # (T, H, W, 3) uint8
        video = tf.cast(video, tf.float32)
        if (image_size, image_size) != (height, width):
            shrink = image_size < height or image_size < width
            video = tf.image.resize(video, (image_size, image_size), method="bilinear", antialias=shrink)
        example = dict(example)
        example[VIDEO] = tf.clip_by_value(video / 127.5 - 1.0, -1.0, 1.0)
        return example

    read_config = tfds.ReadConfig(
        shuffle_seed=seed,
        shuffle_reshuffle_each_iteration=True,
        try_autocache=False,  # never cache a whole dataset in memory
    )
    # Skip decoding the video here: shuffling compressed bytes is cheap, decoding comes after.
    ds = builder.as_dataset(split=split, shuffle_files=shuffle, read_config=read_config,
                            decoders={VIDEO: _keep_encoded()})
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=tf.data.AUTOTUNE,
                  deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
