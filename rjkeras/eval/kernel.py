"""Kernel distance between two sets of features: KID (Binkowski et al. 2018) on Inception features,
KVD (Unterthiner et al. 2018, beside FVD) on I3D's, and here also on the judge's.

The squared maximum mean discrepancy under the polynomial kernel k(x, y) = (x . y / d + 1)^3
(d the feature dimension), estimated without bias on random subsets of both sets and averaged
over the subsets, as the KID reference code (and StyleGAN-ADA's and StyleGAN-V's, which report
it for KVD): for subsets X, Y of m features each,

    MMD^2 = sum_{i != j} [k(x_i, x_j) + k(y_i, y_j)] / (m (m - 1))  -  2 sum_{i, j} k(x_i, y_j) / m^2.

Unlike the Frechet distance it has no bias from the number of samples, and it can be negative
when the sets are close (an unbiased estimate of a value near 0).
"""

from __future__ import annotations

import numpy as np

NUM_SUBSETS = 100  # the references' defaults
SUBSET_SIZE = 1000


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased squared MMD between two sets of m features each (module docstring)."""
    m = x.shape[0]
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / (m * m))


def kernel_distance(real, generated, *, num_subsets: int = NUM_SUBSETS, subset_size: int = SUBSET_SIZE,
                    seed: int = 0) -> dict:
    """The kernel distance of two feature sets (N, d), (M, d): the mean over `num_subsets` random
    subsets of min(N, M, subset_size) features of each, drawn without replacement.

    Returns:
      {"value": the mean, "std": its spread over the subsets (ddof 1), "num_subsets", "subset_size"}.
    """
    real = np.asarray(real, np.float64)
    generated = np.asarray(generated, np.float64)
    if real.ndim != 2 or generated.ndim != 2 or real.shape[1] != generated.shape[1]:
        raise ValueError(f"features must be (N, d) and (M, d), got {real.shape} and {generated.shape}")
    m = min(len(real), len(generated), subset_size)
    if m < 2:
        raise ValueError(f"a kernel distance needs at least 2 features a set, got {m}")
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(generated[rng.choice(len(generated), m, replace=False)],
                            real[rng.choice(len(real), m, replace=False)]) for _ in range(num_subsets)]
    return {"value": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if num_subsets > 1 else 0.0,
            "num_subsets": num_subsets, "subset_size": m}
