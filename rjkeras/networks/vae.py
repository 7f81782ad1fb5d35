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
    x = SameConv2DTranspose(3, 5, padding="same", activation="tanh", name="to_rgb")(x)
    return keras.Model(inputs, x, name=name)


def same_conv2d_transpose(x, kernel):
    """tf.nn.conv2d_transpose(x, kernel) at stride 1 with 'same' padding, for an odd kernel
    (kh, kw, out, in) and a narrow output (RGB), computed as the CPU computes it fastest.

    At stride 1 a transposed conv is the conv with the kernel flipped. Here the kw horizontal taps
    are folded into kw * out output channels of a (kh x 1) conv, and kw shifted slices of its output
    are summed: oneDNN takes about as long for 3 output channels as for 16, so the folded conv
    does kw times the useful work per pass. The backward pass is the transposed conv's own (a
    Conv2D of the output gradient and a Conv2DBackpropFilter); autodiff of the slices was 3x
    slower. DSA's 32-channel to-RGB layer at 32x32, batch 128 frames: forward and backward in
    18 ms against 27-32 ms (and 0.77 s against 1.4-1.6 s at 256 channels, 64x64, 200 frames).
    """
    kh, kw, out, cin = kernel.shape

    @tf.custom_gradient
    def run(x, kernel):
        columns = tf.reshape(tf.transpose(kernel[::-1, ::-1], (0, 3, 1, 2)), (kh, 1, cin, kw * out))
        padding = [[0, 0], [kh // 2, kh // 2], [kw // 2, kw // 2], [0, 0]]
        taps = tf.nn.conv2d(x, columns, 1, padding)  # (B, H, W + kw - 1, kw * out)
        width = tf.shape(x)[2]
        y = tf.add_n([taps[:, :, j:j + width, j * out:(j + 1) * out] for j in range(kw)])

        def grad(dy):
            d_kernel = tf.raw_ops.Conv2DBackpropFilter(input=dy, filter_sizes=tf.shape(kernel), out_backprop=x,
                                                       strides=[1, 1, 1, 1], padding="SAME")
            return tf.nn.conv2d(dy, kernel, 1, "SAME"), d_kernel

        return y, grad

    return run(x, kernel)


@keras.saving.register_keras_serializable(package="rjkeras")
class SameConv2DTranspose(layers.Conv2DTranspose):
    """`layers.Conv2DTranspose` whose stride-1, 'same', odd-kernel case runs on a CPU as
    `same_conv2d_transpose`. Same weights and the same outputs and gradients to round-off; with a
    GPU, or any other stride, padding, output padding, dilation or layout, Keras' own op runs."""

    def call(self, inputs):
        if (tuple(self.strides) != (1, 1) or self.padding != "same" or tuple(self.dilation_rate) != (1, 1)
                or self.output_padding is not None or self.data_format != "channels_last"
                or any(k % 2 == 0 for k in self.kernel_size) or tf.config.list_logical_devices("GPU")):
            return super().call(inputs)
        outputs = same_conv2d_transpose(inputs, tf.convert_to_tensor(self.kernel))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs


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


def lstm_sequence(x, kernel, recurrent_kernel, bias, h, c, reverse: bool = False):
    """Keras' LSTM (gates i, f, g, o; sigmoid and tanh) over x (B, T, F) from the state (h, c),
    with its backward pass written out. -> outputs (B, T, H) in the order processed, last h, last c.

    Autodiff of the same loop runs on a CPU as T small ops per weight; here, in the backward pass
    as in the forward one, every product that does not wait on the previous step is one matmul
    over all B x T rows: the input projection x_t W + b, and the weights' gradients
    sum_t x_t^T dz_t and sum_t h_(t-1)^T dz_t. The one product that must stay in the loop, dz_t
    R^T, is an einsum: TensorFlow's oneDNN MatMul with transpose_b is 3-5x slower than one
    without at these shapes. The same function as Keras' loop to float32 round-off (the order of
    the sums over time differs).
    """
    steps, units = x.shape[1], recurrent_kernel.shape[0]
    order = list(reversed(range(steps))) if reverse else list(range(steps))

    @tf.custom_gradient
    def run(x, kernel, recurrent_kernel, bias, h, c):
        rows = tf.reshape(x, [-1, x.shape[2]])  # (B * T, F)
        projected = tf.nn.bias_add(tf.matmul(rows, kernel), bias)
        projected = tf.unstack(tf.reshape(projected, [-1, steps, 4 * units]), axis=1)
        # kept[t]: what the step that read x_t needs again (h, c before it; i, f, g, o; tanh(c)).
        kept, outputs = [None] * steps, []
        for t in order:
            i, f, g, o = tf.split(projected[t] + tf.matmul(h, recurrent_kernel), 4, axis=-1)
            i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
            previous = (h, c)
            c = f * c + i * g
            tanh_c = tf.tanh(c)
            h = o * tanh_c
            kept[t] = previous + (i, f, g, o, tanh_c)
            outputs.append(h)

        def gradient(d_outputs, d_h, d_c):
            # Unused outputs may come as None (eager) or zeros (graph).
            d_outputs = tf.unstack(d_outputs, axis=1) if d_outputs is not None else [None] * steps
            d_h = tf.zeros_like(h) if d_h is None else d_h
            d_c = tf.zeros_like(c) if d_c is None else d_c
            d_z = [None] * steps  # by step t: the gradient of its gates' pre-activations
            for k, t in reversed(list(enumerate(order))):
                h_previous, c_previous, i, f, g, o, tanh_c = kept[t]
                if d_outputs[k] is not None:
                    d_h += d_outputs[k]
                d_c += d_h * o * (1 - tanh_c * tanh_c)
                d_z[t] = tf.concat([d_c * g * i * (1 - i), d_c * c_previous * f * (1 - f),
                                    d_c * i * (1 - g * g), d_h * tanh_c * o * (1 - o)], -1)
                d_c *= f
                d_h = tf.einsum("bg,hg->bh", d_z[t], recurrent_kernel)
            # As rows of (B * T, .) beside x's rows: each weight's gradient is one matmul over them.
            d_projected = tf.reshape(tf.stack(d_z, axis=1), [-1, 4 * units])
            h_previous = tf.reshape(tf.stack([step[0] for step in kept], axis=1), [-1, units])
            return (tf.reshape(tf.einsum("ng,fg->nf", d_projected, kernel), tf.shape(x)),
                    tf.matmul(rows, d_projected, transpose_a=True),
                    tf.matmul(h_previous, d_projected, transpose_a=True),
                    tf.reduce_sum(d_projected, axis=0), d_h, d_c)

        return (tf.stack(outputs, axis=1), h, c), gradient

    return run(x, kernel, recurrent_kernel, bias, h, c)


@keras.saving.register_keras_serializable(package="rjkeras")
class ProjectedLSTM(layers.LSTM):
    """`layers.LSTM` whose CPU loop is `lstm_sequence`: the input projection x_t W + b in one
    matmul before the loop and a written-out backward pass (q(f) and p(z_t) of DSA at paper size:
    about 2x faster than autodiff of the loop). Same weights, same gate order (i, f, c, o) and the
    same outputs and gradients as `layers.LSTM` to round-off. With a GPU, masks, dropout, other
    activations or an unknown T, Keras' own path runs (cuDNN's fused kernel where it applies).
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if (mask is not None or sequences.shape[1] is None or self.dropout or self.recurrent_dropout
                or cell.activation is not keras.activations.tanh
                or cell.recurrent_activation is not keras.activations.sigmoid
                or tf.config.list_logical_devices("GPU")):
            return super().inner_loop(sequences, initial_state, mask, training)
        bias = cell.bias if cell.use_bias else tf.zeros([4 * self.units], sequences.dtype)
        # As Keras' loop: outputs in the order processed (Bidirectional flips the backward ones).
        outputs, h, c = lstm_sequence(sequences, *(tf.convert_to_tensor(w) for w in (
            cell.kernel, cell.recurrent_kernel, bias)), *initial_state, reverse=self.go_backwards)
        return h, outputs, [h, c]


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
