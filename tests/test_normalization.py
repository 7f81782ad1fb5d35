"""Batch norm on one replica: the fused kernel computes what Keras' BatchNormalization computes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rjkeras.networks.normalization import SyncBatchNormalization


def _pair(shape, rng):
    """Ours and Keras' layer, built on `shape`, with the same non-trivial weights and statistics."""
    ours, keras_bn = SyncBatchNormalization(), keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    for layer in (ours, keras_bn):
        layer.build(shape)
    channels = shape[-1]
    values = [rng.uniform(0.5, 2.0, channels), rng.normal(0, 1, channels),  # gamma, beta
              rng.normal(0, 1, channels), rng.uniform(0.5, 2.0, channels)]  # moving mean, variance
    for layer in (ours, keras_bn):
        for weight, value in zip((layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance), values):
            weight.assign(value.astype("float32"))
    return ours, keras_bn


def _step(layer, x, weights):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * weights)  # each output's place counts
    return [y] + tape.gradient(loss, [x, layer.gamma, layer.beta]) + [layer.moving_mean, layer.moving_variance]


# Few values per channel (6 and 12), where the biased and unbiased variances differ by 8-20%.
@pytest.mark.parametrize("shape", [(2, 3, 1, 4), (2, 3, 1, 2, 4)], ids=["frames", "videos"])
@pytest.mark.parametrize("in_graph", [False, True], ids=["eager", "graph"])
def test_fused_batch_norm_gives_keras_outputs_gradients_and_moving_statistics(shape, in_graph, monkeypatch):
    calls = []
    fused = tf.raw_ops.FusedBatchNormV3
    monkeypatch.setattr(tf.raw_ops, "FusedBatchNormV3", lambda **kw: calls.append(1) or fused(**kw))
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(3.0, 2.0, shape), tf.float32)
    weights = tf.constant(rng.normal(0, 1, shape), tf.float32)
    ours, keras_bn = _pair(shape, rng)
    step = tf.function(_step) if in_graph else _step
    got, want = step(ours, x, weights), _step(keras_bn, x, weights)
    assert calls, "the fused kernel did not run"
    names = ["outputs", "d_inputs", "d_gamma", "d_beta", "moving_mean", "moving_variance"]
    for name, a, b in zip(names, got, want):
        b = np.asarray(b)
        assert np.max(np.abs(b)) > 0.1, name  # magnitudes where a mix-up would show
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-4, atol=1e-5 * np.max(np.abs(b)), err_msg=name)


def test_the_fused_moments_are_two_pass():
    """A large mean and a small spread (a constant background): E[x^2] - E[x]^2 would cancel."""
    rng = np.random.default_rng(1)
    x = rng.normal(1000.0, 0.01, (16, 8, 8, 3)).astype("float32")
    layer = SyncBatchNormalization(momentum=0.0)  # the moving variance becomes the batch's
    layer(tf.constant(x), training=True)
    np.testing.assert_allclose(layer.moving_variance.numpy(), x.astype("float64").var(axis=(0, 1, 2)),
                               rtol=0.01)


def test_unknown_frame_sizes_take_keras_path():
    """The fused kernel needs each frame's size; a signature without one runs Keras' ops."""
    layer = SyncBatchNormalization()
    fn = tf.function(lambda x: layer(x, training=True),
                     input_signature=[tf.TensorSpec([None, None, None, 4], tf.float32)])
    y = fn(tf.random.normal([2, 3, 3, 4]))
    np.testing.assert_allclose(tf.reduce_mean(y, axis=(0, 1, 2)).numpy(), np.zeros(4), atol=1e-5)
