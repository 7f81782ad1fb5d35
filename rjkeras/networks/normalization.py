"""Batch normalisation whose statistics are those of the global batch, computed stably."""

from __future__ import annotations

import keras
import tensorflow as tf


class SyncBatchNormalization(keras.layers.BatchNormalization):
    """BatchNormalization with moments over the global batch of all replicas (two-pass).

    Keras' `synchronized=True` computes Var = E[x^2] - E[x]^2, which cancels catastrophically
    when activations have a large mean and small spread (a constant background does this):
    float rounding then changes the variance with the replica split. Here the mean is
    all-reduced first and then the sum of squared deviations, as `tf.nn.moments` does on one
    device, so N replicas normalise like one device with the whole batch.
    PyTorch's defaults (momentum 0.1 there, 0.9 here; epsilon 1e-5) follow the baselines.
    """

    def __init__(self, momentum=0.9, epsilon=1e-5, **kwargs):
        super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)

    def _moments(self, inputs, mask):
        context = tf.distribute.get_replica_context()
        if mask is not None or context is None or context.num_replicas_in_sync == 1:
            return super()._moments(inputs, mask)
        axes = self._reduction_axes
        total = lambda x: context.all_reduce(tf.distribute.ReduceOp.SUM, x)  # noqa: E731
        count = total(tf.cast(tf.reduce_prod(tf.gather(tf.shape(inputs), axes)), inputs.dtype))
        mean = total(tf.reduce_sum(inputs, axis=axes, keepdims=True)) / count
        variance = total(tf.reduce_sum(tf.square(inputs - mean), axis=axes, keepdims=True)) / count
        return tf.squeeze(mean, axes), tf.squeeze(variance, axes)
