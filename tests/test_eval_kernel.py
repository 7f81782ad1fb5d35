"""The kernel distance (KID/KVD's estimator) against an independent computation through the
polynomial kernel's explicit feature map."""

import math

import numpy as np
import pytest

from rjkeras.eval import kernel


def _feature_map(x):
    """(1 + x . y / d)^3 = sum_k C(3, k) (x . y / d)^k = phi(x) . phi(y), phi_k the k-th tensor
    power of x / sqrt(d), weighted by sqrt(C(3, k))."""
    n, d = x.shape
    z = x / math.sqrt(d)
    parts = [np.ones((n, 1))]
    power = np.ones((n, 1))
    for k in (1, 2, 3):
        power = np.einsum("ni,nj->nij", power, z).reshape(n, -1)
        parts.append(math.sqrt(math.comb(3, k)) * power)
    return np.concatenate(parts, axis=1)


def _independent_mmd2(x, y):
    """Unbiased MMD^2 from the mean embeddings: (|sum phi|^2 - sum |phi|^2) / (m (m - 1)) a set,
    minus twice the product of the two means."""
    fx, fy = _feature_map(x), _feature_map(y)
    m = len(x)
    within = lambda f: (np.sum(f.sum(0) ** 2) - np.sum(f ** 2)) / (m * (m - 1))  # noqa: E731
    return within(fx) + within(fy) - 2 * fx.mean(0) @ fy.mean(0)


def test_matches_the_feature_map_computation():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)), rng.normal(0.5, 1.3, size=(40, 4))
    expected = _independent_mmd2(x, y)
    assert expected > 0.1  # far from 0: a wrong sign or a missing term would show
    np.testing.assert_allclose(kernel.mmd2_unbiased(x, y), expected, rtol=1e-9)
    # Subsets as large as the sets are permutations of them: every subset gives the same value.
    result = kernel.kernel_distance(y, x, num_subsets=5, subset_size=1000, seed=3)
    assert result["subset_size"] == 40 and result["num_subsets"] == 5
    np.testing.assert_allclose(result["value"], expected, rtol=1e-9)
    assert result["std"] < 1e-9 * expected


def test_unbiased_near_zero_for_one_distribution_and_grows_with_the_shift():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(600, 8))
    same = kernel.kernel_distance(real, rng.normal(size=(600, 8)), num_subsets=20, subset_size=200)
    shifted = kernel.kernel_distance(real, rng.normal(0.5, 1.0, size=(600, 8)), num_subsets=20, subset_size=200)
    further = kernel.kernel_distance(real, rng.normal(1.0, 1.0, size=(600, 8)), num_subsets=20, subset_size=200)
    assert abs(same["value"]) < 3 * same["std"] + 1e-3  # unbiased: centred on 0 (it can be negative)
    assert further["value"] > shifted["value"] > 10 * abs(same["value"])


def test_refuses_sets_it_cannot_compare():
    with pytest.raises(ValueError, match=r"\(N, d\) and \(M, d\)"):
        kernel.kernel_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        kernel.kernel_distance(np.zeros((1, 3)), np.zeros((5, 3)))
