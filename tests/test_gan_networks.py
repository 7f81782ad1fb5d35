"""G_I, D_I, D_V and R_M: MoCoGAN's layers at its sizes, any size elsewhere, gradients, sync BN.

The reference forward passes below are written from MoCoGAN's PyTorch layers (their strides and
paddings), in NumPy with PyTorch's conventions, and read the Keras models' weights: they pin that
the Keras layers compute what MoCoGAN's `nn.Sequential`s compute.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from numpy.lib.stride_tricks import sliding_window_view

import testing_utils
from rjkeras.networks import gan
from rjkeras.networks.normalization import SyncBatchNormalization


def trainable_count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


# --- NumPy references with PyTorch semantics (channels-last arrays, Keras kernel layouts) -------

def torch_conv(x, kernel, stride, padding):
    """nn.Conv{2,3}d(bias=False): x (B, *S, Cin), kernel (*K, Cin, Cout), padding [(before, after)]."""
    nd = kernel.ndim - 2
    x = np.pad(x, [(0, 0), *padding, (0, 0)])
    windows = sliding_window_view(x, kernel.shape[:nd], axis=tuple(range(1, nd + 1)))  # (B, *S', C, *K)
    windows = windows[(slice(None),) + tuple(slice(None, None, s) for s in stride)]
    space, taps = "defg"[:nd], "hijk"[:nd]
    return np.einsum(f"b{space}c{taps},{taps}co->b{space}o", windows, kernel)


def torch_conv_transpose2d(x, kernel, stride, padding):
    """nn.ConvTranspose2d(bias=False): x (B, H, W, Cin), kernel (kh, kw, Cout, Cin) -> scatter, crop."""
    b, h, w, _ = x.shape
    kh, kw, cout, _ = kernel.shape
    full = np.zeros((b, (h - 1) * stride + kh, (w - 1) * stride + kw, cout))
    for i in range(kh):
        for j in range(kw):
            full[:, i:i + (h - 1) * stride + 1:stride, j:j + (w - 1) * stride + 1:stride] += \
                np.einsum("bhwi,oi->bhwo", x, kernel[i, j])
    return full[:, padding:full.shape[1] - padding, padding:full.shape[2] - padding]


def torch_batch_norm(x, layer):
    """Training-mode BatchNorm: biased batch variance over all axes but channels, eps 1e-5."""
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axes), x.var(axes)
    return (x - mean) / np.sqrt(var + 1e-5) * layer.gamma.numpy() + layer.beta.numpy()


def leaky(x):
    return np.where(x > 0, x, 0.2 * x)


def kernel_of(model, name):
    return model.get_layer(name).kernel.numpy().astype(np.float64)


# --- G_I ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("image_size", [64, 32, 16, 8, 48])
def test_image_generator_shapes(image_size):
    g = gan.image_generator(latent_dim=5, image_size=image_size, ngf=4)
    x = g(tf.random.normal([3, 5]), training=True)
    assert x.shape == (3, image_size, image_size, 3)
    assert np.all(np.abs(x.numpy()) <= 1.0)  # tanh


def test_image_generator_widths_follow_size():
    # 64: 4x4x(8 ngf) -> ... -> 32x32x ngf -> 64x64x3; 32 starts one stage later at 4 ngf.
    for size, first in ((64, 32), (32, 16), (16, 8)):
        g = gan.image_generator(5, size, ngf=4)
        assert g.get_layer("project").output.shape == (None, 4, 4, first)
        assert g.get_layer("to_rgb").input.shape[-1] == 4  # the last hidden map has ngf channels


def test_image_generator_matches_mocogan_layers():
    g = gan.image_generator(latent_dim=6, image_size=64, ngf=2)
    z = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    ours = g(z, training=True).numpy()
    # MoCoGAN: ConvT(z, 8ngf, 4, 1, 0), then ConvT(4, 2, 1) x 4 with BN + ReLU between, tanh.
    x = z.astype(np.float64).reshape(3, 1, 1, 6)
    x = torch_conv_transpose2d(x, kernel_of(g, "project"), stride=1, padding=0)
    x = np.maximum(torch_batch_norm(x, g.get_layer("project_bn")), 0)
    for i in range(3):
        x = torch_conv_transpose2d(x, kernel_of(g, f"up{i}"), stride=2, padding=1)
        x = np.maximum(torch_batch_norm(x, g.get_layer(f"up{i}_bn")), 0)
    x = np.tanh(torch_conv_transpose2d(x, kernel_of(g, "to_rgb"), stride=2, padding=1))
    np.testing.assert_allclose(ours, x, atol=2e-5)


def test_image_generator_rejects_sizes_it_cannot_reach():
    for size in (4, 7, 15):
        with pytest.raises(ValueError, match="image_size"):
            gan.image_generator(5, size)


# --- D_I ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("image_size, patches", [(64, 4), (32, 2), (16, 1), (48, 3), (24, 1), (40, 2)])
def test_image_discriminator_patch_shapes(image_size, patches):
    d = gan.image_discriminator(image_size=image_size, ndf=4, num_outputs=2)
    logits = d(tf.random.normal([3, image_size, image_size, 3]), training=True)
    assert logits.shape == (3, patches, patches, 2)


@pytest.mark.parametrize("image_size", [64, 24])  # 24 has odd sides (3) on the way: explicit padding
def test_image_discriminator_matches_mocogan_layers(image_size):
    d = gan.image_discriminator(image_size=image_size, ndf=2)
    x = np.random.default_rng(1).uniform(-1, 1, (3, image_size, image_size, 3)).astype(np.float32)
    ours = d(x, training=True).numpy()
    # MoCoGAN's PatchImageDiscriminator: Conv(4, 2, 1) x 4; LReLU; BN + LReLU twice; logits.
    pad = [(1, 1), (1, 1)]
    h = leaky(torch_conv(x.astype(np.float64), kernel_of(d, "conv0"), (2, 2), pad))
    for i in (1, 2):
        h = torch_conv(h, kernel_of(d, f"conv{i}"), (2, 2), pad)
        h = leaky(torch_batch_norm(h, d.get_layer(f"conv{i}_bn")))
    h = torch_conv(h, kernel_of(d, "logits"), (2, 2), pad)
    np.testing.assert_allclose(ours, h, atol=2e-5)


# --- D_V ----------------------------------------------------------------------------------------

def test_video_discriminator_paddings():
    assert gan.video_discriminator_paddings(16) == [(0, 0)] * 4  # MoCoGAN
    assert gan.video_discriminator_paddings(32) == [(0, 0)] * 4
    assert gan.video_discriminator_paddings(8) == [(1, 1)] * 4
    assert gan.video_discriminator_paddings(10) == [(1, 1), (1, 1), (0, 1), (0, 1)]
    for frames in range(1, 17):
        pads = gan.video_discriminator_paddings(frames)
        assert all(a + b <= 3 for a, b in pads)  # no output window made of padding only
        remaining = frames
        for a, b in pads:
            remaining += a + b - 3
        assert remaining == min(frames, 4)  # the last conv then covers the whole clip


@pytest.mark.parametrize("num_frames", [16, 8, 4, 10, 32, 1])
@pytest.mark.parametrize("image_size", [32, 16])
def test_video_discriminator_shapes(num_frames, image_size):
    d = gan.video_discriminator(num_frames, image_size, ndf=2, num_categories=6)
    logits = d(tf.random.normal([2, num_frames, image_size, image_size, 3]), training=True)
    assert logits.shape == (2, 7)


def test_video_discriminator_layer_shapes_at_mocogan_sizes():
    def shapes(num_frames):
        d = gan.video_discriminator(num_frames, 64, ndf=64, num_categories=6)
        return [d.get_layer(f"conv{i}").output.shape[1:] for i in range(4)] + \
            [d.get_layer("logits").output.shape[1:], d.output_shape[1:]]
    assert shapes(16) == [(13, 32, 32, 64), (10, 16, 16, 128), (7, 8, 8, 256), (4, 4, 4, 512),
                          (1, 1, 1, 7), (7,)]
    assert shapes(8) == [(7, 32, 32, 64), (6, 16, 16, 128), (5, 8, 8, 256), (4, 4, 4, 512),
                         (1, 1, 1, 7), (7,)]


@pytest.mark.parametrize("num_frames", [16, 8])
def test_video_discriminator_matches_mocogan_layers(num_frames):
    d = gan.video_discriminator(num_frames, 64, ndf=2, num_categories=2)
    x = np.random.default_rng(2).uniform(-1, 1, (2, num_frames, 64, 64, 3)).astype(np.float32)
    ours = d(x, training=True).numpy()
    # MoCoGAN's VideoDiscriminator: Conv3d(4, (1, 2, 2), (0, 1, 1)) x 4; LReLU, then BN + LReLU;
    # Conv3d(4, 1, 0). 8 frames: the same with one frame of zeros each side in time (documented).
    t = 0 if num_frames == 16 else 1
    pad = [(t, t), (1, 1), (1, 1)]
    h = leaky(torch_conv(x.astype(np.float64), kernel_of(d, "conv0"), (1, 2, 2), pad))
    for i in (1, 2, 3):
        h = torch_conv(h, kernel_of(d, f"conv{i}"), (1, 2, 2), pad)
        h = leaky(torch_batch_norm(h, d.get_layer(f"conv{i}_bn")))
    h = torch_conv(h, kernel_of(d, "logits"), (1, 1, 1), [(0, 0)] * 3)
    assert h.shape == (2, 1, 1, 1, 3)
    np.testing.assert_allclose(ours, h.reshape(2, 3), atol=2e-5)


def test_video_discriminator_averages_logits_over_longer_clips():
    # 20 frames: the last conv sees 5 windows of 16 frames; the output is their mean.
    d = gan.video_discriminator(20, 16, ndf=2)
    x = tf.random.normal([2, 20, 16, 16, 3])
    windows = keras.Model(d.inputs, d.get_layer("logits").output)(x, training=True)
    assert windows.shape == (2, 5, 1, 1, 1)
    np.testing.assert_allclose(d(x, training=True), tf.reduce_mean(windows, [1, 2, 3]), atol=1e-6)


def test_discriminators_reject_images_below_16():
    with pytest.raises(ValueError, match="image_size"):
        gan.image_discriminator(8)
    with pytest.raises(ValueError, match="image_size"):
        gan.video_discriminator(16, 8)


# --- Parameter counts at MoCoGAN's defaults (PyTorch's counts by hand: k4 everywhere, no biases,
# BN's gamma and beta trainable; the running statistics are not) -------------------------------

def test_parameter_counts_match_mocogan():
    # G_I, dim_z = 50 content + 10 motion (+ 6 categories), ngf 64:
    #   ConvT 60*512*16 = 491,520 | 512*256*16 = 2,097,152 | 256*128*16 = 524,288
    #   | 128*64*16 = 131,072 | 64*3*16 = 3,072  -> 3,247,104
    #   BN 2*(512 + 256 + 128 + 64) = 1,920    -> 3,249,024; dim_z 66 adds 6*512*16 = 49,152.
    assert trainable_count(gan.image_generator(60)) == 3_249_024
    assert trainable_count(gan.image_generator(66)) == 3_249_024 + 49_152
    # D_I (PatchImageDiscriminator), ndf 64:
    #   Conv 3*64*16 = 3,072 | 64*128*16 = 131,072 | 128*256*16 = 524,288 | 256*1*16 = 4,096
    #   BN 2*(128 + 256) = 768  -> 663,296
    assert trainable_count(gan.image_discriminator()) == 663_296
    # D_V, ndf 64, kernels 4x4x4 = 64 taps:
    #   3*64*64 = 12,288 | 64*128*64 = 524,288 | 128*256*64 = 2,097,152 | 256*512*64 = 8,388,608
    #   | 512*1*64 = 32,768 (512*7*64 = 229,376 with 6 categories); BN 2*(128 + 256 + 512) = 1,792
    #   -> 11,056,896; categorical 11,253,504.
    assert trainable_count(gan.video_discriminator()) == 11_056_896
    assert trainable_count(gan.video_discriminator(num_categories=6)) == 11_253_504
    # The 8-frame D_V keeps every kernel: same capacity as MoCoGAN's.
    assert trainable_count(gan.video_discriminator(8, num_categories=6)) == 11_253_504
    # R_M = GRUCell(10, 10): 3*(10*10 + 10*10 + 10 + 10) = 660.
    r = gan.MotionRNN(10)
    r(tf.zeros([1, 16, 10]))
    assert r.count_params() == 660


# --- R_M ----------------------------------------------------------------------------------------

def numpy_gru(inputs, h, cell):
    """PyTorch's GRUCell, step by step, on Keras' weights (gate order z, r, n; two biases)."""
    kernel, recurrent, bias = (w.numpy().astype(np.float64) for w in
                               (cell.kernel, cell.recurrent_kernel, cell.bias))
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    units = h.shape[-1]
    outputs = []
    for t in range(inputs.shape[1]):
        xz, xr, xn = np.split(inputs[:, t] @ kernel + bias[0], 3, axis=-1)
        hz, hr, hn = np.split(h @ recurrent + bias[1], 3, axis=-1)
        z, r = sigmoid(xz + hz), sigmoid(xr + hr)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        outputs.append(h)
    assert outputs[0].shape[-1] == units
    return np.stack(outputs, axis=1)


def test_motion_rnn_is_a_gru_cell_over_noise_and_condition():
    rng = np.random.default_rng(3)
    noise, mu, h0 = (rng.normal(size=s).astype(np.float32) for s in ((2, 5, 4), (2, 3), (2, 6)))
    rnn = gan.MotionRNN(hidden_dim=6, output_dim=3)
    ours = rnn(noise, condition=mu, initial_state=h0).numpy()
    inputs = np.concatenate([noise, np.repeat(mu[:, None], 5, axis=1)], -1).astype(np.float64)
    states = numpy_gru(inputs, h0.astype(np.float64), rnn.gru.cell)
    projection = rnn.projection
    expected = states @ projection.kernel.numpy() + projection.bias.numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_motion_rnn_runs_any_length():
    rnn = gan.MotionRNN(hidden_dim=10)
    assert rnn(tf.random.normal([3, 16, 10])).shape == (3, 16, 10)
    assert rnn.projection is None  # output_dim defaults to the state: MoCoGAN's z_M^t = h_t

    @tf.function(input_signature=[tf.TensorSpec([None, None, 10])])
    def motion(noise):
        return rnn(noise)

    for steps in (1, 8, 16, 50):  # one trace serves every length, longer than training included
        assert motion(tf.random.normal([2, steps, 10])).shape == (2, steps, 10)


def test_motion_rnn_condition_and_initial_state_matter():
    rnn = gan.MotionRNN(hidden_dim=8, output_dim=5)
    noise = tf.random.normal([4, 6, 8])
    mu = tf.random.normal([4, 5])
    base = rnn(noise, condition=mu)
    assert base.shape == (4, 6, 5)
    assert not np.allclose(base, rnn(noise, condition=mu + 1.0))
    assert not np.allclose(base, rnn(noise, condition=mu, initial_state=tf.random.normal([4, 8])))
    np.testing.assert_allclose(base, rnn(noise, condition=mu, initial_state=tf.zeros([4, 8])),
                               atol=1e-6)  # h_0 defaults to zeros
    # The first step already depends on mu (it is part of every step's input).
    assert not np.allclose(base[:, 0], rnn(noise, condition=-mu)[:, 0])


def test_motion_rnn_without_condition_and_config():
    rnn = gan.MotionRNN(hidden_dim=10, output_dim=7, name="motion_rnn")
    assert rnn(tf.random.normal([2, 3, 10])).shape == (2, 3, 7)
    copy = gan.MotionRNN.from_config(rnn.get_config())
    assert (copy.hidden_dim, copy.output_dim, copy.name) == (10, 7, "motion_rnn")


# --- Gradients and normalisation ------------------------------------------------------------------

def networks():
    return {
        "image_generator": (gan.image_generator(5, 32, ngf=4), [4, 5], 3),  # 4, 8, 16 px
        "image_discriminator": (gan.image_discriminator(32, ndf=4, num_outputs=3), [4, 32, 32, 3], 2),
        "video_discriminator_16": (gan.video_discriminator(16, 32, ndf=4, num_categories=2),
                                   [2, 16, 32, 32, 3], 3),
        "video_discriminator_8": (gan.video_discriminator(8, 16, ndf=4), [2, 8, 16, 16, 3], 3),
    }


def test_gradients_reach_every_variable():
    rnn = gan.MotionRNN(hidden_dim=6, output_dim=4)
    rnn_inputs = (tf.random.normal([3, 5, 2]), tf.random.normal([3, 4]))
    rnn(*rnn_inputs)
    cases = {name: (model, lambda m=model, s=shape: m(tf.random.normal(s), training=True))
             for name, (model, shape, _) in networks().items()}
    cases["motion_rnn"] = (rnn, lambda: rnn(*rnn_inputs))
    for name, (model, forward) in cases.items():
        with tf.GradientTape() as tape:
            out = forward()
            # A random projection: a plain sum could hide a weight whose effect sums to zero.
            loss = tf.reduce_sum(out * tf.random.normal(tf.shape(out)))
        grads = tape.gradient(loss, model.trainable_variables)
        assert model.trainable_variables, name
        for var, grad in zip(model.trainable_variables, grads):
            assert grad is not None and float(tf.norm(grad)) > 0, (name, var.path)


def test_batch_norm_layers_are_synchronised():
    for name, (model, _, expected) in networks().items():
        norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
        assert len(norms) == expected, name
        assert all(isinstance(layer, SyncBatchNormalization) for layer in norms), name


def test_two_replica_video_discriminator_matches_one_device():
    # The 5-D (Conv3D) activations normalise over the global batch under MirroredStrategy.
    x = tf.random.normal([4, 8, 16, 16, 3])
    single = gan.video_discriminator(8, 16, ndf=4)
    expected = single(x, training=True)
    strategy = testing_utils.mirrored(2)
    with strategy.scope():
        model = gan.video_discriminator(8, 16, ndf=4)
    model.set_weights(single.get_weights())
    shards = strategy.experimental_distribute_values_from_function(
        lambda ctx: x[2 * ctx.replica_id_in_sync_group:2 * ctx.replica_id_in_sync_group + 2])
    out = strategy.run(tf.function(lambda v: model(v, training=True)), args=(shards,))
    ours = tf.concat(strategy.experimental_local_results(out), axis=0)
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)


# --- Inside tf.function (TF's graph rewrites) ---------------------------------------------------

def test_concat_zero_padding_equals_zero_padding():
    x = tf.random.normal([2, 3, 4, 5, 2])
    padding = ((1, 2), (0, 1), (3, 0))
    ours = gan.ConcatZeroPadding3D(padding)(x)
    np.testing.assert_array_equal(ours, keras.layers.ZeroPadding3D(padding)(x))
    assert gan.ConcatZeroPadding3D(padding).compute_output_shape((None, 3, 4, 5, 2)) == (None, 6, 5, 8, 2)


@pytest.mark.parametrize("training", [True, False])
def test_networks_compute_the_same_in_graph_and_eagerly(training):
    # TF 2.21's oneDNN rewrite of Pad -> Conv3D -> LeakyRelu drops the activation inside a graph
    # (the reason for ConcatZeroPadding3D): every network must give its eager outputs in tf.function.
    for name, (model, shape, _) in networks().items():
        x = tf.random.normal(shape)
        eager = model(x, training=training)
        graph = tf.function(lambda v, m=model: m(v, training=training))(x)
        np.testing.assert_allclose(graph, eager, rtol=1e-5, atol=1e-5, err_msg=name)


def test_training_graph_keeps_tf_graph_rewrites(capfd):
    # Pad -> Conv3D under a GradientTape makes TF's remapper abort the whole graph ("remapper
    # failed ... missing node 'Pad'"), silently losing its fusions in every train step.
    d = gan.video_discriminator(8, 16, ndf=4)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(d(x, training=True) ** 2)
        return tape.gradient(loss, d.trainable_variables)

    step(tf.random.normal([2, 8, 16, 16, 3]))
    assert "remapper failed" not in capfd.readouterr().err


def test_leaky_relu_backpropagates_as_keras_from_its_output():
    # The discriminators' LeakyReLU reads its output in the backward pass (its input is freed):
    # same values and gradients as Keras' LeakyReLU, zeros and negative inputs included.
    x = tf.constant([[-3.0, -0.5, 0.0, 0.0, 0.25, 4.0]])
    upstream = tf.constant([[1.0, -2.0, 3.0, -4.0, 5.0, -6.0]])
    for run in (lambda f: f(), lambda f: tf.function(f)()):
        results = []
        for layer in (gan.LeakyReLU(gan.LEAK), keras.layers.LeakyReLU(gan.LEAK)):
            def forward_backward(layer=layer):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    y = layer(x)
                return y, tape.gradient(y, x, output_gradients=upstream)
            results.append([v.numpy() for v in run(forward_backward)])
        (y, dx), (want_y, want_dx) = results
        np.testing.assert_array_equal(y, want_y)
        np.testing.assert_array_equal(dx, want_dx)
        np.testing.assert_allclose(dx, [[0.2, -0.4, 0.6, -0.8, 5.0, -6.0]], rtol=1e-6)


# --- D_V's Conv2D taps against a float64 Conv3D -------------------------------------------------

def _video_discriminator_outputs(dtype, formulation, num_frames, image_size, ndf, categories,
                                 weights, videos):
    """D_V's logits and the gradients of a loss w.r.t. its input and every weight (training mode)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype)
    try:
        model = gan.video_discriminator(num_frames, image_size, ndf=ndf, num_categories=categories,
                                        formulation=formulation)
    finally:
        keras.config.set_dtype_policy(previous)
    model.set_weights([w.astype(dtype) for w in weights])
    x = tf.constant(videos, dtype)

    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = model(x, training=True)
            loss = tf.reduce_mean(tf.nn.softplus(logits))
        return [logits] + tape.gradient(loss, [x] + model.trainable_variables)

    return [v.numpy() for v in run(x)]


