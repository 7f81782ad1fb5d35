"""The Frechet distance against independent computations, and FVD's preprocessing."""

import numpy as np
import pytest

from rjkeras.eval import frechet, fvd


def _independent(a, b):
    """FD from np.cov and the eigenvalues of the (non-symmetric) product S1 S2, whose square
    roots sum to Tr(sqrt(sqrt(S1) S2 sqrt(S1))): no symmetric square root involved."""
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)  # unbiased (N - 1)
    eig = np.linalg.eigvals(s1 @ s2)
    trace_sqrt = np.sum(np.sqrt(np.clip(eig.real, 0, None)))
    return np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt


@pytest.mark.parametrize("n, d", [(200, 16), (30, 64)])  # full rank, and fewer samples than dims
def test_matches_independent_computation(n, d):
    rng = np.random.default_rng(n)
    a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    b = rng.normal(0.3, 1.5, size=(n + 7, d)) @ rng.normal(size=(d, d))
    np.testing.assert_allclose(frechet.frechet_distance(a, b), _independent(a, b), rtol=1e-7)


def test_matches_scipy_when_available():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(100, 10)), rng.normal(1.0, 2.0, size=(120, 10))
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(s1) + np.trace(s2)
                - 2 * np.trace(linalg.sqrtm(s1 @ s2).real))
    np.testing.assert_allclose(frechet.frechet_distance(a, b), expected, rtol=1e-7)


def test_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    value = frechet.frechet_distance_from_statistics(mu1, np.diag(var1), mu2, np.diag(var2))
    assert value == pytest.approx(expected, rel=1e-12)


def test_float64_and_unbiased_statistics():
    # float32 activations with a large offset: float32 statistics would lose the spread.
    rng = np.random.default_rng(2)
    a = (1e4 + rng.normal(size=(50, 4))).astype(np.float32)
    mean, cov = frechet.statistics(a)
    assert mean.dtype == cov.dtype == np.float64
    np.testing.assert_allclose(cov, np.cov(a.astype(np.float64), rowvar=False), rtol=1e-10)
    assert frechet.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_rejects_bad_shapes():
    with pytest.raises(ValueError):
        frechet.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError):
        frechet.statistics(np.zeros((1, 3)))


# ---------------------------------------------------------------------------------------------
# FVD's preprocessing


def _tf1_bilinear(image, size):
    """TF1's resize_bilinear (align_corners=False, no half-pixel centres) in NumPy, (H, W, C)."""
    h, w = image.shape[:2]
    image = image.astype(np.float64)

    def axis(n_in, n_out):
        src = np.arange(n_out) * (n_in / n_out)
        low = np.floor(src).astype(int)
        return low, np.minimum(low + 1, n_in - 1), src - low

    y0, y1, wy = axis(h, size)
    x0, x1, wx = axis(w, size)
    top = image[y0][:, x0] * (1 - wx)[None, :, None] + image[y0][:, x1] * wx[None, :, None]
    bottom = image[y1][:, x0] * (1 - wx)[None, :, None] + image[y1][:, x1] * wx[None, :, None]
    return top * (1 - wy)[:, None, None] + bottom * wy[:, None, None]


def test_preprocess_resizes_like_the_reference_and_scales_to_unit_range():
    rng = np.random.default_rng(3)
    videos = rng.integers(0, 256, (2, 9, 12, 10, 3), dtype=np.uint8)
    out = fvd.preprocess(videos).numpy()
    assert out.shape == (2, 9, 224, 224, 3) and out.dtype == np.float32
    expected = 2.0 * _tf1_bilinear(videos[1, 4], 224) / 255.0 - 1.0
    np.testing.assert_allclose(out[1, 4], expected, atol=1e-5)
    assert fvd.preprocess(np.zeros((1, 9, 4, 4, 3), np.uint8)).numpy().max() == -1.0
    assert fvd.preprocess(np.full((1, 9, 4, 4, 3), 255, np.uint8)).numpy().min() == 1.0


def test_short_videos_are_extended_as_reported():
    assert fvd.extended_indices(16) is None and fvd.extended_indices(9) is None
    assert fvd.extended_indices(8, "loop").tolist() == list(range(8)) * 2
    assert fvd.extended_indices(8, "repeat").tolist() == [i // 2 for i in range(16)]
    videos = np.arange(8, dtype=np.uint8)[None, :, None, None, None] * np.ones((1, 8, 2, 2, 3), np.uint8)
    looped = fvd.preprocess(videos, "loop").numpy()
    assert looped.shape[1] == 16
    np.testing.assert_allclose(looped[0, :, 0, 0, 0], 2.0 * np.tile(np.arange(8), 2) / 255.0 - 1.0, atol=1e-6)
    report = fvd.short_video_report(8, "loop")
    assert report["i3d_length"] == 16 and report["short_videos"].startswith("loop")
    assert fvd.short_video_report(16, "loop")["i3d_length"] == 16


def test_floats_are_rounded_to_pixels_first():
    assert fvd.to_uint8(np.array([-1.0, 0.0, 1.0, 2.0])).tolist() == [0, 128, 255, 255]
