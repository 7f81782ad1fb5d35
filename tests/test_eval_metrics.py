"""The judge's metrics on hand-made predictions: Inception Score, agreement rates, and the
disentanglement summaries."""

import types

import numpy as np
import pytest

from rjkeras.eval import metrics


def test_inception_score_extremes_and_formula():
    assert metrics.inception_score(np.full((10, 4), 0.25)) == pytest.approx(1.0)
    assert metrics.inception_score(np.eye(4)[[0, 1, 2, 3] * 3]) == pytest.approx(4.0)  # confident, balanced
    assert metrics.inception_score(np.eye(4)[[2] * 8]) == pytest.approx(1.0)  # confident, one class
    p = np.random.default_rng(0).dirichlet(np.ones(5), size=20)
    py = p.mean(0)
    expected = np.exp(np.mean([np.sum(row * np.log(row / py)) for row in p]))
    assert metrics.inception_score(p) == pytest.approx(expected, rel=1e-12)


def test_agreement_within_groups():
    groups = np.array([[0, 0, 0], [1, 1, 2]])
    agreement, chance = metrics.agreement_within_groups(groups, num_classes=3)
    assert agreement == pytest.approx((1.0 + 1.0 / 3.0) / 2)  # group 2: 1 equal pair of 3
    q = np.array([3, 2, 1]) / 6
    assert chance == pytest.approx(np.sum(q * q))
    with pytest.raises(ValueError):
        metrics.agreement_within_groups(np.zeros((3, 1), int), 2)


def test_agreement_with_reference():
    agreement, chance = metrics.agreement_with_reference([0, 1, 1, 2], [0, 1, 2, 2], 3)
    assert agreement == 0.75
    assert chance == pytest.approx(np.dot([0.25, 0.5, 0.25], [0.25, 0.25, 0.5]))


def _fake_judge(predict):
    return types.SimpleNamespace(
        labels=["action", "hair"], classes={"action": ["a", "b", "c"], "hair": list("uvwxyz")},
        roles=lambda: {"action": "motion", "hair": "content"}, predict=predict)


def test_fixed_content_keeps_attributes_and_changes_actions():
    rng = np.random.default_rng(1)

    def predict(videos):  # the first pixel of a video encodes its group's content
        n = len(videos)
        return {"action": rng.integers(0, 3, n), "hair": np.full(n, int(videos[0, 0, 0, 0, 0]))}

    groups = [np.full((4, 2, 1, 1, 3), g, np.float32) for g in range(6)]
    result = metrics.disentanglement_generated(_fake_judge(predict), groups, "content")
    assert result["labels"]["hair"]["agreement"] == 1.0
    assert result["content_agreement"] == 1.0
    assert result["motion_change_rate"] == pytest.approx(1.0 - result["labels"]["action"]["agreement"])
    assert 0.3 < result["motion_change_rate"] < 1.0
    assert result["num_groups"] == 6 and result["videos_per_group"] == 4


def test_encoded_protocol_compares_with_the_real_labels():
    def predict(videos):
        return {"action": np.zeros(len(videos), int), "hair": np.arange(len(videos)) % 6}

    batches = [({"action": np.array([0, 0, 1]), "hair": np.array([0, 1, 2])}, np.zeros((3, 2, 1, 1, 3))),
               ({"action": np.array([2]), "hair": np.array([5])}, np.zeros((1, 2, 1, 1, 3)))]
    result = metrics.disentanglement_encoded(_fake_judge(predict), batches, "motion")
    assert result["labels"]["action"]["agreement"] == 0.5
    assert result["labels"]["hair"]["agreement"] == 0.75  # 0,1,2 right; 0 vs 5 wrong
    assert result["motion_agreement"] == 0.5 and result["content_change_rate"] == 0.25
    assert result["num_videos"] == 4


def test_judge_frechet_distance_uses_mean_frame_features():
    def videos(batch):
        return {"features": batch.mean(axis=(1, 2, 3))}  # (B, 3): channel means

    judge = types.SimpleNamespace(videos=videos)
    rng = np.random.default_rng(2)
    real = [rng.normal(size=(10, 2, 2, 2, 3)) for _ in range(3)]
    result = metrics.judge_frechet_distance(judge, real, real, 30, 30)
    assert result["value"] == pytest.approx(0.0, abs=1e-9)
    assert result["num_real"] == result["num_generated"] == 30 and result["feature_dim"] == 3
    shifted = [batch + 1.0 for batch in real]
    assert metrics.judge_frechet_distance(judge, real, shifted)["value"] == pytest.approx(3.0)