PRESET_D_V_SHAPES = pytest.mark.parametrize("num_frames, image_size, ndf, categories", [
    (16, 64, 64, 6),  # MoCoGAN's official setting (categorical D_V); the 16-frame presets' shapes
    (8, 64, 64, 0),  # the paper-size Sprites presets: padded (1, 1) a layer
    (8, 32, 32, 0),  # the small presets
])


def _conv3d(x, kernel, strides, padding, spatial=((0, 0), (0, 0))):
    """TensorFlow's own Conv3D of x with `padding` zero frames before and after (and `spatial`
    zeros around each frame)."""
    x = tf.pad(x, [[0, 0], list(padding), list(spatial[0]), list(spatial[1]), [0, 0]])
    return tf.nn.conv3d(x, kernel, (1, 1, *strides, 1), "VALID")


def _conv_and_gradients(convolve, x, kernel, upstream, dtype):
    """convolve(x, kernel)'s output and its input and kernel gradients for `upstream`."""
    x, kernel = tf.constant(x, dtype), tf.constant(kernel, dtype)
    with tf.GradientTape() as tape:
        tape.watch([x, kernel])
        y = convolve(x, kernel)
    grads = tape.gradient(y, [x, kernel], output_gradients=tf.constant(upstream, dtype))
    return [y.numpy()] + [g.numpy() for g in grads]


