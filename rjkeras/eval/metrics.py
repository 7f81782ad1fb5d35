"""Metrics computed with the judge classifier (`rjkeras.eval.judge`): the Inception Score (paper
section 5.2), a Frechet distance in the judge's feature space, and disentanglement scores
(section 5.3, with the Disentangled Sequential Autoencoder's protocol).

Every function takes the videos or images to score, float in [-1, 1], as arrays or as iterables
of batches; making them (from a work dir's model or a SavedModel) is `rjkeras.evaluate`'s job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import numpy as np

from rjkeras.eval import frechet

log = logging.getLogger("rjkeras")

CONTENT, MOTION = "content", "motion"


# ---------------------------------------------------------------------------------------------
# Inception Score


def inception_score(probabilities) -> float:
    """exp(E_x KL(p(y|x) || p(y))) of one batch of class probabilities (N, K), in float64.

    p(y) is the batch's mean prediction; 0 log 0 counts as 0.
    """
    p = np.asarray(probabilities, np.float64)
    if p.ndim != 2 or len(p) < 1:
        raise ValueError(f"probabilities must be (N, K), got shape {p.shape}")
    marginal = p.mean(axis=0, keepdims=True)  # p(y)
    # p (log p - log p(y)), with 0 where p = 0 (then p(y) may be 0 too).
    positive = p > 0
    log_ratio = np.log(np.where(positive, p, 1.0)) - np.log(np.where(positive, marginal, 1.0))
    terms = np.where(positive, p * log_ratio, 0.0)
    return float(np.exp(np.mean(np.sum(terms, axis=1))))


def inception_scores(judge, sample_images: Callable[[int, int], np.ndarray], *, num_batches: int = 10,
                     batch_size: int = 128, seed: int = 0) -> dict:
    """The paper's Inception Score: the judge's IS on `num_batches` batches of `batch_size` images
    from the generator, their mean and standard deviation, for every label of the judge.

    Args:
      judge: a `Judge`.
      sample_images: (n, seed) -> images (n, H, W, 3) in [-1, 1]; batch i uses seed + i.
    Returns:
      {label: {"mean", "std", "scores": [one per batch]}, "num_batches", "batch_size"}; std is
      the population std over the batches (ddof 0, as the usual Inception Score code).
    """
    scores = {label: [] for label in judge.labels}
    for i in range(num_batches):
        probabilities = judge.frames(sample_images(batch_size, seed + i))
        for label in judge.labels:
            scores[label].append(inception_score(probabilities[label]))
        log.info("inception score: batch %d/%d  %s", i + 1, num_batches,
                 "  ".join(f"{label}={s[-1]:.3f}" for label, s in scores.items()))
    result = {label: {"mean": float(np.mean(s)), "std": float(np.std(s)), "scores": s}
              for label, s in scores.items()}
    return {**result, "num_batches": num_batches, "batch_size": batch_size}


# ---------------------------------------------------------------------------------------------
# Frechet distance in the judge's feature space


def judge_features(judge, batches: Iterable, total: int | None = None, what: str = "videos") -> np.ndarray:
    """Video features (N, F) from batches of videos (B, T, H, W, 3): the mean over each video's
    frames of the judge's frame features (D_I's last hidden activations, averaged over positions)."""
    parts, done = [], 0
    for batch in batches:
        parts.append(judge.videos(batch)["features"])
        done += len(parts[-1])
        if total:
            log.info("judge_fd: features of %s %d/%d", what, min(done, total), total)
    if not parts:
        raise ValueError(f"no {what} to compute features of")
    return np.concatenate(parts, 0)


def judge_frechet_distance(judge, real_batches: Iterable, generated_batches: Iterable,
                           num_real: int | None = None, num_generated: int | None = None) -> dict:
    """Frechet distance between real and generated videos in the judge's feature space.

    Not FVD: the features are a frame classifier's, averaged over time (see `rjkeras.eval.judge`).
    """
    real = judge_features(judge, real_batches, num_real, "real videos")
    generated = judge_features(judge, generated_batches, num_generated, "generated videos")
    return {"value": frechet.frechet_distance(real, generated), "num_real": len(real),
            "num_generated": len(generated), "feature_dim": int(real.shape[1])}


# ---------------------------------------------------------------------------------------------
# Disentanglement


def marginal(labels, num_classes: int) -> np.ndarray:
    """Share of each class among integer labels (N,) -> (num_classes,)."""
    return np.bincount(np.asarray(labels, np.int64).ravel(), minlength=num_classes) / max(np.size(labels), 1)


def agreement_within_groups(predictions, num_classes: int) -> tuple[float, float]:
    """How often two videos of the same group get the same prediction, and the same rate for
    two unrelated videos.

    Args:
      predictions: int (G, M): the predicted class of M videos in each of G groups, M >= 2.
    Returns:
      (agreement, chance): agreement is the mean over groups and over the M (M - 1) / 2 pairs of
      a group of [pred_i == pred_j]; chance = sum_k q_k^2, q the share of class k among all
      predictions: the agreement of two videos drawn independently from the same predictions.
    """
    p = np.asarray(predictions, np.int64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"predictions must be (groups, M >= 2), got shape {p.shape}")
    m = p.shape[1]
    same = p[:, :, None] == p[:, None, :]  # (G, M, M)
    pairs = (np.sum(same, axis=(1, 2)) - m) / (m * (m - 1))  # off-diagonal share per group
    q = marginal(p, num_classes)
    return float(np.mean(pairs)), float(np.sum(q * q))


def agreement_with_reference(reference, predictions, num_classes: int) -> tuple[float, float]:
    """How often predictions (N,) equal their reference labels (N,), and the same rate for
    independent draws: sum_k r_k q_k with r, q the class shares of reference and predictions."""
    reference, predictions = np.asarray(reference, np.int64), np.asarray(predictions, np.int64)
    if reference.shape != predictions.shape:
        raise ValueError(f"reference {reference.shape} and predictions {predictions.shape} differ")
    chance = float(np.sum(marginal(reference, num_classes) * marginal(predictions, num_classes)))
    return float(np.mean(reference == predictions)), chance


def _summary(per_label: dict, fixed: str) -> dict:
    """Mean agreement of the fixed factor's labels, mean change rate of the other factor's."""
    varied = MOTION if fixed == CONTENT else CONTENT
    kept = [v["agreement"] for v in per_label.values() if v["role"] == fixed]
    changed = [1.0 - v["agreement"] for v in per_label.values() if v["role"] == varied]
    out = {}
    if kept:
        out[f"{fixed}_agreement"] = float(np.mean(kept))
    if changed:
        out[f"{varied}_change_rate"] = float(np.mean(changed))
    return out


def disentanglement_generated(judge, groups: Iterable, fixed: str, total_groups: int | None = None) -> dict:
    """Scores of groups of generated videos that share one factor (no encoder needed: the GANs).

    Args:
      groups: iterable of videos (M, T, H, W, 3), M >= 2, sharing the `fixed` factor ("content":
        one z_C, independent motions; "motion": one motion noise, independent contents).
    Returns:
      {"labels": {label: {"role", "agreement", "chance"}}, "<fixed>_agreement", "<other>_change_rate",
       "num_groups", "videos_per_group"}: labels of the fixed factor should agree within a group
      (agreement near 1), labels of the other factor should change (agreement near chance).
    """
    predictions = {label: [] for label in judge.labels}
    for i, videos in enumerate(groups):
        for label, predicted in judge.predict(videos).items():
            predictions[label].append(predicted)
        if total_groups and ((i + 1) % max(total_groups // 10, 1) == 0 or i + 1 == total_groups):
            log.info("disentanglement (%s fixed): group %d/%d", fixed, i + 1, total_groups)
    roles = judge.roles()
    per_label = {}
    for label, groups_of in predictions.items():
        agreement, chance = agreement_within_groups(np.stack(groups_of), len(judge.classes[label]))
        per_label[label] = {"role": roles[label], "agreement": agreement, "chance": chance}
    first = predictions[judge.labels[0]]
    return {"labels": per_label, **_summary(per_label, fixed), "num_groups": len(first),
            "videos_per_group": int(first[0].shape[0]) if first else 0}


def disentanglement_encoded(judge, batches: Iterable, fixed: str, total: int | None = None) -> dict:
    """DSA's protocol: real test videos are encoded, one factor kept, the other drawn from the
    prior, and the decoded videos judged against the real videos' labels.

    Args:
      batches: iterable of (labels {label: int (B,)} of the real videos, generated videos
        (B, T, H, W, 3) that keep the real videos' `fixed` factor).
    Returns:
      as `disentanglement_generated`, with "agreement" the accuracy against the real labels and
      "num_videos".
    """
    truth = {label: [] for label in judge.labels}
    predictions = {label: [] for label in judge.labels}
    done = 0
    for labels, videos in batches:
        for label, predicted in judge.predict(videos).items():
            predictions[label].append(predicted)
            truth[label].append(np.asarray(labels[label]))
        done += len(videos)
        if total:
            log.info("disentanglement (%s fixed): videos %d/%d", fixed, min(done, total), total)
    roles = judge.roles()
    per_label = {}
    for label in judge.labels:
        agreement, chance = agreement_with_reference(np.concatenate(truth[label]),
                                                     np.concatenate(predictions[label]),
                                                     len(judge.classes[label]))
        per_label[label] = {"role": roles[label], "agreement": agreement, "chance": chance}
    return {"labels": per_label, **_summary(per_label, fixed), "num_videos": done}
