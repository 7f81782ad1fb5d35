"""RJVAE and DSA: the ELBO learns, the residual structure holds, replicas agree, sampling works."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import testing_utils
from rjkeras.config import VAEConfig
from rjkeras.models import vae

TINY = dict(summary_dim=8, hidden_dim=16, conv_channels=8, feature_dim=32)
CONFIGS = {"rjvae": VAEConfig(residual_dim=8, **TINY), "dsa": VAEConfig(residual_dim=4, **TINY)}


def make(name, learning_rate=2e-3, seed=0, optimizer=None):
    keras.utils.set_random_seed(seed)
    model = vae.MODELS[name](CONFIGS[name], image_size=16, seed=seed)
    model.compile(optimizer or keras.optimizers.Adam(learning_rate))
    return model


def batches(videos, batch_size=4):
    dataset = tf.data.Dataset.from_tensor_slices({"video": videos}).repeat()
    return dataset.batch(batch_size, drop_remainder=True)


@pytest.mark.parametrize("name", ["rjvae", "dsa"])
def test_elbo_improves_on_learnable_toy(name, toy_videos):
    model = make(name)
    history = model.fit(batches(toy_videos), steps_per_epoch=15, epochs=3, verbose=0,
                        shuffle=False).history
    for term in ("loss", "reconstruction", "pixel_mse"):
        assert np.all(np.isfinite(history[term]))
    assert history["loss"][-1] < 0.8 * history["loss"][0], history["loss"]
    assert history["pixel_mse"][-1] < history["pixel_mse"][0]
    # The terms add up to the negative ELBO.
    kl = [k for k in history if k.startswith("kl_")]
    assert len(kl) == 2
    total = history["reconstruction"][-1] + sum(history[k][-1] for k in kl)
    np.testing.assert_allclose(history["loss"][-1], total, rtol=1e-4)


@pytest.mark.parametrize("name", ["rjvae", "dsa"])
def test_two_replica_step_matches_one_replica(name, toy_videos):
    # Plain SGD: unlike Adam, its update is proportional to the gradient, so a loss scaled by the
    # number of replicas (the classic mistake) would show as a 2x larger step.
    def train(num_replicas):
        with testing_utils.mirrored(num_replicas).scope():
            model = make(name, seed=3, optimizer=keras.optimizers.SGD(1e-4))
        ds = tf.data.Dataset.from_tensor_slices({"video": toy_videos[:8]}).batch(8).repeat()
        logs = model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False).history
        return [v.numpy() for v in model.weights], logs

    one, logs_one = train(1)
    two, logs_two = train(2)
    assert len(one) == len(two) > 0
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for key in logs_one:
        np.testing.assert_allclose(logs_one[key], logs_two[key], rtol=1e-5)


def test_rjvae_frame_latent_is_summary_plus_residual():
    model = make("rjvae")
    mu = tf.random.normal([2, 8])
    delta = tf.random.normal([2, 5, 8])
    z = model.frame_latent(mu, delta)
    np.testing.assert_allclose(z - mu[:, None, :], delta, atol=1e-6)
    # With zero residuals every frame is the summary frame decoder(mu).
    frames = model.decode(model.frame_latent(mu, tf.zeros_like(delta)))
    summary = model.summary_frames(mu)
    for t in range(5):
        np.testing.assert_allclose(frames[:, t], summary, atol=1e-5)


def test_rjvae_prior_and_posterior_see_the_summary():
    """p(delta_t | delta_<t, mu) and q(delta_t | x_t, mu) change with mu; DSA's do not see f."""
    model = make("rjvae")
    delta = tf.random.normal([2, 4, 8])
    a = model.dynamic_prior(delta, tf.zeros([2, 8]))[0]
    b = model.dynamic_prior(delta, tf.ones([2, 8]))[0]
    assert not np.allclose(a, b)
    features = tf.random.normal([2, 4, 32])
    a = model.dynamic_posterior(features, tf.zeros([2, 8]))[0]
    b = model.dynamic_posterior(features, tf.ones([2, 8]))[0]
    assert not np.allclose(a, b)
    dsa = make("dsa")
    assert dsa.frame_latent(tf.zeros([2, 8]), tf.zeros([2, 4, 4])).shape == (2, 4, 12)


@pytest.mark.parametrize("name", ["rjvae", "dsa"])
def test_sampling_is_seeded_and_any_length(name):
    model = make(name)
    seed = tf.constant([5, 0], tf.int64)
    a = model.sample(3, 11, seed)
    b = model.sample(3, 11, seed)
    c = model.sample(3, 11, tf.constant([6, 0], tf.int64))
    assert a["videos"].shape == (3, 11, 16, 16, 3)
    assert a["videos"].dtype == tf.float32
    np.testing.assert_array_equal(a["videos"], b["videos"])
    assert not np.allclose(a["videos"], c["videos"])
    assert float(tf.reduce_max(tf.abs(a["videos"]))) <= 1.0
    assert ("summary_frames" in a) == (name == "rjvae")
    images = model.sample_images(4, seed)
    assert images.shape == (4, 16, 16, 3)