@PRESET_D_V_SHAPES
def test_the_conv2d_taps_are_a_float64_conv3d_layer_by_layer(num_frames, image_size, ndf, categories):
    # Each of D_V's convs at the presets' shapes, computed in float32 by the CPU's Conv2D taps and
    # by TensorFlow's own Conv3D: the output and the input and kernel gradients (for a random
    # output gradient) against Conv3D in float64 on the clip with the layer's zero frames,
    # within float32 round-off. Layer by layer, because the whole network's float32 gradients
    # can miss a float64 computation by percents whatever computes the convs: an activation
    # within round-off of 0 takes the other side of a LeakyReLU's kink (seen at 64x64: 3% on
    # the input's gradient). Taps applied in the wrong temporal order miss by over 10%, on the
    # output and on the input's gradient. The kernels are drawn from the seeded generator, not
    # the layers' initializers: the logits layer's output is two numbers, and an unseeded kernel
    # once put its time-reversed output within 5% of the right one.
    model = gan.video_discriminator(num_frames, image_size, ndf=ndf, num_categories=categories)
    rng = np.random.default_rng(1)
    for layer in [layer for layer in model.layers if isinstance(layer, gan.VideoConv3D)]:
        time_padding, *spatial = layer.zero_padding
        x = rng.uniform(-1, 1, (2,) + tuple(layer.input.shape[1:]))
        kernel = rng.uniform(-1, 1, tuple(layer.kernel.shape)) / np.sqrt(np.prod(layer.kernel.shape[:-1]))
        upstream = rng.standard_normal((2,) + tuple(layer.output.shape[1:]))
        formulations = {name: gan.VideoConv3D.from_config({**layer.get_config(), "formulation": name})
                        for name in ("conv2d_taps", "conv3d")}
        want = _conv_and_gradients(lambda x, k: _conv3d(x, k, layer.strides[1:], time_padding, spatial),
                                   x, kernel, upstream, tf.float64)
        for name, convolve in ((name, f.convolution_op) for name, f in formulations.items()):
            got = _conv_and_gradients(convolve, x, kernel, upstream, tf.float32)
            for what, a, b in zip(("output", "d_input", "d_kernel"), want, got):
                assert testing_utils.relative_error(a, b) < 1e-4, (layer.name, name, what)
            wrong = _conv_and_gradients(convolve, x, kernel[::-1], upstream, tf.float32)
            for what, a, b in zip(("output", "d_input"), want, wrong):
                assert testing_utils.relative_error(a, b) > 0.1, (layer.name, name, what)


