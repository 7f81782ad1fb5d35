"""tf.data pipelines over prepared datasets, in [-1, 1]: videos with their labels (`videos`), the
GAN's two input streams, single frames for D_I and clips for D_V (`gan_inputs`), optionally from a
mixture of image-only and full videos (paper section 5.1), and labelled single frames (`frames`,
the judge's training input).

Datasets are prepared on demand through `rjkeras.prepare`.

Memory budget. No pipeline caches anything: it streams from the prepared files, and what it holds
does not grow with the dataset's size. Per pipeline it holds at most (`memory_budget` computes it):

- shuffle buffers of *stored* examples, their video still zlib-compressed: `shuffle_buffer`
  (default 1024) examples per stream (`videos` and `frames` one stream, `gan_inputs` two). Stored
  videos are 2.3 KB on average for the synthetic Sprites (1024: 2.3 MB), a few KB for Sprites;
  natural video compresses little, so count up to the raw size for MUG, NIR and Weizmann: 96 KiB
  an 8-frame and 192 KiB a 16-frame 64x64 video, i.e. 96 / 192 MiB a buffer of 1024;
- a shuffle buffer of decoded uint8 frames: `frame_shuffle_buffer` frames of `gan_inputs`
  (default 4096: 48 MiB at 64x64) and of `frames` (default 2048: 24 MiB);
- batches in flight: every parallel stage runs `PARALLEL_CALLS` (4) calls and the last stage
  prefetches `PREFETCH_BATCHES` (2), fixed in the code (no autotuned buffer, which grows with a
  host's speed and free memory), counted as `IN_FLIGHT_BATCHES` (16) float32 output batches: at
  64x64, 9.4 MiB a batch of 25 8-frame videos (the VAEs' paper size, 150 MiB in all) and 12.8 MiB
  a GAN batch of 16 frames and 16 16-frame clips (204 MiB in all).

At the paper's sizes on the synthetic Sprites that is about 152 MiB for `videos` and 256 MiB for
`gan_inputs` (on 16-frame MUG clips, at most 636 MiB), whatever the number of videos: the default
synthetic Sprites decode to 1.1 GB of uint8 (4.6 GB as float32). `tests/test_memory.py` checks it
on a full epoch, also for the evaluation's reading of real videos.
"""

from __future__ import annotations

import dataclasses
import math

from absl import logging
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from rjkeras import prepare
from rjkeras.errors import UserError

VIDEO = "video"
# What a pipeline holds in flight is fixed here, not autotuned: tf.data's autotuner sizes parallelism
# and prefetch buffers by the host's speed and free memory, so a stated budget could not hold.
PARALLEL_CALLS = 4  # elements a parallel map computes at once
PREFETCH_BATCHES = 2
# Output batches a pipeline may hold in flight, with margin: the prefetched batches, a batch being
# assembled and up to PARALLEL_CALLS elements (at most whole batches) in each parallel stage.
IN_FLIGHT_BATCHES = 16


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


def memory_budget(info: DatasetInfo, split: str, *, batch_frames: int, image_size: int,
                  shuffle_buffer: int = 1024, streams: int = 1,
                  frame_shuffle_buffer: int = 0) -> dict[str, int]:
    """The most one pipeline over `split` holds in memory, in bytes, by part (module docstring).

    Args:
      info: the dataset's `DatasetInfo`.
      batch_frames: frames in one output batch (`videos`: batch_size x num_frames; `gan_inputs`:
        image_batch_size + video_batch_size x clip_length; `frames`: batch_size).
      image_size: the output frames' size.
      shuffle_buffer, streams: stored examples per shuffle buffer, and how many such buffers
        (`gan_inputs`: 2, its frames and clips streams); 0 for an unshuffled pipeline.
      frame_shuffle_buffer: decoded frames in a frame shuffle buffer (`gan_inputs`, `frames`).

    Returns:
      {"shuffle_buffers": streams x shuffle_buffer stored examples at the split's mean stored size
       (the raw size where unknown), "frame_buffer": frame_shuffle_buffer uint8 frames,
       "in_flight": IN_FLIGHT_BATCHES float32 output batches, "total": their sum}.
    """
    height, width, channels = info.image_shape
    frame = height * width * channels  # uint8 bytes of a stored frame
    stored = info.split_bytes.get(split, 0) / max(info.split_sizes.get(split, 0), 1)
    stored = stored or info.num_frames * frame
    budget = {
        "shuffle_buffers": int(streams * shuffle_buffer * stored),
        "frame_buffer": frame_shuffle_buffer * frame,
        "in_flight": IN_FLIGHT_BATCHES * batch_frames * image_size * image_size * channels * 4,
    }
    budget["total"] = sum(budget.values())
    return budget


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
    builder = prepare.prepare(name, data_dir=data_dir, manual_dir=manual_dir, config=builder_config)
    return _info_of(name, builder)


def _open(name: str, split: str, *, data_dir: str | None, manual_dir: str | None,
          builder_config: str | None):
    """(builder, info) of a prepared (or prepared now) dataset; UserError for an unknown split."""
    builder = prepare.prepare(name, data_dir=data_dir, manual_dir=manual_dir, config=builder_config)
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


# ---------------------------------------------------------------------------------------------
# GAN inputs: frames for the image discriminator (MoCoGAN's S_1), clips for the video
# discriminator (S_T), and the paper's image/video mixture.

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
      name: registry name (a key of `prepare.DATASETS`).
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