@pytest.mark.parametrize("name", ["rjvae", "dsa"])
def test_encode_and_reconstruct_shapes(name, toy_videos):
    model = make(name)
    latents = model.encode(toy_videos[:2, :5])
    s, d = model.static_name, model.dynamic_name
    assert latents[f"{s}_loc"].shape == (2, 8)
    assert latents[f"{d}_loc"].shape == (2, 5, CONFIGS[name].residual_dim)
    assert np.all(latents[f"{d}_scale"].numpy() > 0)
    assert model.reconstruct(toy_videos[:2]).shape == (2, 8, 16, 16, 3)


def test_dsa_reference_prior_is_rolled_out_on_its_own_samples(toy_videos):
    """prior_inputs="prior" (the DSA code's): KL(q(z_t) || p(z_t | z_<t)) with z_<t the prior's own
    rollout; the default feeds it the posterior's samples. Same weights, same seed, both checked."""
    import dataclasses

    from rjkeras.models import noise

    model = make("dsa", seed=4)
    videos = tf.constant(toy_videos[:4])
    seed = tf.constant([7, 11], tf.int64)
    q = model.encode(videos)  # DSA's q(z_t | x_t) ignores f: the ELBO's own posterior
    q_z = vae.diag_normal(q["dynamic_loc"], q["dynamic_scale"])

    model.config = dataclasses.replace(CONFIGS["dsa"], prior_inputs="prior")
    eps = noise.replica_normal(4, [videos.shape[1], 4], tf.random.experimental.stateless_fold_in(seed, 2))
    p_loc, p_scale, samples = model.prior_rollout(eps)
    expected = tf.reduce_sum(vae.tfd.kl_divergence(q_z, vae.diag_normal(p_loc, p_scale)), axis=1)
    rolled = model.elbo_terms(videos, seed, training=False)["kl_dynamic"]
    np.testing.assert_allclose(rolled, expected, rtol=1e-5)

    model.config = CONFIGS["dsa"]  # "posterior"
    teacher_forced = model.elbo_terms(videos, seed, training=False)["kl_dynamic"]
    assert np.max(np.abs(teacher_forced.numpy() - rolled.numpy())) > 100 * 1e-5 * np.max(np.abs(rolled))
    # Both train.
    model.config = dataclasses.replace(CONFIGS["dsa"], prior_inputs="prior")
    history = model.fit(batches(toy_videos), steps_per_epoch=3, epochs=1, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))


def test_prior_rollout_feeds_each_step_the_previous_sample():
    model = make("dsa", seed=2)
    eps = tf.random.stateless_normal([3, 5, 4], [1, 2])
    loc, scale, samples = model.prior_rollout(eps)
    np.testing.assert_allclose(samples, loc + scale * eps, rtol=1e-6)
    state = model.dynamic_prior.initial_state(3)
    previous = tf.zeros([3, 4])
    for t in range(5):
        step_loc, _, state = model.dynamic_prior.step(previous, state)
        np.testing.assert_allclose(step_loc, loc[:, t], rtol=1e-5, atol=1e-6)
        previous = samples[:, t]


@pytest.mark.parametrize("name", ["rjvae", "dsa"])
def test_factor_swap_keeps_one_posterior_mean_and_draws_the_other(name, toy_videos):
    model = make(name, seed=5)
    videos = tf.constant(toy_videos[:3])
    seed = tf.constant([3, 9], tf.int64)
    q = model.encode(videos)
    s_loc, d_loc = q[f"{model.static_name}_loc"], q[f"{model.dynamic_name}_loc"]
    dynamic = model.prior_dynamics(s_loc, videos.shape[1], seed)
    np.testing.assert_allclose(model.swap_factor(videos, "content", seed),
                               model.decode(model.frame_latent(s_loc, dynamic)), atol=1e-5)
    static = model.sample_static(3, seed)
    np.testing.assert_allclose(model.swap_factor(videos, "motion", seed),
                               model.decode(model.frame_latent(static, d_loc)), atol=1e-5)
    # Sampling from the prior rolls the same dynamics out: one place for both.
    sampled_static, sampled_dynamic = model.sample_latents(3, 5, seed)
    np.testing.assert_allclose(sampled_dynamic, model.prior_dynamics(sampled_static, 5, seed), atol=1e-6)