@pytest.mark.parametrize("frames, padding", [
    (8, (1, 1)), (8, (0, 1)), (8, (1, 0)), (5, (2, 1)), (5, (0, 3)), (5, (3, 3)),
    (2, (1, 2)), (1, (1, 2)), (1, (3, 3))])  # short clips: taps that reach no real frame
def test_the_taps_skip_zero_frames_exactly(frames, padding):
    # The taps never convolve the zero frames: each tap's share lands on the output frames it
    # reaches, and its gradient on the input frames it read. An offset off by one frame misses
    # the float64 Conv3D of the padded clip by the size of the outputs themselves.
    rng = np.random.default_rng(frames + 10 * sum(padding))
    x = rng.uniform(-1, 1, (3, frames, 6, 6, 2))
    kernel = rng.uniform(-1, 1, (4, 3, 3, 2, 5))
    steps = frames + sum(padding) - 3
    upstream = rng.standard_normal((3, steps, 2, 2, 5))
    taps = lambda x, k: gan.temporal_taps_conv(x, k, (2, 2), padding)  # noqa: E731
    want = _conv_and_gradients(lambda x, k: _conv3d(x, k, (2, 2), padding), x, kernel, upstream,
                               tf.float64)
    got = _conv_and_gradients(taps, x, kernel, upstream, tf.float64)
    for what, a, b in zip(("output", "d_input", "d_kernel"), want, got):
        assert a.shape == b.shape, what
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=what)
    if padding[0] != padding[1]:  # the zero frames on the wrong side
        flipped = gan.temporal_taps_conv(tf.constant(x), tf.constant(kernel), (2, 2), padding[::-1])
        assert testing_utils.relative_error(want[0], flipped.numpy()) > 0.1


