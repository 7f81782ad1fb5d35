"""The judge: a frame classifier with D_I's architecture, trained on a dataset's labels.

Paper section 5.2 trains "a classifier having the same architecture as the Image Discriminator
D_I" on single frames of MUG to compute the Inception Score. Ours is exactly that: MoCoGAN's
PatchImageDiscriminator (`rjkeras.networks.gan.image_discriminator`) with one output channel per
class of every label, its patch logits averaged over the patches, one softmax head per label:

    image (H, W, 3) -> D_I body -> conv2_act (H/8, W/8, 4 ndf) -> patch logits (H/16, W/16, sum K_l)
                                        |                              -> mean over patches -> split
                                        -> mean over positions: the frame's features (4 ndf,)

Labels per dataset (`DEFAULT_LABELS`): MUG and NIR expressions, Weizmann actions; Sprites (and the
synthetic Sprites) action, direction and each attribute (body, bottom, top, hair). Each label has a
role (`LABEL_ROLES`) for the disentanglement scores: "motion" labels (action, direction,
expression) should follow the motion latents, "content" labels (the attributes, a subject) the
content.

Video-level outputs (`Judge.videos`): the class probabilities are the mean of the frames'
probabilities, and the features the mean of the frames' features. The feature mean is what the
judge's Frechet distance compares; it describes the frames' appearance and the labels they show,
but is blind to their order (FVD's I3D is the temporal measure).

A judge lives in a work dir: `judge.weights.h5` and `judge.json` (dataset, image size, labels and
class names, training settings, test accuracy).
"""

from __future__ import annotations

import json
import logging
import os
import time

import keras
import numpy as np
import tensorflow as tf

from rjkeras import data as data_lib
from rjkeras.errors import UserError
from rjkeras.eval.options import JudgeTraining
from rjkeras.networks import gan as gan_nets

log = logging.getLogger("rjkeras")

WEIGHTS = "judge.weights.h5"
INFO = "judge.json"
FEATURE_LAYER = "conv2_act"  # D_I's last hidden activation (before the logits conv)

SPRITES_LABELS = ("action", "direction", "body", "bottom", "top", "hair")
DEFAULT_LABELS = {
    "sprites": SPRITES_LABELS,
    "synthetic_sprites": SPRITES_LABELS,
    "mug": ("expression",),
    "nir": ("expression",),
    "weizmann": ("action",),
}
LABEL_ROLES = {
    "action": "motion", "direction": "motion", "expression": "motion",
    "body": "content", "bottom": "content", "top": "content", "hair": "content",
    "subject": "content",
}


# ---------------------------------------------------------------------------------------------
# Network


def build_network(image_size: int, heads: dict[str, int], ndf: int = 64) -> keras.Model:
    """The judge network: images (B, H, W, 3) in [-1, 1] -> {"features": (B, 4 ndf),
    <label>: logits (B, K_label) for each head}.

    `heads` maps each label to its number of classes, in output order.
    """
    d_i = gan_nets.image_discriminator(image_size, ndf=ndf, num_outputs=sum(heads.values()),
                                       name="judge_image_discriminator", instance_noise=False)
    # D_I's last hidden map and its patch logits, from one pass.
    body = keras.Model(d_i.input, [d_i.get_layer(FEATURE_LAYER).output, d_i.output], name="d_i_body")
    images = keras.Input((image_size, image_size, 3), name="images")
    hidden, patches = body(images)  # (B, H/8, W/8, 4 ndf), (B, H/16, W/16, sum K)
    outputs = {"features": keras.layers.GlobalAveragePooling2D(name="features")(hidden)}
    logits = keras.layers.GlobalAveragePooling2D(name="mean_over_patches")(patches)  # (B, sum K)
    start = 0
    for label, classes in heads.items():
        outputs[label] = keras.layers.Identity(name=label)(logits[:, start:start + classes])
        start += classes
    return keras.Model(images, outputs, name="judge")


def classifier_of(network: keras.Model, labels) -> keras.Model:
    """The logits-only view of a judge network (shares its layers), for `fit`."""
    return keras.Model(network.input, {label: network.output[label] for label in labels},
                       name="judge_classifier")


