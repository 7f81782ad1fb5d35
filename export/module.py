"""The serving module: a trained model behind explicit SavedModel signatures.

Signatures (keyword arguments only; outputs are dicts):

    generate_videos(num_videos: int32, length: int32, seed: int64)
        -> videos uint8 (N, T, H, W, 3) [, summary_frames uint8 (N, H, W, 3)]
    generate_images(num_images: int32, seed: int64) -> images uint8 (N, H, W, 3)
        images from the fixed prior (RJVAE: summary frames decoder(mu), mu ~ N(0, sigma^2 I))
        (RJGAN, image GAN: G_I(mu); MoCoGAN, RMoCoGAN: a random frame of a generated video)
    generate_with_content(num_videos: int32, length: int32, content_seed: int64, motion_seed: int64)
        -> videos uint8: one content vector z_C, num_videos motions         [MoCoGAN, RMoCoGAN]
    interpolate(seed_a: int64, seed_b: int64, steps: int32, length: int32)
        -> videos uint8 (steps, T, H, W, 3) [, summary_frames]: the line between two summary
           vectors, one motion noise for all (paper figs. 10-11)                [video GANs]
    reconstruct(videos: uint8 (N, T, H, W, 3)) -> videos uint8 (N, T, H, W, 3)      [VAEs]
    encode(videos: uint8 (N, T, H, W, 3)) -> posterior locs and scales (float32)     [VAEs]

The same seed gives the same output. The SavedModel needs only TensorFlow to load and run.
Counts (num_videos, num_images, steps) must be in 1..MAX_VIDEOS and lengths in 1..MAX_LENGTH
(both 1024): any other value fails the call with an InvalidArgumentError naming the argument
("num_videos must be between 1 and 1024") before anything is generated or allocated.
"""

from __future__ import annotations

import os

from absl import logging
import tensorflow as tf

from rjkeras.errors import UserError
from rjkeras.export.limits import MAX_LENGTH, MAX_VIDEOS
from rjkeras.summaries import to_uint8


def _check_range(value, name: str, limit: int):
    message = f"{name} must be between 1 and {limit}"
    return [tf.debugging.assert_positive(value, message=message),
            tf.debugging.assert_less_equal(value, limit, message=message)]


def _seed(seed):
    return tf.stack([seed, tf.constant(0, tf.int64)])


def _uint8_dict(outputs):
    return {name: to_uint8(value) for name, value in outputs.items()}


_INT = {name: tf.TensorSpec([], tf.int32, name=name)
        for name in ("num_videos", "num_images", "length", "steps")}
_SEED = {name: tf.TensorSpec([], tf.int64, name=name)
         for name in ("seed", "seed_a", "seed_b", "content_seed", "motion_seed")}


def supported(model) -> list[str]:
    """The signatures a model serves (see the module docstring)."""
    names = ["generate_images"]
    if getattr(model, "has_video", True):
        names.append("generate_videos")
    if hasattr(model, "reconstruct"):  # the VAEs
        names += ["reconstruct", "encode"]
    if hasattr(model, "interpolate") and model.has_video:  # the video GANs
        names.append("interpolate")
        if model.disentangled:  # content z_C apart from motion z_M: MoCoGAN, RMoCoGAN
            names.append("generate_with_content")
    return names


class GeneratorModule(tf.Module):
    """Wraps a trained rjkeras model (held as `self.model`, which tracks its variables).

    Only the functions the model supports become attributes: SavedModel traces every
    tf.function a module holds.
    """

    def __init__(self, model, image_size: int):
        super().__init__(name="rjkeras_generator")
        self.model = model
        self.image_size = image_size
        videos = tf.TensorSpec([None, None, image_size, image_size, 3], tf.uint8, name="videos")
        specs = {
            "generate_videos": [_INT["num_videos"], _INT["length"], _SEED["seed"]],
            "generate_images": [_INT["num_images"], _SEED["seed"]],
            "reconstruct": [videos],
            "encode": [videos],
            "generate_with_content": [_INT["num_videos"], _INT["length"], _SEED["content_seed"],
                                      _SEED["motion_seed"]],
            "interpolate": [_SEED["seed_a"], _SEED["seed_b"], _INT["steps"], _INT["length"]],
        }
        self.names = supported(model)
        for name in self.names:
            function = getattr(self, f"_{name}")
            setattr(self, name, tf.function(function, input_signature=specs[name], autograph=False))

    def signatures(self) -> dict:
        return {name: getattr(self, name) for name in self.names}

    def _generate_videos(self, num_videos, length, seed):
        with tf.control_dependencies(_check_range(num_videos, "num_videos", MAX_VIDEOS)
                                     + _check_range(length, "length", MAX_LENGTH)):
            return _uint8_dict(self.model.sample(num_videos, length, _seed(seed)))

    def _generate_images(self, num_images, seed):
        with tf.control_dependencies(_check_range(num_images, "num_images", MAX_VIDEOS)):
            return {"images": to_uint8(self.model.sample_images(num_images, _seed(seed)))}

    def _reconstruct(self, videos):
        return {"videos": to_uint8(self.model.reconstruct(tf.cast(videos, tf.float32) / 127.5 - 1.0))}

    def _encode(self, videos):
        return self.model.encode(tf.cast(videos, tf.float32) / 127.5 - 1.0)

    def _generate_with_content(self, num_videos, length, content_seed, motion_seed):
        with tf.control_dependencies(_check_range(num_videos, "num_videos", MAX_VIDEOS)
                                     + _check_range(length, "length", MAX_LENGTH)):
            videos = self.model.sample_with_content(num_videos, length, _seed(content_seed),
                                                    _seed(motion_seed))
        return {"videos": to_uint8(videos)}

    def _interpolate(self, seed_a, seed_b, steps, length):
        with tf.control_dependencies(_check_range(steps, "steps", MAX_VIDEOS)
                                     + _check_range(length, "length", MAX_LENGTH)):
            return _uint8_dict(self.model.interpolate(_seed(seed_a), _seed(seed_b), steps, length))


def save(model, image_size: int, path: str) -> GeneratorModule:
    """Writes the SavedModel of `model` to `path` (atomically: a partial export never shows)."""
    module = GeneratorModule(model, image_size)
    tmp = path.rstrip("/") + ".tmp"
    try:
        if tf.io.gfile.exists(tmp):
            tf.io.gfile.rmtree(tmp)
        tf.saved_model.save(module, tmp, signatures=module.signatures())
        if tf.io.gfile.exists(path):
            tf.io.gfile.rmtree(path)
        tf.io.gfile.rename(tmp, path)
    except (OSError, tf.errors.NotFoundError, tf.errors.PermissionDeniedError,
            tf.errors.FailedPreconditionError) as e:  # a folder that cannot be written
        reason = e.message if isinstance(e, tf.errors.OpError) else (e.strerror or str(e))
        raise UserError(f"cannot write the SavedModel to {path}: {reason}") from None
    return module


def export_workdir(workdir: str, output: str | None = None) -> str:
    """Exports the latest checkpoint of a training run's work dir; returns the SavedModel's path
    (default <workdir>/saved_model). The model is rebuilt outside any distribution strategy."""
    from rjkeras import runs

    config, model, step = runs.restore_model(workdir)
    output = output or os.path.join(workdir, runs.SAVED_MODEL)
    save(model, config.data.image_size, output)
    logging.info("exported %s at step %d to %s", config.model_name, step, output)
    return output
