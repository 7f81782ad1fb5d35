"""The Frechet distance between two sets of activations (FID / FVD), in float64.

    d^2 = |m1 - m2|^2 + Tr(S1) + Tr(S2) - 2 Tr(sqrt(sqrt(S1) S2 sqrt(S1)))

with m the means and S the unbiased covariances (divided by n - 1) of the two sets, as FVD's
reference code (TF-GAN's `frechet_classifier_distance_from_activations`). That trace of a matrix
square root is computed with symmetric eigendecompositions only (NumPy; SciPy is not needed):
sqrt(S1) = V diag(sqrt(l)) V^T from S1's eigenpairs, and the eigenvalues of the symmetric positive
semi-definite M = sqrt(S1) S2 sqrt(S1) give Tr(sqrt(M)) = sum(sqrt(eig(M))). This is TF-GAN's own
method, and it is exact for the rank-deficient covariances that fewer samples than dimensions give
(where scipy.linalg.sqrtm warns and returns complex noise). Eigenvalues below zero, which only
round-off produces, are clipped to zero.
"""

from __future__ import annotations

import numpy as np


def statistics(activations) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of activations (N, D), N >= 2, in float64."""
    x = np.asarray(activations, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"activations must be (N >= 2, D), got shape {x.shape}")
    mean = x.mean(axis=0)
    centred = x - mean
    return mean, centred.T @ centred / (x.shape[0] - 1)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr(sqrt(sqrt(S1) S2 sqrt(S1))) for symmetric PSD S1, S2 (D, D)."""
    root1 = _sqrt_psd(np.asarray(sigma1, np.float64))
    middle = root1 @ np.asarray(sigma2, np.float64) @ root1
    middle = (middle + middle.T) / 2.0  # symmetric up to round-off; eigvalsh needs it exactly
    return float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0.0, None))))


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (squared, as FID/FVD report)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"mismatched statistics: means {mu1.shape}, {mu2.shape}; covariances "
                         f"{sigma1.shape}, {sigma2.shape}")
    mean_term = float(np.sum(np.square(mu1 - mu2)))
    trace_term = float(np.trace(sigma1) + np.trace(sigma2)) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return mean_term + trace_term


def frechet_distance(activations1, activations2) -> float:
    """Frechet distance between two activation sets (N1, D) and (N2, D), N1, N2 >= 2.

    FVD when the activations are I3D logits of real and generated videos.
    """
    a1, a2 = np.asarray(activations1), np.asarray(activations2)
    if a1.ndim != 2 or a2.ndim != 2 or a1.shape[1] != a2.shape[1]:
        raise ValueError(f"activations must be (N, D) with the same D, got {a1.shape} and {a2.shape}")
    return frechet_distance_from_statistics(*statistics(a1), *statistics(a2))
