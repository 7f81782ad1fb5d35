"""Networks of the sequential VAEs (RJVAE and the Disentangled Sequential Autoencoder).

Architectures follow the DSA code the paper compared with (the PyTorch `DisentangledVAE` by the
paper's first author): a conv encoder to C x (H/8) x (W/8), dense layers to per-frame features, a
bi-LSTM over those features for the sequence-level latent, a dense head per frame for the
frame-level latent, an LSTM prior over frame latents and a dense + transposed-conv decoder. No
losses here: the objectives live in `rjkeras.models`.

Where that code differs (each our choice, kept for both VAEs so that RJVAE and DSA differ only in
their latents; none changes a layer's size):
- decoder dense layers: here Dense (no bias) + batch norm + LeakyReLU; there Linear (biased) +
  LeakyReLU, no batch norm;
- last layer: here a biased transposed conv straight into tanh; there its transposed conv is
  followed by batch norm before the tanh;
- q(f) heads: here linear (loc and scale); there Linear + LeakyReLU(0.2) on both the mean and the
  log-variance (its docstring says linear);
- Gaussian scales: here softplus(.) + 1e-4; there exp(log-variance / 2) (`GaussianHead`);
- biases: here none before a batch norm (it cancels them); there every conv and linear has one;
- initialisation: here Keras' defaults (Glorot uniform, batch norm gamma 1 and beta 0); there
  Kaiming normal for every conv and linear weight, and batch norm weight 1 and *bias 1*.

Normalisation layers are synchronised across replicas so a step under MirroredStrategy
computes what a single device computes on the same global batch (our choice; the baseline
trained on one GPU, where the two are the same).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from rjkeras.networks.normalization import SyncBatchNormalization as batch_norm

LEAK = 0.2  # LeakyReLU slope of DSA's units


def _dense_unit(x, units: int, name: str):
    x = layers.Dense(units, use_bias=False, name=f"{name}_dense")(x)  # BN follows: a bias is redundant
    x = batch_norm(name=f"{name}_bn")(x)
    return layers.LeakyReLU(LEAK, name=f"{name}_act")(x)


def frame_encoder(image_size: int, channels: int, feature_dim: int, name: str = "frame_encoder"):
    """x_t (H, W, 3) in [-1, 1] -> features (feature_dim,): DSA's conv stack and dense units."""
    x = inputs = keras.Input((image_size, image_size, 3), name="frames")
    for i, stride in enumerate((1, 2, 2, 2)):
        x = layers.Conv2D(channels, 5, strides=stride, padding="same", use_bias=False,
                          name=f"conv{i}")(x)
        x = batch_norm(name=f"conv{i}_bn")(x)
        x = layers.LeakyReLU(LEAK, name=f"conv{i}_act")(x)
    x = layers.Flatten()(x)  # (C * H/8 * W/8,)
    x = _dense_unit(x, 2 * feature_dim, "fc0")
    x = _dense_unit(x, feature_dim, "fc1")
    return keras.Model(inputs, x, name=name)


def frame_decoder(latent_dim: int, image_size: int, channels: int, feature_dim: int,
                  name: str = "frame_decoder"):
    """Frame latent (latent_dim,) -> frame mean (H, W, 3) in [-1, 1] (tanh)."""
    base = image_size // 8
    z = inputs = keras.Input((latent_dim,), name="frame_latents")
    z = _dense_unit(z, 2 * feature_dim, "fc0")
    z = _dense_unit(z, channels * base * base, "fc1")
    x = layers.Reshape((base, base, channels))(z)  # (H/8, W/8, C)
    for i in range(3):
        x = layers.Conv2DTranspose(channels, 5, strides=2, padding="same", use_bias=False,
                                   name=f"deconv{i}")(x)
        x = batch_norm(name=f"deconv{i}_bn")(x)
        x = layers.LeakyReLU(LEAK, name=f"deconv{i}_act")(x)
    x = layers.Conv2DTranspose(3, 5, strides=1, padding="same", activation="tanh", name="to_rgb")(x)
    return keras.Model(inputs, x, name=name)


def repeat_over_time(x, steps):
    """(B, S) -> (B, T, S): a per-sequence vector beside every step."""
    return tf.repeat(x[:, None, :], steps, axis=1)