def test_the_taps_take_the_zero_frames_in_a_graph_of_unknown_length():
    # With T unknown the taps cannot tell which reach real frames: they convolve the padded clip.
    rng = np.random.default_rng(3)
    x, kernel = rng.uniform(-1, 1, (2, 6, 6, 6, 2)), rng.uniform(-1, 1, (4, 2, 2, 2, 3))
    taps = tf.function(lambda x: gan.temporal_taps_conv(x, tf.constant(kernel), (1, 1), (1, 2)),
                       input_signature=[tf.TensorSpec([None, None, 6, 6, 2], tf.float64)])
    want = _conv3d(tf.constant(x), kernel, (1, 1), (1, 2))
    np.testing.assert_allclose(taps(tf.constant(x)), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size, zero_padding", [
    (6, ((2, 1), (1, 1), (1, 1))),  # even sides, PyTorch's p1: the taps pad each frame ("SAME")
    (5, ((2, 1), (1, 1), (1, 1))),  # odd sides: "SAME" would pad (1, 2); the taps concatenate zeros
    (6, ((0, 0), (0, 1), (2, 0))),  # any other padding: concatenated
    (6, ((0, 3), (0, 0), (0, 0)))])  # none in space: VALID frames
def test_video_conv3d_pads_as_pytorch_in_either_formulation(size, zero_padding):
    # The layer's zero padding is PyTorch's Conv3d padding, natively and as taps, whichever way
    # the taps add it: outputs and both gradients equal a float64 Conv3D of the padded clip.
    rng = np.random.default_rng(size + sum(map(sum, zero_padding)))
    x = rng.uniform(-1, 1, (2, 5, size, size, 2))
    kernel = rng.uniform(-1, 1, (4, 4, 4, 2, 3))
    for formulation in ("conv3d", "conv2d_taps"):
        layer = gan.VideoConv3D(3, 4, strides=(1, 2, 2), zero_padding=zero_padding,
                                formulation=formulation)
        want_shape = _conv3d(x, kernel, (2, 2), zero_padding[0], zero_padding[1:]).shape
        assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + tuple(want_shape[1:])
        upstream = rng.standard_normal(want_shape)
        want = _conv_and_gradients(lambda x, k: _conv3d(x, k, (2, 2), zero_padding[0], zero_padding[1:]),
                                   x, kernel, upstream, tf.float64)
        got = _conv_and_gradients(layer.convolution_op, x, kernel, upstream, tf.float64)
        for what, a, b in zip(("output", "d_input", "d_kernel"), want, got):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=f"{formulation} {what}")
        assert gan.VideoConv3D.from_config(layer.get_config()).zero_padding == zero_padding
    layer = gan.VideoConv3D(3, 4, strides=(1, 2, 2), zero_padding=zero_padding)
    built = layer(tf.constant(x, tf.float32))  # and as a Keras layer, its own kernel
    assert built.shape == want_shape
    with pytest.raises(ValueError, match="zero_padding"):
        gan.VideoConv3D(3, 4, zero_padding=((4, 0), (0, 0), (0, 0)))


