"""`rjkeras.models.optimizer.Adam` (fused updates) steps as Keras' Adam does, on one device and on
two replicas, and reads Keras' Adam checkpoints."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import testing_utils
from rjkeras.models.optimizer import Adam

SHAPES = [(5, 5, 3, 8), (8,), (40, 7)]
STEPS = 20


def _train(optimizer_class, strategy, start=None, steps=STEPS, amsgrad=False):
    """Variables after `steps` Adam steps on gradients that change with the step and the value
    (sin(3w + i)), lr 1e-2: the weights move by ~0.02, a thousand times the tolerance."""
    init = start or [np.random.default_rng(0).standard_normal(s).astype("float32") for s in SHAPES]
    with strategy.scope():
        variables = [tf.Variable(v) for v in init]
        optimizer = optimizer_class(1e-2, beta_1=0.5, beta_2=0.99, amsgrad=amsgrad)
        optimizer.build(variables)
    replicas = strategy.num_replicas_in_sync

    @tf.function
    def step(i):
        def apply():  # each replica's share of the gradient; Keras sums them over replicas
            grads = [tf.sin(3.0 * v + tf.cast(i, tf.float32)) / replicas for v in variables]
            optimizer.apply_gradients(zip(grads, variables))
        strategy.run(apply)

    for i in range(steps):
        step(tf.constant(i))
    return [v.numpy() for v in variables], init, optimizer, variables


@pytest.mark.parametrize("amsgrad", [False, True])
def test_the_fused_update_is_keras_adam(amsgrad):
    default = tf.distribute.get_strategy()
    want, init, _, _ = _train(keras.optimizers.Adam, default, amsgrad=amsgrad)
    got, _, _, _ = _train(Adam, default, amsgrad=amsgrad)
    for a, b, w0 in zip(want, got, init):
        assert np.abs(a - w0).max() > 0.01  # moved: a wrong update would show
        np.testing.assert_allclose(b, a, rtol=0, atol=2e-6)


def test_two_replicas_update_as_one_device():
    want, _, _, _ = _train(keras.optimizers.Adam, tf.distribute.get_strategy())
    strategy = testing_utils.mirrored(2)
    got, _, optimizer, variables = _train(Adam, strategy)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=0, atol=2e-6)
    for variable in variables + optimizer.variables:  # every replica's copy moved alike
        copies = [v.numpy() for v in strategy.experimental_local_results(
            variable.value if isinstance(variable, keras.Variable) else variable)]
        np.testing.assert_array_equal(copies[0], copies[1])


def test_a_keras_adam_checkpoint_resumes_into_it(tmp_path):
    default = tf.distribute.get_strategy()
    _, init, keras_adam, keras_vars = _train(keras.optimizers.Adam, default, steps=10)
    path = tf.train.Checkpoint(optimizer=keras_adam, variables=keras_vars).save(str(tmp_path / "ckpt"))
    want, _, _, _ = _train(keras.optimizers.Adam, default)
    # Our optimizer, restored at step 10, takes the last 10 steps of the same run.
    with default.scope():
        variables = [tf.Variable(v) for v in init]
        optimizer = Adam(1e-2, beta_1=0.5, beta_2=0.99)
        optimizer.build(variables)
    tf.train.Checkpoint(optimizer=optimizer, variables=variables).restore(path).assert_consumed()
    assert int(optimizer.iterations.numpy()) == 10

    @tf.function
    def step(i):
        optimizer.apply_gradients(zip([tf.sin(3.0 * v + tf.cast(i, tf.float32)) for v in variables], variables))

    for i in range(10, STEPS):
        step(tf.constant(i))
    for a, b in zip(want, variables):
        np.testing.assert_allclose(b.numpy(), a, rtol=0, atol=2e-6)
