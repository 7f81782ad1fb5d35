"""A prepared dataset as stored: what it holds (`DatasetInfo`, `dataset_info`), its examples read
with the video still compressed, the video decoder, and the pipelines' common first and last
stages (frames to the models' range, the bounded prefetch)."""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from rjkeras.data import registry
from rjkeras.data.memory import PREFETCH_BATCHES
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
      name: registry name (a key of `registry.DATASETS`).
      config: the builder config's name (None if the builder has none).
      num_frames: frames per stored video.
      image_shape: (height, width, channels) of a stored frame.
      split_sizes: split name -> number of videos.
      label_names: class names of each class-label feature, e.g. {"action": ["walk", ...]}.
      labels: every feature other than the video (class labels and ids such as "character").
      split_bytes: split name -> bytes of its stored (compressed) examples.
    """

    name: str
    config: str | None
    num_frames: int
    image_shape: tuple[int, int, int]
    split_sizes: dict[str, int]
    label_names: dict[str, list[str]]
    labels: tuple[str, ...]
    split_bytes: dict[str, int] = dataclasses.field(default_factory=dict)


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
        split_bytes={split: int(info.num_bytes) for split, info in sorted(builder.info.splits.items())},
    )


def _bounded(ds: tf.data.Dataset) -> tf.data.Dataset:
    """The pipeline's last stage: PREFETCH_BATCHES prefetched, and no buffer tf.data would add or
    size itself (it injects autotuned prefetches after maps unless told not to)."""
    options = tf.data.Options()
    options.experimental_optimization.inject_prefetch = False
    options.autotune.ram_budget = 1 << 30  # a bound on whatever the autotuner still sizes
    return ds.prefetch(PREFETCH_BATCHES).with_options(options)


def dataset_info(name: str, *, data_dir: str | None = None, manual_dir: str | None = None,
                 builder_config: str | None = None) -> DatasetInfo:
    """Frames, image shape, split sizes and label names of a dataset, preparing it if needed."""
    builder = registry.prepare(name, data_dir=data_dir, manual_dir=manual_dir, config=builder_config)
    return _info_of(name, builder)


def _open(name: str, split: str, *, data_dir: str | None, manual_dir: str | None,
          builder_config: str | None):
    """(builder, info) of a prepared (or prepared now) dataset; UserError for an unknown split."""
    builder = registry.prepare(name, data_dir=data_dir, manual_dir=manual_dir, config=builder_config)
    info = _info_of(name, builder)
    try:
        builder.info.splits[split]
    except (KeyError, ValueError, AssertionError):
        raise UserError(f"unknown split {split!r} of dataset {name!r}; choose one of: "
                        f"{', '.join(info.split_sizes)}") from None
    return builder, info


def _read_encoded(builder, split: str, *, shuffle_files: bool, seed: int) -> tf.data.Dataset:
    """The split's examples with the video left compressed (decoded later, in parallel)."""
    read_config = tfds.ReadConfig(
        shuffle_seed=seed,
        shuffle_reshuffle_each_iteration=True,
        try_autocache=False,  # never cache a whole dataset in memory
    )
    # Skip decoding the video here: shuffling compressed bytes is cheap, decoding comes after.
    return builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=read_config,
                              decoders={VIDEO: _keep_encoded()})


def _to_model_range(images: tf.Tensor, image_size: int, stored_size: tuple[int, int]) -> tf.Tensor:
    """uint8 (N, H, W, 3) frames -> float32 (N, image_size, image_size, 3) in [-1, 1].

    Resized bilinearly, antialiased when shrinking; the stored size keeps them as they are.
    """
    images = tf.cast(images, tf.float32)
    height, width = stored_size
    if (image_size, image_size) != (height, width):
        shrink = image_size < height or image_size < width
        images = tf.image.resize(images, (image_size, image_size), method="bilinear", antialias=shrink)
    return tf.clip_by_value(images / 127.5 - 1.0, -1.0, 1.0)


def _check_sizes(**sizes: int) -> None:
    for key, value in sizes.items():
        if value < 1:
            raise UserError(f"{key}={value} must be >= 1")