@PRESET_D_V_SHAPES
def test_the_cpu_d_v_gives_a_float64_conv3d_d_vs_logits(num_frames, image_size, ndf, categories):
    # The whole network as the CPU runs it (`auto`: the Conv2D taps, float32) against the plain
    # Conv3D in float64, on D_V's initial weights: the logits (the forward pass is continuous, so
    # round-off stays round-off; the gradients are checked layer by layer above).
    keras.utils.set_random_seed(0)
    weights = gan.video_discriminator(num_frames, image_size, ndf=ndf, num_categories=categories).get_weights()
    videos = np.random.default_rng(1).uniform(-1, 1, (2, num_frames, image_size, image_size, 3))
    shapes = (num_frames, image_size, ndf, categories)
    want = _video_discriminator_outputs("float64", "conv3d", *shapes, weights, videos)[0]
    got = _video_discriminator_outputs("float32", "auto", *shapes, weights, videos)[0]
    assert testing_utils.relative_error(want, got) < 1e-4
    reversed_taps = [w[::-1] if w.ndim == 5 else w for w in weights]
    wrong = _video_discriminator_outputs("float32", "auto", *shapes, reversed_taps, videos)[0]
    assert testing_utils.relative_error(want, wrong) > 0.1


def test_video_discriminator_formulations_compute_alike_in_float64():
    # The taps are Conv3D's arithmetic: equal to float64 round-off.
    keras.utils.set_random_seed(0)
    weights = gan.video_discriminator(8, 16, ndf=4).get_weights()
    videos = np.random.default_rng(2).uniform(-1, 1, (2, 8, 16, 16, 3))
    want = _video_discriminator_outputs("float64", "conv3d", 8, 16, 4, 0, weights, videos)
    got = _video_discriminator_outputs("float64", "conv2d_taps", 8, 16, 4, 0, weights, videos)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="formulation"):
        gan.VideoConv3D(4, 4, formulation="fft")
