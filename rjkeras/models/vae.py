"""The sequential VAEs: RJVAE (paper section 4.1) and the Disentangled Sequential Autoencoder.

Both models have one sequence-level latent s and one latent d_t per frame:

    generative:  s ~ p(s),  d_t ~ p(d_t | d_<t [, s]),  x_t ~ N(decoder(frame_latent(s, d_t)), c^2 I)
    inference:   s ~ q(s | x_1:T) (bi-LSTM),  d_t ~ q(d_t | x_t [, s]) (CNN features)

    ELBO = sum_t E_q[log p(x_t | s, d_t)] - KL(q(s) || p(s)) - sum_t E_q[KL(q(d_t) || p(d_t | d_<t, s))]

and differ only in how the pieces are wired, which the subclasses declare:

- RJVAE: s = mu (the summary vector) with p(mu) = N(0, sigma^2 I); d_t = delta_t (the residual);
  the prior LSTM and q(delta_t | x_t, mu) are conditioned on mu; frame latent z_t = mu + delta_t.
  The summary frame of a video is decoder(mu).
- DSA (factorized): s = f (static) with p(f) = N(0, I); d_t = z_t (dynamic); prior and posterior of
  z_t ignore f; frame latent [z_t, f].

Analytic KLs per frame as in DSA's code; the expectation over q is a single reparameterised
sample, as in both papers' training. Losses are in nats per video.

p(d_t | d_<t) in the KL is fed the posterior's samples d_<t ~ q (`prior_inputs="posterior"`, the
default): that is the ELBO. The DSA code the paper compared with feeds the prior its own samples,
rolled out independently of q (`prior_inputs="prior"`), which is not this ELBO's KL term.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

from rjkeras.config import VAEConfig
from rjkeras.models import noise
from rjkeras.models.base import TrainableModel, not_autographed
from rjkeras.networks import vae as nets

tfd = tfp.distributions


def diag_normal(loc, scale):
    """A diagonal Gaussian over the last axis; batch shape = loc.shape[:-1]."""
    return tfd.Independent(tfd.Normal(loc, scale), reinterpreted_batch_ndims=1)


class SequentialVAE(TrainableModel):
    """Shared ELBO, training step and sampling of the static/dynamic sequential VAEs.

    Args:
      config: the model's `VAEConfig`.
      image_size: frames are (image_size, image_size, 3) in [-1, 1].
      seed: the run seed; every step's noise is a function of (seed, step).

    Subclasses set `static_name`/`dynamic_name` (names of s and d_t in metrics and outputs),
    `conditioned` (whether p(d_t) and q(d_t) see s), and implement `latent_dim`,
    `static_prior_scale` and `frame_latent`.
    """

    static_name = "static"
    dynamic_name = "dynamic"
    conditioned = False

    def __init__(self, config: VAEConfig, image_size: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.image_size = image_size
        self.seed = seed
        c = config
        self.frame_encoder = nets.frame_encoder(image_size, c.conv_channels, c.feature_dim)
        self.static_posterior = nets.SequencePosterior(c.summary_dim, c.hidden_dim,
                                                       name=f"{self.static_name}_posterior")
        self.dynamic_posterior = nets.FramePosterior(c.residual_dim, c.hidden_dim,
                                                     name=f"{self.dynamic_name}_posterior")
        self.dynamic_prior = nets.LSTMPrior(c.residual_dim, c.hidden_dim,
                                            name=f"{self.dynamic_name}_prior")
        self.frame_decoder = nets.frame_decoder(self.latent_dim, image_size, c.conv_channels,
                                                c.feature_dim)
        names = ["loss", "reconstruction", f"kl_{self.static_name}", f"kl_{self.dynamic_name}",
                 "pixel_mse"]
        self.track(names)
        # Create every variable now (a zero batch through each network) so that optimizers can
        # be built inside the strategy scope before fit, as MirroredStrategy needs.
        self.elbo_terms(tf.zeros([1, 2, image_size, image_size, 3]), tf.constant([0, 0], tf.int64),
                        training=False)
        self.built = True

    # -- what the subclasses define ------------------------------------------------------------

    @property
    def latent_dim(self) -> int:
        raise NotImplementedError

    @property
    def static_prior_scale(self) -> float:
        raise NotImplementedError

    def static_prior(self, batch_size):
        """p(s) = N(0, scale^2 I) with batch shape (batch_size,)."""
        loc = tf.zeros([batch_size, self.config.summary_dim])
        return diag_normal(loc, tf.fill(tf.shape(loc), self.static_prior_scale))

    def sample_static(self, num, seed):
        """s ~ p(s), (num, S), from a stateless seed (shape [2])."""
        return self.static_prior_scale * tf.random.stateless_normal([num, self.config.summary_dim], seed)

    def frame_latent(self, static, dynamic):
        """s (B, S), d (B, T, D) -> decoder inputs (B, T, latent_dim)."""
        raise NotImplementedError

    # -- networks wired together ---------------------------------------------------------------

    def _condition(self, static):
        return static if self.conditioned else None

    def decode(self, latents, training=False):
        """Frame latents (B, T, L) -> frame means (B, T, H, W, 3)."""
        shape = tf.shape(latents)
        frames = self.frame_decoder(tf.reshape(latents, [-1, self.latent_dim]), training=training)
        return tf.reshape(frames, tf.concat([shape[:2], [self.image_size, self.image_size, 3]], 0))

    def _features(self, videos, training):
        shape = tf.shape(videos)  # (B, T, H, W, 3)
        features = self.frame_encoder(
            tf.reshape(videos, [-1, self.image_size, self.image_size, 3]), training=training)
        return tf.reshape(features, [shape[0], shape[1], self.config.feature_dim])

    def encode(self, videos, training=False):
        """Posterior parameters at the posterior mean of s (the deterministic encoding).

        Args: videos (B, T, H, W, 3) in [-1, 1], any T >= 1.
        Returns: {static_loc, static_scale (B, S); dynamic_loc, dynamic_scale (B, T, D)} with
          the model's names for static/dynamic.
        """
        features = self._features(videos, training)
        s_loc, s_scale = self.static_posterior(features, training=training)
        d_loc, d_scale = self.dynamic_posterior(features, self._condition(s_loc), training=training)
        return {f"{self.static_name}_loc": s_loc, f"{self.static_name}_scale": s_scale,
                f"{self.dynamic_name}_loc": d_loc, f"{self.dynamic_name}_scale": d_scale}

    def reconstruct(self, videos):
        """Decodes the posterior means: videos (B, T, H, W, 3) -> (B, T, H, W, 3), in [-1, 1]."""
        latents = self.encode(videos)
        s = latents[f"{self.static_name}_loc"]
        return self.decode(self.frame_latent(s, latents[f"{self.dynamic_name}_loc"]))

    # -- the objective ---------------------------------------------------------------------------

    def elbo_terms(self, videos, seed, training=True):
        """Per-video terms of the negative ELBO (nats), for videos (B, T, H, W, 3) in [-1, 1].

        `seed` (shape [2]) fixes the reparameterisation noise; it is drawn for the global batch
        (see `noise.replica_normal`), so the terms do not depend on the replica split.
        """
        batch, steps = tf.shape(videos)[0], tf.shape(videos)[1]
        c = self.config
        features = self._features(videos, training)

        # q(s | x_1:T) and one reparameterised sample.
        s_loc, s_scale = self.static_posterior(features, training=training)
        eps_s = noise.replica_normal(batch, [c.summary_dim],
                                     tf.random.experimental.stateless_fold_in(seed, 0))
        static = s_loc + s_scale * eps_s

        # q(d_t | x_t [, s]) and its sample for every frame.
        d_loc, d_scale = self.dynamic_posterior(features, self._condition(static), training=training)
        eps_d = noise.replica_normal(batch, [steps, c.residual_dim],
                                     tf.random.experimental.stateless_fold_in(seed, 1))
        dynamic = d_loc + d_scale * eps_d

        if c.prior_inputs == "posterior":
            # p(d_t | d_<t [, s]) at the posterior's samples: the ELBO's KL, one fused LSTM.
            p_loc, p_scale = self.dynamic_prior(dynamic, self._condition(static), training=training)
        else:
            # The DSA code's: the prior rolled out on its own samples, independent of q's.
            eps_p = noise.replica_normal(batch, [steps, c.residual_dim],
                                         tf.random.experimental.stateless_fold_in(seed, 2))
            p_loc, p_scale, _ = self.prior_rollout(eps_p, self._condition(static))

        means = self.decode(self.frame_latent(static, dynamic), training=training)
        likelihood = tfd.Independent(tfd.Normal(means, c.frame_scale), reinterpreted_batch_ndims=3)
        reconstruction = -tf.reduce_sum(likelihood.log_prob(videos), axis=1)  # (B,)
        kl_static = tfd.kl_divergence(diag_normal(s_loc, s_scale), self.static_prior(batch))
        kl_dynamic = tf.reduce_sum(
            tfd.kl_divergence(diag_normal(d_loc, d_scale), diag_normal(p_loc, p_scale)), axis=1)
        return {
            "loss": reconstruction + kl_static + kl_dynamic,  # -ELBO
            "reconstruction": reconstruction,
            f"kl_{self.static_name}": kl_static,
            f"kl_{self.dynamic_name}": kl_dynamic,
            "pixel_mse": tf.reduce_mean(tf.square(means - videos), axis=[1, 2, 3, 4]),
        }

    # -- Keras training ----------------------------------------------------------------------------

    def compile(self, optimizer, **kwargs):
        """Takes the optimizer and builds it now, inside the current strategy scope."""
        super().compile(optimizer=optimizer, jit_compile=False, **kwargs)
        self.optimizer.build(self.trainable_variables)

    @not_autographed
    def train_step(self, data):
        videos = data["video"] if isinstance(data, dict) else data
        seed = noise.step_seed(self.seed, self.optimizer.iterations, stream=0)
        with tf.GradientTape() as tape:
            terms = self.elbo_terms(videos, seed, training=True)
            # Mean over the GLOBAL batch: each replica contributes its share, summed by the strategy.
            global_batch = tf.shape(videos)[0] * tf.distribute.get_replica_context().num_replicas_in_sync
            loss = tf.nn.compute_average_loss(terms["loss"], global_batch_size=global_batch)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return self.update_trackers(terms)  # per-video values: a correct mean over replicas

    @not_autographed
    def test_step(self, data):
        videos = data["video"] if isinstance(data, dict) else data
        terms = self.elbo_terms(videos, noise.step_seed(self.seed, 0, stream=1), training=False)
        return self.update_trackers(terms)

    # -- sampling from the prior -------------------------------------------------------------

    def prior_rollout(self, eps, condition=None):
        """d_t ~ p(d_t | d_<t [, s]) step by step, each step fed the previous one's sample.

        Args: eps (N, T, D) standard normal noise (d_t = loc_t + scale_t * eps_t), condition
          (N, S) or None.
        Returns: loc, scale and the samples d_1:T, each (N, T, D).
        """
        num, length = tf.shape(eps)[0], tf.shape(eps)[1]

        def step(t, previous, state, outputs):
            loc, scale, state = self.dynamic_prior.step(previous, state, condition)
            sample = loc + scale * eps[:, t]
            return t + 1, sample, state, [a.write(t, v) for a, v in zip(outputs, (loc, scale, sample))]

        # tf.while_loop, not a Python loop over tf.range: the training step is not autographed.
        _, _, _, outputs = tf.while_loop(
            lambda t, *_: t < length, step,
            (0, tf.zeros([num, self.config.residual_dim]), self.dynamic_prior.initial_state(num),
             [tf.TensorArray(tf.float32, size=length) for _ in range(3)]))
        return tuple(tf.transpose(a.stack(), [1, 0, 2]) for a in outputs)  # (N, T, D) each

    def sample_latents(self, num_videos, length, seed):
        """Draws s ~ p(s) and d_1:T ~ p(d_t | d_<t, s) with the stateless seed (shape [2]).

        Returns static (N, S) and dynamic (N, T, D); `length` may be any T >= 1, also longer
        than the training clips.
        """
        static = self.sample_static(num_videos, tf.random.experimental.stateless_fold_in(seed, 0))
        return static, self.prior_dynamics(static, length, seed)

    def prior_dynamics(self, static, length, seed):
        """d_1:T ~ p(d_t | d_<t [, s]) for given static latents s (N, S): (N, T, D); step t's noise
        comes from fold_in(seed, t + 1)."""
        eps = tf.map_fn(lambda t: tf.random.stateless_normal(
            [tf.shape(static)[0], self.config.residual_dim], tf.random.experimental.stateless_fold_in(seed, t + 1)),
            tf.range(length), fn_output_signature=tf.float32)  # (T, N, D)
        return self.prior_rollout(tf.transpose(eps, [1, 0, 2]), self._condition(static))[2]

    def swap_factor(self, videos, fixed: str, seed):
        """DSA's disentanglement protocol on videos (N, T, H, W, 3) in [-1, 1]: keep the posterior
        mean of one factor ("content": s; "motion": d_1:T) and draw the other from the prior (s from
        p(s); d_1:T from the prior LSTM, conditioned on the kept s where the model conditions on it).
        Returns the decoded videos (N, T, H, W, 3)."""
        encoded = self.encode(videos)
        static = encoded[f"{self.static_name}_loc"]
        dynamic = encoded[f"{self.dynamic_name}_loc"]
        if fixed == "content":
            dynamic = self.prior_dynamics(static, tf.shape(videos)[1], seed)
        else:
            static = self.sample_static(tf.shape(videos)[0], seed)
        return self.decode(self.frame_latent(static, dynamic))

    def sample(self, num_videos, length, seed):
        """Videos from the prior: {"videos": (N, T, H, W, 3) in [-1, 1], ...}.

        RJVAE adds "summary_frames" (N, H, W, 3): decoder(mu).
        """
        static, dynamic = self.sample_latents(num_videos, length, seed)
        return {"videos": self.decode(self.frame_latent(static, dynamic))}

    def sample_images(self, num_images, seed):
        """Single frames from the fixed prior (N, H, W, 3) in [-1, 1]."""
        raise NotImplementedError


class RJVAE(SequentialVAE):
    """Residual Joint VAE (paper section 4.1, fig. 2b-d): z_t = mu + delta_t.

    p(mu) = N(0, sigma^2 I); p(delta_t | delta_{t-1}, mu) from an LSTM cell fed [delta_{t-1}, mu];
    q(mu | x_1:T) from a bi-LSTM; q(delta_t | x_t, mu) from the CNN features of x_t and mu.
    The summary frame decoder(mu) is an image from the fixed prior: `sample_images`.
    """

    static_name = "summary"
    dynamic_name = "residual"
    conditioned = True

    @property
    def latent_dim(self):
        return self.config.summary_dim

    @property
    def static_prior_scale(self):
        return self.config.summary_prior_scale  # sigma

    def frame_latent(self, static, dynamic):
        return static[:, None, :] + dynamic  # z_t = mu + delta_t

    def summary_frames(self, mu):
        """mu (N, S) -> summary frames (N, H, W, 3): the decoder of mu alone."""
        return self.decode(mu[:, None, :])[:, 0]

    def sample(self, num_videos, length, seed):
        static, dynamic = self.sample_latents(num_videos, length, seed)
        return {"videos": self.decode(self.frame_latent(static, dynamic)),
                "summary_frames": self.summary_frames(static)}

    def sample_images(self, num_images, seed):
        return self.summary_frames(self.sample_static(num_images, seed))


class DSA(SequentialVAE):
    """Disentangled Sequential Autoencoder, factorized q (Li & Mandt 2018): frame latent [z_t, f].

    p(f) = N(0, I); p(z_t | z_<t) from an LSTM fed z_{t-1} (z_0 = 0); q(f | x_1:T) from a bi-LSTM;
    q(z_t | x_t) from the frame's features alone. DSA has no summary frame: its images from the
    prior (`sample_images`) are first frames of prior videos, f ~ p(f), z_1 ~ p(z_1).
    """

    static_name = "static"
    dynamic_name = "dynamic"
    conditioned = False

    @property
    def latent_dim(self):
        return self.config.summary_dim + self.config.residual_dim

    @property
    def static_prior_scale(self):
        return 1.0

    def frame_latent(self, static, dynamic):
        steps = tf.shape(dynamic)[1]
        return tf.concat([dynamic, nets.repeat_over_time(static, steps)], axis=-1)  # [z_t, f]

    def sample_images(self, num_images, seed):
        return self.sample(num_images, 1, seed)["videos"][:, 0]


MODELS = {"rjvae": RJVAE, "dsa": DSA}