# ---------------------------------------------------------------------------------------------
# The trained judge


class Judge:
    """A trained judge: `info` (judge.json's content) and its network.

    All inputs are float [-1, 1]; outputs are NumPy arrays.
    """

    def __init__(self, info: dict, network: keras.Model):
        self.info = info
        self.network = network
        self.labels = list(info["labels"])
        self.image_size = int(info["image_size"])
        self._call = tf.function(lambda x: network(x, training=False), reduce_retracing=True,
                                 autograph=False)

    @property
    def classes(self) -> dict[str, list[str]]:
        return self.info["classes"]

    def roles(self) -> dict[str, str]:
        """Each label's role in the disentanglement scores: "content", "motion" or "other"."""
        saved = self.info.get("roles", {})
        return {label: saved.get(label, LABEL_ROLES.get(label, "other")) for label in self.labels}

    def frames(self, images, batch_size: int = 256) -> dict[str, np.ndarray]:
        """images (N, H, W, 3) -> {"features": (N, F), <label>: probabilities (N, K)}."""
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or images.shape[1:] != (self.image_size, self.image_size, 3):
            raise ValueError(f"the judge takes images (N, {self.image_size}, {self.image_size}, 3), "
                             f"got {images.shape}")
        parts = []
        for start in range(0, len(images), batch_size):
            out = self._call(tf.constant(images[start:start + batch_size]))
            parts.append({"features": out["features"].numpy(),
                          **{label: tf.nn.softmax(out[label]).numpy() for label in self.labels}})
        return {key: np.concatenate([p[key] for p in parts], 0) for key in parts[0]}

    def videos(self, videos, batch_size: int = 256) -> dict[str, np.ndarray]:
        """videos (N, T, H, W, 3) -> {"features": (N, F), <label>: probabilities (N, K)}: the
        means over each video's frames."""
        videos = np.asarray(videos, np.float32)
        n, t = videos.shape[:2]
        out = self.frames(videos.reshape((n * t,) + videos.shape[2:]), batch_size)
        return {key: value.reshape((n, t) + value.shape[1:]).mean(axis=1) for key, value in out.items()}

    def predict(self, videos) -> dict[str, np.ndarray]:
        """Predicted class of each label for videos (N, T, H, W, 3): {label: int (N,)}."""
        out = self.videos(videos)
        return {label: np.argmax(out[label], axis=-1) for label in self.labels}

    def check_compatible(self, dataset: str, image_size: int, source: str, builder_config=None) -> None:
        """UserError unless the judge was trained on `dataset` at `image_size` (a different
        builder config of the same dataset is only logged: same labels, other videos)."""
        if self.info["dataset"] != dataset:
            raise UserError(f"--judge={source} was trained on {self.info['dataset']}, but the model "
                            f"is evaluated on {dataset}; train a judge on {dataset} "
                            f"(python -m rjkeras.eval.train_judge --dataset={dataset} ...)")
        if self.image_size != image_size:
            raise UserError(f"--judge={source} takes {self.image_size}x{self.image_size} frames, but the "
                            f"model makes {image_size}x{image_size}; train a judge with "
                            f"--image_size={image_size}")
        if builder_config is not None and self.info.get("builder_config") not in (None, builder_config):
            log.warning("the judge was trained on %s config %s, the model on config %s", dataset,
                        self.info.get("builder_config"), builder_config)

    def save(self, workdir: str) -> None:
        os.makedirs(workdir, exist_ok=True)
        self.network.save_weights(os.path.join(workdir, WEIGHTS))
        with open(os.path.join(workdir, INFO + ".tmp"), "w") as f:
            json.dump(self.info, f, indent=2, sort_keys=True)
        os.replace(os.path.join(workdir, INFO + ".tmp"), os.path.join(workdir, INFO))


def new_judge(info: dict) -> Judge:
    heads = {label: len(info["classes"][label]) for label in info["labels"]}
    return Judge(info, build_network(int(info["image_size"]), heads, int(info["ndf"])))


