"""The VAEs' LSTMs: `ProjectedLSTM` (its loop and written-out gradient, `lstm_sequence`) computes
what Keras' LSTM computes, and reads its checkpoints; so does the decoder's to-RGB layer,
`SameConv2DTranspose`, against Keras' Conv2DTranspose."""

import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import testing_utils
from rjkeras.networks import vae

BATCH, STEPS, FEATURES, UNITS = 3, 5, 7, 6


def _same_weights(new, old, rng):
    """Weights of O(1) in both layers: a wrong gate order or time order moves outputs by O(0.1)."""
    for a, b in zip(new.weights, old.weights):
        value = rng.uniform(-1, 1, a.shape).astype("float32")
        a.assign(value), b.assign(value)


def _outputs_and_gradients(layer, x, in_graph=False):
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            ys = tf.nest.flatten(layer(x))
            # A weighted sum of every output (sequence or last h, and the states when returned),
            # so that each output's place in time and units counts.
            loss = tf.add_n([tf.reduce_sum(y * tf.reshape(tf.range(tf.size(y), dtype=y.dtype), tf.shape(y)))
                             for y in ys])
        return ys, tape.gradient(loss, [x] + layer.trainable_weights)

    # In a tf.function the tape hands unused outputs' gradients over as zeros, eagerly as None.
    return tf.function(run)(x) if in_graph else run(x)


# (go_backwards, return_sequences, return_state, bidirectional); a Bidirectional runs its own
# backward copy.
@pytest.mark.parametrize("in_graph", [False, True], ids=["eager", "graph"])
@pytest.mark.parametrize("go_backwards, return_sequences, return_state, bidirectional", [
    (False, False, False, False), (False, True, False, False), (True, False, False, False),
    (True, True, False, False), (False, False, True, False), (True, True, True, False),
    (False, False, False, True), (False, True, False, True)])
def test_projected_lstm_gives_keras_lstm_outputs_and_gradients(go_backwards, return_sequences, return_state,
                                                               bidirectional, in_graph):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((BATCH, STEPS, FEATURES)), tf.float32)

    def make(cls):
        lstm = cls(UNITS, return_sequences=return_sequences, return_state=return_state,
                   go_backwards=go_backwards)
        return layers.Bidirectional(lstm, merge_mode="concat") if bidirectional else lstm

    new, old = make(vae.ProjectedLSTM), make(layers.LSTM)
    new(x), old(x)
    _same_weights(new, old, rng)
    y_new, g_new = _outputs_and_gradients(new, x, in_graph)
    y_old, g_old = _outputs_and_gradients(old, x)
    assert len(y_new) == len(y_old) == (3 if return_state else 1)
    for a, b in zip(y_new, y_old):
        assert float(tf.math.reduce_std(b)) > 0.1  # magnitudes where a mix-up would show
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)
    assert len(g_new) == len(g_old) == 1 + len(old.trainable_weights)
    for a, b in zip(g_new, g_old):
        scale = float(tf.reduce_max(tf.abs(b)))
        assert scale > 0
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5 * scale)


def test_projected_lstm_restores_a_keras_lstm_checkpoint(tmp_path):
    """Checkpoints written before `ProjectedLSTM` (plain Keras LSTMs) restore into it unchanged."""
    rng = np.random.default_rng(1)
    x = tf.constant(rng.standard_normal((BATCH, STEPS, FEATURES)), tf.float32)
    old = layers.Bidirectional(layers.LSTM(UNITS), merge_mode="concat")
    old(x)
    path = tf.train.Checkpoint(rnn=old).save(str(tmp_path / "ckpt"))
    new = layers.Bidirectional(vae.ProjectedLSTM(UNITS), merge_mode="concat")
    new(x)
    tf.train.Checkpoint(rnn=new).restore(path).assert_consumed()
    np.testing.assert_allclose(new(x).numpy(), old(x).numpy(), rtol=1e-5, atol=1e-6)


def test_an_unknown_number_of_steps_takes_keras_loop():
    """A signature without a static T (as a SavedModel's may be) still runs, by Keras' own loop."""
    lstm = vae.ProjectedLSTM(UNITS, return_sequences=True)
    fn = tf.function(lstm, input_signature=[tf.TensorSpec([None, None, FEATURES], tf.float32)])
    y = fn(tf.ones([2, 4, FEATURES]))
    assert y.shape == (2, 4, UNITS)


def test_an_unknown_batch_keeps_the_written_out_loop(monkeypatch):
    """A SavedModel's signature leaves the batch unknown: with T known, the loop is still ours."""
    monkeypatch.setattr(layers.LSTM, "inner_loop", None)  # Keras' loop would fail loudly
    lstm = vae.ProjectedLSTM(UNITS, return_sequences=True)
    x = tf.constant(np.random.default_rng(2).standard_normal((2, STEPS, FEATURES)), tf.float32)
    eager = lstm(x)
    fn = tf.function(lstm, input_signature=[tf.TensorSpec([None, STEPS, FEATURES], tf.float32)])
    np.testing.assert_allclose(fn(x).numpy(), eager.numpy(), rtol=1e-6, atol=1e-6)


def test_other_activations_take_keras_loop(monkeypatch):
    """The written-out gradient is sigmoid's and tanh's: any other activation runs Keras' loop."""
    calls = []
    real = layers.LSTM.inner_loop
    monkeypatch.setattr(layers.LSTM, "inner_loop",
                        lambda self, *a, **k: calls.append(self.name) or real(self, *a, **k))
    vae.ProjectedLSTM(UNITS, activation="relu", name="relu_lstm")(tf.ones([2, STEPS, FEATURES]))
    assert calls == ["relu_lstm"]


