"""The GAN family: training moves both players, the residual structure holds, replicas agree."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

import testing_utils
from rjkeras.config import GANConfig
from rjkeras.eval import judge
from rjkeras.models import gan, noise
from rjkeras.networks import gan as nets

TINY = GANConfig(ngf=8, ndf=8, clip_length=8, image_batch_size=4, rnn_dim=16)
SEED = tf.constant([1, 2], tf.int64)


def make(name, seed=0, optimizer=None, **changes):
    keras.utils.set_random_seed(seed)
    config = dataclasses.replace(TINY, **changes)
    model = gan.MODELS[name](config, image_size=16, seed=seed)
    new = optimizer or (lambda: keras.optimizers.Adam(2e-4, beta_1=0.5))
    model.compile(new(), new(), new() if model.has_video else None, weight_decay=1e-5)
    return model


def gan_batches(videos, frames_batch=4, clips_batch=4):
    """S_1 frames and whole-video clips of the toy videos, as the GAN pipeline yields them."""
    frames = videos.reshape((-1,) + videos.shape[2:])
    labels = np.arange(len(videos)) % 3
    frames_ds = tf.data.Dataset.from_tensor_slices(frames).shuffle(256, seed=0).repeat()
    clips_ds = tf.data.Dataset.from_tensor_slices((videos, labels)).repeat()
    ds = tf.data.Dataset.zip(frames_ds.batch(frames_batch, drop_remainder=True),
                             clips_ds.batch(clips_batch, drop_remainder=True))
    return ds.map(lambda f, c: {"frames": f, "clips": c[0], "clip_action": c[1]})


@pytest.mark.parametrize("name", ["mocogan", "rjgan", "rmocogan", "image_gan"])
def test_both_players_learn_on_a_toy(name, toy_videos):
    changes = {"category_dim": 3} if name == "mocogan" else {}
    model = make(name, **changes)
    weights = {v.path: v.numpy() for v in model.trainable_variables}
    history = model.fit(gan_batches(toy_videos), steps_per_epoch=8, epochs=3, verbose=0,
                        shuffle=False).history
    for term, values in history.items():
        assert np.all(np.isfinite(values)), term
    players = ["d_image_loss", "g_image_loss"]
    if model.has_video:
        players += ["d_video_loss", "g_video_loss"]
    for term in players:
        assert len(set(np.round(history[term], 6))) > 1, (term, history[term])  # moving
    # The discriminators learn to tell the toy's frames from the untrained generator's.
    assert history["d_image_real"][-1] > history["d_image_fake"][-1]
    # Every trainable variable was updated (no player left out of its optimizer).
    for v in model.trainable_variables:
        assert not np.array_equal(v.numpy(), weights[v.path]), v.path
    if name == "mocogan":
        assert "d_category_loss" in history and "g_category_loss" in history
    if name == "rjgan":
        assert "g_summary_loss" in history and "d_summary_fake" in history


def test_rjgan_frame_latents_are_summary_plus_rnn_output():
    model = make("rjgan")
    mu = model.sample_summary(3, SEED)
    z = model.frame_latents(mu, 5, SEED)
    delta = model.residuals(mu, 5, SEED)
    np.testing.assert_allclose(z - mu[:, None, :], delta, atol=1e-6)
    # The residual depends on mu (delta_t = R_M(eps_t, mu)).
    assert not np.allclose(model.residuals(mu + 1.0, 5, SEED), delta, atol=1e-4)
    # With the residuals zeroed, every frame is the summary frame G_I(mu).
    frames = model.render(tf.repeat(mu[:, None, :], 5, axis=1))
    for t in range(5):
        np.testing.assert_allclose(frames[:, t], model.summary_frames(mu), atol=1e-5)


def test_rmocogan_motion_is_independent_of_content():
    model = make("rmocogan")
    content = model.sample_summary(2, SEED)
    z = model.frame_latents(content, 6, SEED)
    z_other = model.frame_latents(content + 3.0, 6, SEED)
    c = TINY.content_dim
    np.testing.assert_allclose(z[..., c:], z_other[..., c:], atol=1e-6)  # z_M^t: no z_C in it
    assert not np.allclose(z[..., :c], z_other[..., :c])
    # delta_C^t = f(z_C, z_M^t) only: the content part at step t is a function of (z_C, z_M^t).
    motion = z[..., c:]
    delta = model.content_residual(tf.concat([tf.repeat(content[:, None], 6, 1), motion], -1))
    np.testing.assert_allclose(z[..., :c], content[:, None, :] + delta, atol=1e-5)
    # Content varies across frames (a residual), unlike MoCoGAN's constant z_C.
    assert float(tf.math.reduce_std(z[..., :c], axis=1).numpy().max()) > 0


def test_mocogan_content_is_constant_across_frames():
    model = make("mocogan", category_dim=3)
    summary = model.sample_summary(2, SEED)
    z = model.frame_latents(summary, 6, SEED)
    np.testing.assert_allclose(z[:, :, :53], np.repeat(summary[:, None, :], 6, 1), atol=0)
    assert set(np.unique(summary[:, 50:])) <= {0.0, 1.0}


@pytest.mark.parametrize("name", ["mocogan", "rjgan", "rmocogan", "image_gan"])
def test_generation_any_length_and_seeded(name):
    model = make(name)
    a = model.sample(2, 13, SEED)
    b = model.sample(2, 13, SEED)
    assert a["videos"].shape == (2, 13, 16, 16, 3)
    np.testing.assert_array_equal(a["videos"], b["videos"])
    assert ("summary_frames" in a) == (name in ("rjgan", "image_gan"))
    assert model.sample_images(5, SEED).shape == (5, 16, 16, 3)
    if model.has_video:
        line = model.interpolate(SEED, tf.constant([3, 4], tf.int64), 4, 6)["videos"]
        assert line.shape == (4, 6, 16, 16, 3)
        assert not np.allclose(line[0], line[-1])


@pytest.mark.parametrize("name", ["mocogan", "rjgan", "rmocogan", "image_gan"])
def test_two_replica_step_matches_one_replica(name, toy_videos):
    def train(num_replicas):
        with testing_utils.mirrored(num_replicas).scope():
            model = make(name, seed=3, optimizer=lambda: keras.optimizers.SGD(1e-2))
        ds = gan_batches(toy_videos, frames_batch=8, clips_batch=4)
        logs = model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False).history
        return [v.numpy() for v in model.weights], logs

    one, logs_one = train(1)
    two, logs_two = train(2)
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for key in logs_one:
        np.testing.assert_allclose(logs_one[key], logs_two[key], rtol=1e-4, atol=1e-6)


def test_two_replica_step_matches_one_replica_with_noise_before_every_conv(toy_videos):
    # Noise of std 0.5 before each of D's convs: a replica drawing other rows than its share of
    # the global draw would move the weights far beyond the tolerance (each replica drawing the
    # global draw's first rows: up to 0.027 apart, 90 k weights beyond it). Round-off alone, of
    # oneDNN's AVX2 kernels on half batches, reached 1.6e-5 (13 of the weights).
    def train(num_replicas):
        with testing_utils.mirrored(num_replicas).scope():
            model = make("rjgan", seed=3, optimizer=lambda: keras.optimizers.SGD(1e-2),
                         instance_noise=0.5, instance_noise_at="every_conv")
        ds = gan_batches(toy_videos, frames_batch=8, clips_batch=4)
        model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)
        return [v.numpy() for v in model.weights]

    for a, b in zip(train(1), train(2)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("network", ["image", "image_odd_sides", "video"])
def test_instance_noise_enters_before_every_discriminator_conv(network):
    if network.startswith("image"):
        size = 20 if network == "image_odd_sides" else 16  # 20: conv2 pads a 5x5 map explicitly
        d = nets.image_discriminator(size, ndf=8)
        x = tf.random.stateless_normal([2, size, size, 3], [0, 1])
        widths = [3, 8, 16, 32]  # the inputs of D_I's four convs
    else:
        d = nets.video_discriminator(8, 16, ndf=8)
        x = tf.random.stateless_normal([2, 8, 16, 16, 3], [0, 1])
        widths = [3, 8, 16, 32, 64]  # D_V's four strided convs and its last one
    plain = d(x, training=False)
    seen = []

    def record(inputs, index):
        seen.append((index, inputs.shape[-1]))
        return tf.zeros_like(inputs)

    with nets.instance_noise(record):
        np.testing.assert_array_equal(d(x, training=False), plain)  # zero noise: the same network
    assert seen == list(enumerate(widths))
    # Noise at any one layer alone reaches the logits. Without it they are bit-identical (above),
    # so the bar is far above round-off, not a size: at initialisation the logits are ~1e-2 and
    # noise of std 1 at the first conv moved them by 0.0011-0.013 over six seeds.
    for layer in range(len(widths)):
        def one(inputs, index):
            noise = tf.random.stateless_normal(tf.shape(inputs), [index, 3])
            return noise if index == layer else tf.zeros_like(inputs)

        with nets.instance_noise(one):
            assert np.abs(d(x, training=False) - plain).max() > 1e-5, layer
    np.testing.assert_array_equal(d(x, training=False), plain)  # outside the context: no noise


def test_the_noise_adds_no_layer_so_old_checkpoints_and_judges_restore():
    # Keras tracks a functional model's layers by position in a checkpoint: a layer added to D
    # would leave the batch-norm statistics of older work dirs unrestored.
    assert [layer.name for layer in nets.image_discriminator(16, ndf=8).layers] == [
        "images", "conv0", "conv0_act", "conv1", "conv1_bn", "conv1_act", "conv2", "conv2_bn",
        "conv2_act", "logits"]
    blocks = [[f"conv{i}_pad", f"conv{i}"] + ([f"conv{i}_bn"] if i else []) + [f"conv{i}_act"]
              for i in range(4)]
    assert [layer.name for layer in nets.video_discriminator(8, 16, ndf=8).layers] == [
        "videos", *sum(blocks, []), "logits", "mean_over_windows"]
    # A judge's .weights.h5 names its layers by class: the judge keeps Keras' plain ones.
    judge_network = nets.image_discriminator(16, ndf=8, num_outputs=4, instance_noise=False)
    assert not any(isinstance(layer, nets.NoisyInput) for layer in judge_network.layers)
    body = judge.build_network(16, {"action": 3}, ndf=8).get_layer("d_i_body")
    assert not any(isinstance(layer, nets.NoisyInput) for layer in body.layers)


@pytest.mark.parametrize("at", ["inputs", "every_conv"])
def test_where_instance_noise_is_added(at):
    model = make("mocogan", instance_noise=0.3, instance_noise_at=at)
    x = tf.random.stateless_normal([4, 8, 16, 16, 3], [0, 1])
    clean = model.video_discriminator(x, training=True)
    d_update = model._discriminate(model.video_discriminator, x, SEED)
    g_update = model._discriminate(model.video_discriminator, x, SEED, generator_update=True)
    # The same seed, the same noise; in D's update always noisy.
    np.testing.assert_array_equal(d_update, model._discriminate(model.video_discriminator, x, SEED))
    assert np.abs(d_update - clean).max() > 1e-3
    if at == "inputs":  # ours: the generator's update sees D without noise
        np.testing.assert_array_equal(g_update, clean)
        inputs_only = model.video_discriminator(
            x + 0.3 * tf.random.stateless_normal(x.shape, SEED), training=True)
        np.testing.assert_allclose(d_update, inputs_only, rtol=1e-5, atol=1e-6)
    else:  # MoCoGAN's --use_noise: D is noisy in every pass of training
        assert np.abs(g_update - clean).max() > 1e-3


@pytest.mark.parametrize("name", ["mocogan", "rjgan", "rmocogan", "image_gan"])
def test_weight_decay_is_the_same_on_any_number_of_replicas(name):
    # SGD with lr 1, decay 0.1 and a zero data gradient: every weight of 1 becomes 0.9, on one
    # replica as on two (adding the decay on each replica before the sum made it 0.8).
    for replicas in (1, 2):
        strategy = testing_utils.mirrored(replicas)
        with strategy.scope():
            model = make(name, seed=0, optimizer=lambda: keras.optimizers.SGD(1.0))
        model.weight_decay = 0.1
        variables = model.generator_variables + model.image_discriminator.trainable_variables
        for v in variables:
            v.assign(tf.ones_like(v))

        @tf.function
        def step():
            for optimizer, group in ((model.optimizer, model.generator_variables),
                                     (model.d_image_optimizer, model.image_discriminator.trainable_variables)):
                with tf.GradientTape() as tape:
                    loss = 0.0 * tf.add_n([tf.reduce_sum(v) for v in group])
                model._apply(optimizer, tape.gradient(loss, group), group)

        strategy.run(step)
        for v in variables:
            np.testing.assert_allclose(v.numpy(), 0.9, rtol=1e-6, err_msg=f"{replicas} replicas: {v.path}")


def eq1_discriminator_gradients(model, batch, summary_weight):
    """The D_I and D_V gradients of eq. (1) at step 0 as one tape over each whole loss sees them:
    real, fake and RJGAN's summary terms together (the step's own draws: its seed streams)."""
    c, fold = model.config, gan.fold
    seed = noise.step_seed(model.seed, 0, stream=0)
    fakes = model._fakes(4, 4, fold(seed, 1))
    image, video = model.image_discriminator, model.video_discriminator
    with tf.GradientTape(persistent=True) as tape:
        real = model._discriminate(image, batch["frames"], fold(seed, 10))
        fake = model._discriminate(image, fakes["frames"], fold(seed, 11))
        d_image = gan.bce(real, 1.0) + gan.bce(fake, 0.0)
        if model.summary_term:
            summary = model._discriminate(image, fakes["summary_frames"], fold(seed, 12))
            d_image += summary_weight * (gan.bce(real, 1.0) + gan.bce(summary, 0.0))
        real_out = model._discriminate(video, batch["clips"], fold(seed, 13))
        fake_out = model._discriminate(video, fakes["clips"], fold(seed, 14))
        d_video = gan.bce(real_out[:, :1], 1.0) + gan.bce(fake_out[:, :1], 0.0)
        if c.categorical_discriminator:
            d_video += tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=batch["clip_action"], logits=real_out[:, 1:])
        losses = tf.reduce_mean(d_image), tf.reduce_mean(d_video)
    return [g.numpy() for loss, net in zip(losses, (image, video))
            for g in tape.gradient(loss, net.trainable_variables)]


@pytest.mark.parametrize("name, changes", [("rjgan", {}),
                                           ("mocogan", {"category_dim": 3, "instance_noise": 0.2})])
def test_the_discriminator_updates_are_the_gradients_of_eq_1(name, changes, toy_videos):
    """The step runs each discriminator pass (real, fake, summary frames) forward and backward
    alone, in turn; its updates must still be the gradients of the whole losses."""
    model = make(name, optimizer=lambda: keras.optimizers.SGD(1.0), **changes)
    model.weight_decay = 0.0
    batch = next(iter(gan_batches(toy_videos)))
    variables = (model.image_discriminator.trainable_variables
                 + model.video_discriminator.trainable_variables)
    before = [v.numpy() for v in variables]
    # Step 0 is a summary step (summary_every 1): RJGAN's last line of eq. (1) is in.
    expected = eq1_discriminator_gradients(model, batch, summary_weight=1.0)
    without = eq1_discriminator_gradients(model, batch, summary_weight=0.0)
    model.fit(tf.data.Dataset.from_tensors(batch), steps_per_epoch=1, epochs=1, verbose=0)
    got = [b - v.numpy() for b, v in zip(before, variables)]  # SGD(1): w - gradient
    for v, g, e in zip(variables, got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-6, err_msg=v.path)
    if model.summary_term:  # the test sees that term: without it the gradients are far off
        assert max(np.abs(g - w).max() for g, w in zip(got, without)) > 1e-3


def test_mocogan_feeds_z_a_without_the_category_losses(toy_videos):
    """The official code's default: a 6-way one-hot z_A in G's input, no category head or loss."""
    model = make("mocogan", category_dim=6, category_loss=False)
    assert model.image_generator.input_shape[-1] == 50 + 6 + 10  # [z_C, z_A, z_M]
    assert model.video_discriminator.output_shape == (None, 1)  # real/fake only
    summary = model.sample_summary(8, SEED)
    np.testing.assert_array_equal(tf.reduce_sum(summary[:, 50:], -1), np.ones(8))  # one-hot z_A
    batches = gan_batches(toy_videos).map(lambda b: {k: v for k, v in b.items() if k != "clip_action"})
    history = model.fit(batches, steps_per_epoch=2, epochs=1, verbose=0).history
    assert not any("category" in k for k in history) and np.all(np.isfinite(history["g_loss"]))


def test_the_official_mocogan_preset():
    from rjkeras import config as config_lib

    c = config_lib.resolve("mocogan", "mug", preset="mocogan_official")
    m, t = c.model, c.train
    assert (m.image_batch_size, t.batch_size, m.clip_length) == (10, 3, 16)
    assert (m.category_dim, m.category_loss, m.categorical_discriminator) == (6, False, False)
    assert (t.learning_rate, t.beta_1, t.weight_decay, m.instance_noise) == (2e-4, 0.5, 1e-5, 0.0)


def test_rjgan_summary_frames_keep_their_own_batch_norm_statistics(toy_videos):
    """G_I(mu) is normalised at sampling time by statistics of mu inputs (its training pass),
    G_I(mu + delta_t) by those of frame latents; a checkpoint without the former uses the latter."""
    from rjkeras.networks.normalization import SummaryBatchNormalization

    model = make("rjgan")
    model.fit(gan_batches(toy_videos), steps_per_epoch=4, epochs=1, verbose=0)
    layers = [l for l in model.image_generator.layers if isinstance(l, SummaryBatchNormalization)]
    assert len(layers) >= 2 and all(float(l.summary_seen) == 1.0 for l in layers)
    mu = model.sample_summary(16, SEED)
    summary = model.summary_frames(mu).numpy()
    shared = model.image_generator(mu, training=False).numpy()  # the frames' statistics
    assert np.max(np.abs(summary - shared)) > 1e-2
    saved = [(l.moving_mean.numpy(), l.moving_variance.numpy()) for l in layers]
    for l in layers:  # the frames' statistics replaced by the summary pass's: the same frames
        l.moving_mean.assign(l.summary_moving_mean)
        l.moving_variance.assign(l.summary_moving_variance)
    np.testing.assert_allclose(model.image_generator(mu, training=False), summary, atol=1e-5)
    for l, (mean, variance) in zip(layers, saved):
        l.moving_mean.assign(mean), l.moving_variance.assign(variance)
        l.summary_seen.assign(0.0)  # as restored from an older checkpoint
    np.testing.assert_allclose(model.summary_frames(mu), shared, atol=1e-5)


def test_only_rjgan_has_a_summary_pass(toy_videos):
    from rjkeras.networks.normalization import SummaryBatchNormalization

    model = make("mocogan")
    model.fit(gan_batches(toy_videos), steps_per_epoch=2, epochs=1, verbose=0)
    assert all(float(l.summary_seen) == 0.0 for l in model.image_generator.layers
               if isinstance(l, SummaryBatchNormalization))