def load_judge(workdir: str | None) -> Judge:
    """The judge trained in `workdir` by `python -m rjkeras.eval.train_judge`."""
    if not workdir:
        raise UserError("this metric needs a judge classifier: pass --judge=<work dir of "
                        "python -m rjkeras.eval.train_judge>")
    info_path, weights = os.path.join(workdir, INFO), os.path.join(workdir, WEIGHTS)
    if not os.path.exists(info_path) or not os.path.exists(weights):
        raise UserError(f"--judge={workdir} holds no trained judge ({INFO} and {WEIGHTS}); train one "
                        f"with python -m rjkeras.eval.train_judge --workdir={workdir} --dataset=...")
    try:
        with open(info_path) as f:
            info = json.load(f)
        judge = new_judge(info)
        judge.network.load_weights(weights)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"--judge={workdir}: cannot load the judge ({type(e).__name__}: {e})") from None
    return judge


# ---------------------------------------------------------------------------------------------
# Training


def frames_dataset(dataset: str, split: str, labels, *, batch_size: int, image_size: int,
                   shuffle: bool, repeat: bool, seed: int = 0, data_dir=None, manual_dir=None,
                   builder_config=None, shuffle_buffer: int = 2048) -> tf.data.Dataset:
    """Single frames with their video's labels: (images (B, H, W, 3) in [-1, 1], {label: (B,)}).

    Every frame of every video, each labelled with its video's labels; when shuffling, frames of
    different videos are mixed in a buffer of `shuffle_buffer` frames (the paper's "individual,
    randomly chosen, frames"), held as decoded uint8 (`rjkeras.data.frames`: 24 MiB at 64x64).
    """
    return data_lib.frames(dataset, split, tuple(labels), batch_size=batch_size, data_dir=data_dir,
                           manual_dir=manual_dir, builder_config=builder_config, image_size=image_size,
                           shuffle=shuffle, repeat=repeat, seed=seed, drop_remainder=repeat,
                           frame_shuffle_buffer=shuffle_buffer)


def evaluate_judge(judge: Judge, dataset: str, split: str = "test", *, data_dir=None,
                   manual_dir=None, builder_config=None) -> dict:
    """Accuracy of each label on a split: per frame, and per video (mean of its frames'
    probabilities). Returns {label: {"frame": acc, "video": acc}, "num_videos": N}."""
    videos = data_lib.videos(dataset, split, batch_size=32, data_dir=data_dir, manual_dir=manual_dir,
                             builder_config=builder_config, image_size=judge.image_size,
                             shuffle=False, repeat=False, drop_remainder=False)
    frame_hits = {label: 0 for label in judge.labels}
    video_hits = dict(frame_hits)
    num_videos = num_frames = 0
    for example in videos:
        batch = example["video"].numpy()  # (b, T, H, W, 3)
        b, t = batch.shape[:2]
        out = judge.frames(batch.reshape((b * t,) + batch.shape[2:]))
        for label in judge.labels:
            truth = example[label].numpy()
            probs = out[label].reshape(b, t, -1)
            frame_hits[label] += int(np.sum(np.argmax(probs, -1) == truth[:, None]))
            video_hits[label] += int(np.sum(np.argmax(probs.mean(1), -1) == truth))
        num_videos += b
        num_frames += b * t
    if not num_videos:
        raise UserError(f"the {split!r} split of {dataset} is empty: the judge cannot be tested")
    result = {label: {"frame": frame_hits[label] / num_frames, "video": video_hits[label] / num_videos}
              for label in judge.labels}
    result["num_videos"] = num_videos
    return result


class _Progress(keras.callbacks.Callback):
    """One line per Keras epoch (`chunk` steps): losses, accuracies, speed, ETA."""

    def __init__(self, steps: int, chunk: int):
        super().__init__()
        self.steps = steps
        self.chunk = chunk
        self.step = 0
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = self.start or time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.step = min(self.step + self.chunk, self.steps)
        rate = self.step / max(time.time() - self.start, 1e-9)
        terms = "  ".join(f"{k}={float(v):.4g}" for k, v in sorted((logs or {}).items()))
        log.info("judge step %d/%d (%.0f%%)  %s  %.2f steps/s  eta %ds", self.step, self.steps,
                 100.0 * self.step / self.steps, terms, rate,
                 int((self.steps - self.step) / max(rate, 1e-9)))