class GaussianHead(layers.Layer):
    """features -> (loc, scale) of a diagonal Gaussian.

    The scale is softplus(.) + 1e-4 rather than DSA's exp(log-variance / 2): the same family,
    but it cannot overflow early in training (our choice).
    """

    def __init__(self, dim: int, hidden: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(hidden, name="hidden") if hidden else None
        self.loc = layers.Dense(dim, name="loc")
        self.raw_scale = layers.Dense(dim, name="scale")

    def call(self, x):
        if self.hidden is not None:
            x = tf.nn.leaky_relu(self.hidden(x), LEAK)
        return self.loc(x), tf.nn.softplus(self.raw_scale(x)) + 1e-4


@keras.saving.register_keras_serializable(package="rjkeras")
class ProjectedLSTM(layers.LSTM):
    """`layers.LSTM` with every step's input projection x_t W + b in one matmul before the loop.

    Keras' CPU path multiplies each frame's input inside the loop, T small matmuls of batch rows
    (and T again in the backward pass) where one of batch x T rows fills the CPU better; with T
    static the loop is unrolled, so the recurrent part is a straight graph too (q(f) of DSA at
    paper size: about 25% faster). Same weights, same gate order (i, f, c, o) and the same
    outputs as `layers.LSTM` to round-off. With a GPU, masks, dropout or an unknown T, Keras' own
    path runs (cuDNN's fused kernel where it applies).
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        steps = sequences.shape[1]
        if (mask is not None or steps is None or self.dropout or self.recurrent_dropout
                or tf.config.list_logical_devices("GPU")):
            return super().inner_loop(sequences, initial_state, mask, training)
        cell = self.cell
        projected = tf.einsum("btf,fg->btg", sequences, cell.kernel)
        if cell.use_bias:
            projected += cell.bias
        h, c = initial_state
        outputs = []
        for t in (reversed(range(steps)) if self.go_backwards else range(steps)):
            i, f, g, o = tf.split(projected[:, t] + tf.matmul(h, cell.recurrent_kernel), 4, axis=-1)
            c = cell.recurrent_activation(f) * c + cell.recurrent_activation(i) * cell.activation(g)
            h = cell.recurrent_activation(o) * cell.activation(c)
            outputs.append(h)
        # As Keras' loop: outputs in the order processed (Bidirectional flips the backward ones).
        return h, tf.stack(outputs, axis=1), [h, c]


class SequencePosterior(layers.Layer):
    """q(s | x_1:T): a bi-LSTM over frame features; its two final states -> Gaussian over s.

    Input (B, T, F); output loc, scale of shape (B, dim). As DSA's q(f | x_1:T), and RJVAE's
    q(mu | x_1:T) (paper fig. 2c).
    """

    def __init__(self, dim: int, hidden_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.rnn = layers.Bidirectional(ProjectedLSTM(hidden_dim, name="lstm"), merge_mode="concat",
                                        name="bilstm")
        self.head = GaussianHead(dim, name="head")

    def call(self, features):
        return self.head(self.rnn(features))


class FramePosterior(layers.Layer):
    """q(d_t | x_t [, s]): a dense head on each frame's features, optionally with s appended.

    Input features (B, T, F) and optionally s (B, S); output loc, scale (B, T, dim).
    DSA's factorized q(z_t | x_t) takes no s; RJVAE's q(delta_t | x_t, mu) (fig. 2d) does.
    """

    def __init__(self, dim: int, hidden_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.head = GaussianHead(dim, hidden=hidden_dim, name="head")

    def call(self, features, static=None):
        if static is not None:
            features = tf.concat([features, repeat_over_time(static, tf.shape(features)[1])], -1)
        return self.head(features)


class LSTMPrior(layers.Layer):
    """p(d_t | d_<t [, s]): an LSTM fed d_{t-1} (d_0 = 0) and optionally s -> Gaussian over d_t.

    `call` runs it teacher-forced on given d_1:T (the training path, one fused LSTM);
    `step` advances it by one step with the same weights (the sampling path).
    """

    def __init__(self, dim: int, hidden_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.hidden_dim = hidden_dim
        self.lstm = ProjectedLSTM(hidden_dim, return_sequences=True, name="lstm")
        self.head = GaussianHead(dim, name="head")

    def call(self, dynamic, static=None):
        """dynamic (B, T, D), static (B, S) or None -> loc, scale (B, T, D) of p(d_t | d_<t, s)."""
        previous = tf.pad(dynamic[:, :-1], [[0, 0], [1, 0], [0, 0]])  # d_0 = 0
        if static is not None:
            previous = tf.concat([previous, repeat_over_time(static, tf.shape(dynamic)[1])], -1)
        return self.head(self.lstm(previous))

    def initial_state(self, batch_size):
        zeros = tf.zeros([batch_size, self.hidden_dim])
        return [zeros, zeros]

    def step(self, previous, state, static=None):
        """previous d_{t-1} (B, D), LSTM state -> (loc, scale) of p(d_t | .), new state."""
        inputs = previous if static is None else tf.concat([previous, static], axis=-1)
        output, state = self.lstm.cell(inputs, state)
        loc, scale = self.head(output)
        return loc, scale, state
