"""Randomness that does not depend on how a batch is split over replicas.

A training step draws its noise as a pure function of (run seed, step, stream) for the whole
global batch and each replica keeps its own rows. One replica and N replicas therefore see
exactly the same noise for the same global batch, which is what makes a multi-device step
equal to a single-device one (and runs repeatable). Latent noise is small next to the
networks' work, so drawing it for the global batch costs nothing measurable.
"""

from __future__ import annotations

import tensorflow as tf


def step_seed(seed, step, stream: int):
    """A stateless seed (shape [2]) for one use (`stream`) of noise at one training step."""
    base = tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])
    return tf.random.experimental.stateless_fold_in(base, stream)


def _replica_rows(draw, per_replica_batch, shape, seed):
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context is not None else 1
    replica = context.replica_id_in_sync_group if context is not None else 0
    start = tf.cast(replica, tf.int32) * per_replica_batch
    shape = tf.cast(tf.reshape(shape, [-1]), tf.int32)  # [] (scalars) or a list of dims
    full = draw(tf.concat([[per_replica_batch * replicas], shape], 0), seed)
    return full[start:start + per_replica_batch]


def replica_normal(per_replica_batch, shape, seed):
    """N(0, 1) noise of shape (per_replica_batch, *shape): this replica's rows of the global draw."""
    return _replica_rows(tf.random.stateless_normal, per_replica_batch, shape, seed)


def replica_uniform(per_replica_batch, shape, seed):
    """U[0, 1) noise of shape (per_replica_batch, *shape), split like `replica_normal`."""
    return _replica_rows(tf.random.stateless_uniform, per_replica_batch, shape, seed)