def train_judge(dataset: str, workdir: str, *, labels=None, builder_config=None, data_dir=None,
                manual_dir=None, image_size: int = JudgeTraining.image_size,
                ndf: int = JudgeTraining.ndf, steps: int = JudgeTraining.steps,
                batch_size: int = JudgeTraining.batch_size,
                learning_rate: float = JudgeTraining.learning_rate, seed: int = JudgeTraining.seed,
                log_every: int = JudgeTraining.log_every) -> Judge:
    """Trains a judge on the dataset's train split, tests it on its test split, saves it.

    Args:
      dataset: registry name; labels: class labels to learn (default `DEFAULT_LABELS[dataset]`).
      image_size: frame size, the size of the models it will judge.
      ndf: D_I's width (MoCoGAN's 64).
      steps, batch_size, learning_rate: Adam on the sum of the heads' cross-entropies.

    Returns the judge; `judge.info["test_accuracy"]` holds its accuracy per label.
    """
    JudgeTraining(image_size=image_size, ndf=ndf, steps=steps, batch_size=batch_size,
                  learning_rate=learning_rate, seed=seed, log_every=log_every).validate()
    info = data_lib.dataset_info(dataset, data_dir=data_dir, manual_dir=manual_dir,
                                 builder_config=builder_config)
    labels = list(labels or DEFAULT_LABELS.get(dataset, ()))
    if not labels:
        raise UserError(f"no default labels for dataset {dataset!r}: pass --labels (class labels: "
                        f"{', '.join(info.label_names) or 'none'})")
    unknown = [label for label in labels if label not in info.label_names]
    if unknown:
        raise UserError(f"--labels: {unknown[0]!r} is not a class label of {dataset}; choose from: "
                        f"{', '.join(info.label_names)}")
    for split in ("train", "test"):
        if not info.split_sizes.get(split):
            raise UserError(f"{dataset} has no {split!r} split; the judge trains on 'train' and is "
                            "tested on 'test'")
    classes = {label: [str(name) for name in info.label_names[label]] for label in labels}
    judge_info = {
        "dataset": dataset, "builder_config": info.config, "image_size": image_size, "ndf": ndf,
        "labels": labels, "classes": classes,
        "roles": {label: LABEL_ROLES.get(label, "other") for label in labels},
        "training": {"steps": steps, "batch_size": batch_size, "learning_rate": learning_rate,
                     "seed": seed, "split": "train", "num_videos": info.split_sizes["train"]},
    }
    keras.utils.set_random_seed(seed)
    judge = new_judge(judge_info)
    classifier = classifier_of(judge.network, labels)
    classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={label: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for label in labels},
        metrics={label: ["accuracy"] for label in labels}, jit_compile=False)
    train = frames_dataset(dataset, "train", labels, batch_size=batch_size, image_size=image_size,
                           shuffle=True, repeat=True, seed=seed, data_dir=data_dir,
                           manual_dir=manual_dir, builder_config=builder_config)
    log_every = min(log_every, steps)
    log.info("training a judge of %s (D_I architecture, ndf %d) on %s, %dx%d frames, %d steps",
             ", ".join(labels), ndf, dataset, image_size, image_size, steps)
    # One Keras epoch per progress line; a remainder of steps runs as one shorter epoch.
    full, rest = divmod(steps, log_every)
    progress = _Progress(steps, log_every)
    if full:
        classifier.fit(train, steps_per_epoch=log_every, epochs=full, verbose=0, callbacks=[progress],
                       shuffle=False)
    if rest:
        progress.chunk = rest
        classifier.fit(train, steps_per_epoch=rest, epochs=1, verbose=0, callbacks=[progress],
                       shuffle=False)
    accuracy = evaluate_judge(judge, dataset, "test", data_dir=data_dir, manual_dir=manual_dir,
                              builder_config=builder_config)
    judge.info["test_accuracy"] = accuracy
    for label in labels:
        log.info("test accuracy of %s: %.3f per frame, %.3f per video (%d test videos, chance %.3f)",
                 label, accuracy[label]["frame"], accuracy[label]["video"], accuracy["num_videos"],
                 1.0 / len(classes[label]))
    judge.save(workdir)
    log.info("saved the judge to %s", workdir)
    return judge