def test_with_a_gpu_keras_path_runs_so_cudnn_can(monkeypatch):
    """On a GPU the layer hands over to `layers.LSTM`'s own path, which picks cuDNN's fused kernel."""
    calls = []
    real = layers.LSTM.inner_loop

    def keras_loop(self, *args, **kwargs):
        calls.append(self.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(layers.LSTM, "inner_loop", keras_loop)
    lstm = vae.ProjectedLSTM(UNITS, name="projected")
    x = tf.ones([2, STEPS, FEATURES])
    lstm(x)
    assert calls == []
    monkeypatch.setattr(tf.config, "list_logical_devices",
                        lambda kind=None: ["/device:GPU:0"] if kind == "GPU" else [])
    lstm(x)
    assert calls == ["projected"]


@pytest.mark.parametrize("in_graph", [False, True], ids=["eager", "graph"])
@pytest.mark.parametrize("shape, kernel_size, filters", [
    ((2, 32, 32, 32), (5, 5), 3),  # DSA's to-RGB layer at the small presets' size
    ((3, 9, 12, 4), (3, 5), 2),  # a non-square kernel and frame
    ((2, 6, 6, 3), (1, 1), 5),  # one tap
])
def test_same_conv2d_transpose_gives_keras_outputs_and_gradients(shape, kernel_size, filters, in_graph):
    """Outputs and the input, kernel and bias gradients of Keras' Conv2DTranspose, to float32
    round-off, with weights of O(1) and no activation (a saturated tanh would hide the gradients);
    the taps flipped (as a missing flip would) or summed in the wrong horizontal order miss by far
    more."""
    rng = np.random.default_rng(4)
    x = tf.constant(rng.uniform(-1, 1, shape), tf.float32)
    new = vae.SameConv2DTranspose(filters, kernel_size, padding="same")
    old = layers.Conv2DTranspose(filters, kernel_size, padding="same")
    new(x), old(x)
    _same_weights(new, old, rng)
    y_new, g_new = _outputs_and_gradients(new, x, in_graph)
    y_old, g_old = _outputs_and_gradients(old, x)
    for a, b in zip(y_new + g_new, y_old + g_old):
        assert a.shape == b.shape
        assert testing_utils.relative_error(b, a) < 1e-4
    if kernel_size != (1, 1):
        kernel = tf.convert_to_tensor(old.kernel)
        for wrong in (kernel[::-1, ::-1], kernel[:, ::-1]):
            assert testing_utils.relative_error(y_old[0] - old.bias, vae.same_conv2d_transpose(x, wrong)) > 0.1


@pytest.mark.parametrize("kwargs", [dict(strides=2), dict(kernel_size=4), dict(padding="valid"),
                                    dict(output_padding=0), dict(dilation_rate=2)])
def test_other_transposed_convs_take_keras_op(kwargs, monkeypatch):
    """The folded taps are stride 1, 'same', odd kernels: anything else is Keras' own op."""
    monkeypatch.setattr(vae, "same_conv2d_transpose", None)  # would fail loudly if called
    kwargs = {"kernel_size": 3, "padding": "same", **kwargs}
    x = tf.constant(np.random.default_rng(5).uniform(-1, 1, (2, 7, 7, 4)), tf.float32)
    new, old = vae.SameConv2DTranspose(3, **kwargs), layers.Conv2DTranspose(3, **kwargs)
    new(x), old(x)
    _same_weights(new, old, np.random.default_rng(6))
    np.testing.assert_allclose(new(x).numpy(), old(x).numpy(), rtol=1e-6, atol=1e-6)


def test_with_a_gpu_the_transposed_conv_is_keras_op(monkeypatch):
    monkeypatch.setattr(tf.config, "list_logical_devices",
                        lambda kind=None: ["/device:GPU:0"] if kind == "GPU" else [])
    monkeypatch.setattr(vae, "same_conv2d_transpose", None)
    assert vae.SameConv2DTranspose(3, 5, padding="same")(tf.ones([1, 8, 8, 4])).shape == (1, 8, 8, 3)


def test_same_conv2d_transpose_restores_a_keras_checkpoint_and_serves(tmp_path, monkeypatch):
    """Decoders saved before the layer existed restore into it, and a signature with an unknown
    batch (a SavedModel's) runs the folded taps."""
    calls = []
    real = vae.same_conv2d_transpose
    monkeypatch.setattr(vae, "same_conv2d_transpose", lambda *args: calls.append(1) or real(*args))
    x = tf.constant(np.random.default_rng(7).uniform(-1, 1, (2, 8, 8, 4)), tf.float32)
    old = layers.Conv2DTranspose(3, 5, padding="same", activation="tanh")
    old(x)
    path = tf.train.Checkpoint(layer=old).save(str(tmp_path / "ckpt"))
    new = vae.SameConv2DTranspose.from_config(old.get_config())
    new(x)
    tf.train.Checkpoint(layer=new).restore(path).assert_consumed()
    fn = tf.function(new, input_signature=[tf.TensorSpec([None, 8, 8, 4], tf.float32)])
    calls.clear()
    np.testing.assert_allclose(fn(x).numpy(), old(x).numpy(), rtol=1e-5, atol=1e-6)
    assert calls  # traced through the folded taps
