"""The GAN family: MoCoGAN, RJGAN, RMoCoGAN and the image-only GAN, on one adversarial base.

Every model draws a per-video vector (`sample_summary`), turns it into one latent per frame
(`frame_latents`) and renders each with the image generator G_I. They differ only there:

    MoCoGAN    summary [z_C, z_A] (z_C ~ N(0, I), z_A one-hot, optional);  z_M^t = R_M(e_t);
               z_t = [z_C, z_A, z_M^t]
    RJGAN      summary mu ~ N(0, sigma^2 I);  delta_t = R_M(eps_t, mu);  z_t = mu + delta_t
               (paper section 4.1, fig. 2a); the summary frame is G_I(mu)
    RMoCoGAN   summary z_C ~ N(0, sigma^2 I);  z_M^t = R_M(e_t), independent of z_C;
               delta_C^t = f(z_C, z_M^t);  z_t = [z_C + delta_C^t, z_M^t]   (section 4.2)
    image GAN  summary z ~ N(0, I);  a single frame z_1 = z; no D_V

The objective is the paper's eq. (1) with MoCoGAN's samplers: D_I judges single frames (S_1),
D_V judges clips (S_T); every training step is one D_I, one D_V and one generator update
(MoCoGAN's schedule), each with binary cross-entropy on logits and the non-saturating generator
loss. RJGAN adds the last line of eq. (1): every `summary_every`-th step, D_I also sees G_I(mu)
as fake next to real frames, and the generator is asked to make G_I(mu) pass D_I.

All randomness is a function of (run seed, step, stream), drawn for the global batch
(`rjkeras.models.noise`), so a multi-replica step equals a single-device step.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from rjkeras.config import GANConfig
from rjkeras.models import noise
from rjkeras.models.base import TrainableModel, not_autographed
from rjkeras.networks import gan as nets

fold = tf.random.experimental.stateless_fold_in


def mean_probability(logits):
    """D's mean output (probability of "real") per example, over its patches: (B, ...) -> (B,)."""
    return tf.reduce_mean(tf.reshape(tf.sigmoid(logits), [tf.shape(logits)[0], -1]), axis=1)


def after(gradients, tensor):
    """`tensor`, available only once `gradients` are computed: what depends on it waits for the
    backward pass that made them."""
    with tf.control_dependencies(gradients):
        return tf.identity(tensor)


def bce(logits, target: float):
    """Per-example binary cross-entropy on logits, averaged over patches: (B, ...) -> (B,)."""
    logits = tf.reshape(logits, [tf.shape(logits)[0], -1])
    labels = tf.fill(tf.shape(logits), target)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits), axis=1)


class VideoGAN(TrainableModel):
    """Shared training step and sampling of the MoCoGAN family.

    Args:
      config: the model's `GANConfig`.
      image_size: frames are (image_size, image_size, 3) in [-1, 1].
      seed: the run seed; every step's noise is a function of (seed, step).

    Subclasses define `latent_dim` (G_I's input size), `summary_dim`, `sample_summary` and
    `frame_latents`, and may set `has_video = False` (no D_V, no motion) or override
    `summary_frames`.
    """

    has_video = True
    disentangled = False  # a content vector z_C apart from the motion z_M (MoCoGAN, RMoCoGAN)

    def __init__(self, config: GANConfig, image_size: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.image_size = image_size
        self.seed = seed
        c = config
        self.image_generator = nets.image_generator(self.latent_dim, image_size, ngf=c.ngf)
        self.image_discriminator = nets.image_discriminator(image_size, ndf=c.ndf)
        self.video_discriminator = None
        if self.has_video:
            self.video_discriminator = nets.video_discriminator(
                c.clip_length, image_size, ndf=c.ndf,
                num_categories=c.category_dim if c.categorical_discriminator else 0)
        self.build_latent_networks()
        names = ["d_image_loss", "d_video_loss", "g_loss", "g_image_loss", "g_video_loss",
                 "d_image_real", "d_image_fake", "d_video_real", "d_video_fake"]
        if self.summary_term:
            names += ["d_summary_fake", "g_summary_loss"]
        if c.categorical_discriminator:
            names += ["d_category_loss", "g_category_loss"]
        if not self.has_video:
            names = [n for n in names if "video" not in n]
        self.track(names)
        # Create every variable now so the optimizers can be built inside the strategy scope.
        seed0 = tf.constant([0, 0], tf.int64)
        clips = self.generate(self.sample_summary(1, seed0), c.clip_length, seed0)
        self.image_discriminator(clips[:, 0])
        if self.has_video:
            self.video_discriminator(clips)
        self.built = True

    # -- what the subclasses define ------------------------------------------------------------

    summary_term = False  # RJGAN's G_I(mu) term of eq. (1)

    @property
    def latent_dim(self) -> int:
        raise NotImplementedError

    def build_latent_networks(self):
        """Creates the networks between the summary and the frame latents (R_M, ...)."""

    def sample_summary(self, batch, seed):
        """The per-video vector (batch, summary_dim), drawn for the global batch (see noise)."""
        raise NotImplementedError

    def frame_latents(self, summary, length, seed, training=False, shared_noise=False):
        """summary (B, S) -> frame latents (B, T, latent_dim), with motion noise from `seed`
        (the same for every video when `shared_noise`)."""
        raise NotImplementedError

    def summary_frames(self, summary, training=False):
        """Images of the summary vectors, or None where the model has none."""
        return None

    # -- generation ----------------------------------------------------------------------------

    def render(self, latents, training=False):
        """Frame latents (B, T, L) -> videos (B, T, H, W, 3) in [-1, 1] through G_I."""
        shape = tf.shape(latents)
        frames = self.image_generator(tf.reshape(latents, [-1, self.latent_dim]), training=training)
        return tf.reshape(frames, tf.concat([shape[:2], [self.image_size, self.image_size, 3]], 0))

    def generate(self, summary, length, seed, training=False, shared_noise=False):
        latents = self.frame_latents(summary, length, seed, training, shared_noise)
        return self.render(latents, training)

    @staticmethod
    def normal(batch, shape, seed, shared=False):
        """N(0, I) rows for a batch; `shared` gives every row the same draw (fixed motion)."""
        if shared:
            return tf.repeat(noise.replica_normal(1, shape, seed), batch, axis=0)
        return noise.replica_normal(batch, shape, seed)

    def sample(self, num_videos, length, seed):
        """Videos from the prior: {"videos": (N, T, H, W, 3) [, "summary_frames": (N, H, W, 3)]}."""
        summary = self.sample_summary(num_videos, fold(seed, 0))
        out = {"videos": self.generate(summary, length, fold(seed, 1))}
        frames = self.summary_frames(summary)
        if frames is not None:
            out["summary_frames"] = frames
        return out

    def sample_with_content(self, num_videos, length, content_seed, motion_seed):
        """One summary (content) from `content_seed` shared by `num_videos` videos whose motion
        comes from `motion_seed`: MoCoGAN's and RMoCoGAN's fixed-content panels (paper fig. 5)."""
        summary = self.sample_summary(1, content_seed)
        summary = tf.repeat(summary, num_videos, axis=0)
        return self.generate(summary, length, motion_seed)

    def interpolate(self, seed_a, seed_b, steps, length):
        """Videos along the line between two summary vectors, with one motion noise for all.

        Returns {"videos": (steps, T, H, W, 3)[, "summary_frames"]}: interpolation in video space
        through the image latent space (paper figs. 10-11).
        """
        a = self.sample_summary(1, seed_a)
        b = self.sample_summary(1, seed_b)
        weights = tf.linspace(0.0, 1.0, steps)[:, None]
        summary = (1.0 - weights) * a + weights * b  # (steps, S)
        out = {"videos": self.generate(summary, length, fold(seed_a, 7), shared_noise=True)}
        frames = self.summary_frames(summary)
        if frames is not None:
            out["summary_frames"] = frames
        return out

    def sample_images(self, num_images, seed):
        """Single frames (N, H, W, 3): G_I of the summary where it is an image latent (RJGAN,
        image GAN), else a random frame of each of N generated videos (S_1 on fakes)."""
        summary = self.sample_summary(num_images, fold(seed, 0))
        frames = self.summary_frames(summary)
        if frames is not None:
            return frames
        return self.random_frames(summary, fold(seed, 1))

    def random_frames(self, summary, seed, training=False):
        """S_1 on generated videos: one uniformly chosen frame of each video (MoCoGAN decodes
        only the chosen frame latents, and so do we). (B, S) -> (B, H, W, 3)."""
        batch = tf.shape(summary)[0]
        length = self.config.clip_length if self.has_video else 1
        latents = self.frame_latents(summary, length, fold(seed, 0), training)  # (B, T, L)
        t = tf.cast(noise.replica_uniform(batch, [], fold(seed, 1)) * length, tf.int32)
        chosen = tf.gather(latents, tf.minimum(t, length - 1), axis=1, batch_dims=1)  # (B, L)
        return self.image_generator(chosen, training=training)

    # -- training ------------------------------------------------------------------------------

    def compile(self, g_optimizer, d_image_optimizer, d_video_optimizer=None, weight_decay=0.0):
        """Takes one optimizer per player and builds each now, inside the strategy scope.

        `weight_decay` is added to the gradients as L2 (PyTorch's Adam(weight_decay), MoCoGAN's).
        The generator's optimizer is the model's `optimizer`: its step counter is the run's step.
        """
        super().compile(optimizer=g_optimizer, jit_compile=False)
        self.d_image_optimizer = d_image_optimizer
        self.d_video_optimizer = d_video_optimizer
        self.weight_decay = weight_decay
        self.optimizer.build(self.generator_variables)
        self.d_image_optimizer.build(self.image_discriminator.trainable_variables)
        if self.has_video:
            self.d_video_optimizer.build(self.video_discriminator.trainable_variables)

    @property
    def named_optimizers(self):
        optimizers = {"optimizer": self.optimizer, "d_image_optimizer": self.d_image_optimizer}
        if self.has_video:
            optimizers["d_video_optimizer"] = self.d_video_optimizer
        return optimizers

    @property
    def generator_variables(self):
        discriminators = {id(v) for v in self.image_discriminator.trainable_variables}
        if self.has_video:
            discriminators |= {id(v) for v in self.video_discriminator.trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in discriminators]

    def _apply(self, optimizer, grads, variables):
        if self.weight_decay:
            # The replicas' gradients are summed: each adds its share of the decay, so N replicas
            # decay as one device does (PyTorch's Adam(weight_decay) on the whole batch).
            replicas = tf.distribute.get_replica_context().num_replicas_in_sync
            decay = self.weight_decay / replicas
            grads = [g + decay * v for g, v in zip(grads, variables)]
        optimizer.apply_gradients(zip(grads, variables))
        return grads

    @staticmethod
    def _passes(passes, variables, average):
        """A discriminator's loss as a sum of passes, one batch each: (per-example loss, gradients).

        `passes` is [(inputs, loss_fn)], loss_fn(inputs) -> per-example losses; `average` takes
        those to the replica's share of the batch mean. Each pass runs forward and backward once
        the pass before it has its gradients, so one pass's activations are held at a time.
        MoCoGAN's code holds a discriminator's real and fake passes together, and the graph ran
        them side by side: at 16 frames, 64x64, batches 16/16 the discriminators' phase peaked at
        1039 MiB of TensorFlow's allocator, above the generator's pass (842 MiB), which is now the
        step's peak. The gradients are those of the sum: batch norm sees each batch alone either
        way, and the passes update its moving statistics in the same order.
        """
        per_example, total, ready = 0.0, None, []
        for inputs, loss_fn in passes:
            with tf.GradientTape() as tape:
                loss = loss_fn(after(ready, inputs))
                mean = average(loss)
            ready = tape.gradient(mean, variables)
            per_example += loss
            total = ready if total is None else [a + b for a, b in zip(total, ready)]
        return per_example, total

    def _discriminate(self, network, x, seed, generator_update=False):
        """network(x) in training, with the config's instance noise drawn from `seed`.

        "inputs": x + sigma * N(0, I), in the discriminators' update only (ours). "every_conv":
        sigma * N(0, I) before every conv of the network, in every pass of training, as MoCoGAN's
        `Noise` modules do with --use_noise (they sit in D itself, so G's update sees them too).
        """
        c = self.config
        sigma = c.instance_noise

        def gaussian(inputs, stream_seed):  # sigma * N(0, I) shaped like inputs, split by replica
            shape = tf.shape(inputs)
            return sigma * noise.replica_normal(shape[0], shape[1:], stream_seed)

        if sigma and c.instance_noise_at == "every_conv":
            with nets.instance_noise(lambda inputs, index: gaussian(inputs, fold(seed, index))):
                return network(x, training=True)
        if sigma and not generator_update:  # "inputs"
            x = x + gaussian(x, seed)
        return network(x, training=True)

    def _fakes(self, frames_batch, clips_batch, seed, training=True):
        """Fake frames (S_1 of generated videos) and fake clips with their summaries."""
        c = self.config
        out = {}
        image_summary = self.sample_summary(frames_batch, fold(seed, 0))
        out["frames"] = self.random_frames(image_summary, fold(seed, 1), training)
        if self.summary_term:
            out["summary_frames"] = self.summary_frames(image_summary, training)
        if self.has_video:
            summary = self.sample_summary(clips_batch, fold(seed, 2))
            out["clips"] = self.generate(summary, c.clip_length, fold(seed, 3), training)
            if c.category_dim:
                out["categories"] = tf.argmax(summary[:, c.content_dim:c.content_dim + c.category_dim], -1)
        return out

    @not_autographed
    def train_step(self, data):
        c = self.config
        real_frames = data["frames"]
        step = self.optimizer.iterations
        seed = noise.step_seed(self.seed, step, stream=0)
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        frames_batch = tf.shape(real_frames)[0]
        clips_batch = tf.shape(data["clips"])[0] if self.has_video else 0

        def average_frames(per_example):  # mean over the global batch of frames
            return tf.nn.compute_average_loss(per_example, global_batch_size=frames_batch * replicas)

        def average_clips(per_example):  # mean over the global batch of clips
            return tf.nn.compute_average_loss(per_example, global_batch_size=clips_batch * replicas)

        # RJGAN's G_I(mu) term enters every k-th step ("periodically", section 4.1).
        summary_weight = tf.cast(step % c.summary_every == 0, tf.float32) if self.summary_term else 0.0
        terms = {}

        # Discriminators: one D_I and one D_V update against fakes from the current generator.
        fakes = self._fakes(frames_batch, clips_batch, fold(seed, 1))
        fakes = {k: tf.stop_gradient(v) for k, v in fakes.items()}

        def judge_frames(name, target, stream, weight=1.0):  # a D_I pass: per-example losses
            def loss(frames):
                logits = self._discriminate(self.image_discriminator, frames, fold(seed, stream))
                terms[name] = mean_probability(logits)
                return weight * bce(logits, target)
            return loss

        # Eq. (1), last line, adds E_v[-log D_I(S_1(v))] + E_mu[-log(1 - D_I(G_I(mu)))]: the real
        # frames' term once more, and RJGAN's summary frames as fakes.
        passes = [(real_frames, judge_frames("d_image_real", 1.0, 10, 1.0 + summary_weight)),
                  (fakes["frames"], judge_frames("d_image_fake", 0.0, 11))]
        if self.summary_term:
            passes.append((fakes["summary_frames"],
                           judge_frames("d_summary_fake", 0.0, 12, summary_weight)))
        variables = self.image_discriminator.trainable_variables
        terms["d_image_loss"], grads = self._passes(passes, variables, average_frames)
        d_grads = self._apply(self.d_image_optimizer, grads, variables)
        if self.has_video:
            def judge_clips(name, target, stream, categories=False):  # a D_V pass: per-example losses
                def loss(clips):
                    out = self._discriminate(self.video_discriminator, clips, fold(seed, stream))
                    terms[name] = tf.sigmoid(out[:, 0])
                    per_example = bce(out[:, :1], target)
                    if categories:
                        # MoCoGAN: D_V's category head learns the real clips' labels.
                        terms["d_category_loss"] = tf.nn.sparse_softmax_cross_entropy_with_logits(
                            labels=data[f"clip_{c.category_label}"], logits=out[:, 1:])
                        per_example += terms["d_category_loss"]
                    return per_example
                return loss

            passes = [(data["clips"],
                       judge_clips("d_video_real", 1.0, 13, categories=c.categorical_discriminator)),
                      (fakes["clips"], judge_clips("d_video_fake", 0.0, 14))]
            variables = self.video_discriminator.trainable_variables
            terms["d_video_loss"], grads = self._passes(passes, variables, average_clips)
            d_grads += self._apply(self.d_video_optimizer, grads, variables)

        # Generator: fresh samples must pass both discriminators (non-saturating losses).
        # Its pass starts once D's backward is done, as MoCoGAN's G step follows its D steps: the
        # graph would let it run beside D's backward, holding both players' activations at once
        # (0.7 GB more at MoCoGAN's 16 frames, 64x64, batches 16/16).
        g_seed = after(d_grads, fold(seed, 2))
        variables = self.generator_variables
        with tf.GradientTape() as tape:
            fakes = self._fakes(frames_batch, clips_batch, g_seed)
            g_image = bce(self._discriminate(self.image_discriminator, fakes["frames"],
                                             fold(g_seed, 20), generator_update=True), 1.0)
            terms["g_image_loss"] = g_image
            g_loss = average_frames(g_image)
            if self.summary_term:
                g_summary = bce(self._discriminate(self.image_discriminator, fakes["summary_frames"],
                                                   fold(g_seed, 21), generator_update=True), 1.0)
                terms["g_summary_loss"] = g_summary
                g_loss += average_frames(summary_weight * g_summary)
            if self.has_video:
                out = self._discriminate(self.video_discriminator, fakes["clips"], fold(g_seed, 22),
                                         generator_update=True)
                g_video = bce(out[:, :1], 1.0)
                if c.categorical_discriminator:
                    g_category = tf.nn.sparse_softmax_cross_entropy_with_logits(
                        labels=fakes["categories"], logits=out[:, 1:])
                    terms["g_category_loss"] = g_category
                    g_video += g_category
                terms["g_video_loss"] = g_video
                g_loss += average_clips(g_video)
        self._apply(self.optimizer, tape.gradient(g_loss, variables), variables)
        # The generator's whole objective: its per-replica share times the replicas is this
        # replica's mean, and the tracker averages those means (equal per-replica batches).
        terms["g_loss"] = g_loss * tf.cast(replicas, g_loss.dtype)
        return self.update_trackers(terms)


class MoCoGAN(VideoGAN):
    """MoCoGAN (Tulyakov et al. 2018), as in its official code: z_t = [z_C, z_A, z_M^t].

    z_C ~ N(0, I) fixed per video; z_A an optional one-hot category (MoCoGAN's dim_z_category)
    learnt through D_V's category head, or a random input alone with `category_loss=False` (the
    official code's default, without --use_categories); z_M^t = h_t of the GRU R_M fed e_t ~ N(0, I) from
    h_0 ~ N(0, I).
    """

    disentangled = True

    @property
    def latent_dim(self):
        c = self.config
        return c.content_dim + c.category_dim + c.motion_dim

    def build_latent_networks(self):
        self.motion_rnn = nets.MotionRNN(self.config.motion_dim, name="motion_rnn")

    def sample_summary(self, batch, seed):
        c = self.config
        content = noise.replica_normal(batch, [c.content_dim], fold(seed, 0))
        if not c.category_dim:
            return content
        logits = noise.replica_uniform(batch, [c.category_dim], fold(seed, 1))
        category = tf.one_hot(tf.argmax(logits, -1), c.category_dim)  # uniform over categories
        return tf.concat([content, category], -1)

    def motion(self, batch, length, seed, training, shared_noise=False):
        """z_M^1:T = R_M(e_1:T) from h_0 ~ N(0, I): (B, T, motion_dim)."""
        c = self.config
        e = self.normal(batch, tf.stack([length, c.noise_dim]), fold(seed, 0), shared_noise)
        h0 = self.normal(batch, [c.motion_dim], fold(seed, 1), shared_noise)
        return self.motion_rnn(e, initial_state=h0, training=training)

    def frame_latents(self, summary, length, seed, training=False, shared_noise=False):
        motion = self.motion(tf.shape(summary)[0], length, seed, training, shared_noise)
        steps = tf.shape(motion)[1]
        return tf.concat([tf.repeat(summary[:, None, :], steps, axis=1), motion], -1)


class RJGAN(VideoGAN):
    """Residual Joint GAN (paper section 4.1, fig. 2a): z_t = mu + delta_t, delta_t = R_M(eps_t, mu).

    mu ~ N(0, sigma^2 I) has G_I's input size; R_M is a GRU (size `rnn_dim`, h_0 ~ N(0, I)) fed
    eps_t ~ N(0, I) and mu at every step, projected to mu's size. The summary frame G_I(mu) is an
    image from the fixed prior, and eq. (1)'s last term trains it as one.
    """

    summary_term = True

    @property
    def latent_dim(self):
        return self.config.latent_dim

    def build_latent_networks(self):
        c = self.config
        self.motion_rnn = nets.MotionRNN(c.rnn_dim, output_dim=c.latent_dim, name="residual_rnn")

    def sample_summary(self, batch, seed):
        return self.config.prior_scale * noise.replica_normal(batch, [self.config.latent_dim], seed)

    def residuals(self, mu, length, seed, training=False, shared_noise=False):
        """delta_1:T = R_M(eps_1:T, mu): (B, T, latent_dim)."""
        c = self.config
        batch = tf.shape(mu)[0]
        eps = self.normal(batch, tf.stack([length, c.noise_dim]), fold(seed, 0), shared_noise)
        h0 = self.normal(batch, [c.rnn_dim], fold(seed, 1), shared_noise)
        return self.motion_rnn(eps, condition=mu, initial_state=h0, training=training)

    def frame_latents(self, summary, length, seed, training=False, shared_noise=False):
        delta = self.residuals(summary, length, seed, training, shared_noise)
        return summary[:, None, :] + delta  # z_t = mu + delta_t

    def summary_frames(self, summary, training=False):
        with nets.summary_statistics():  # G_I(mu) keeps its own batch-norm statistics
            return self.image_generator(summary, training=training)


class RMoCoGAN(VideoGAN):
    """Residual MoCoGAN (paper section 4.2): z_t = [z_C + delta_C^t, z_M^t].

    z_C ~ N(0, sigma^2 I) is the content summary; z_M^t = R_M(e_t) as MoCoGAN, independent of
    z_C; delta_C^t = f(z_C, z_M^t), conditioned on the content summary and that step's motion
    only (our f: an MLP with one ReLU hidden layer of `rnn_dim` units), so temporal dependence
    flows through z_M alone while the content may vary a little across frames.
    """

    disentangled = True

    @property
    def latent_dim(self):
        return self.config.content_dim + self.config.motion_dim

    def build_latent_networks(self):
        c = self.config
        self.motion_rnn = nets.MotionRNN(c.motion_dim, name="motion_rnn")
        self.content_residual = keras.Sequential(
            [keras.layers.Dense(c.rnn_dim, activation="relu", name="hidden"),
             keras.layers.Dense(c.content_dim, name="delta_c")], name="content_residual")

    def sample_summary(self, batch, seed):
        return self.config.prior_scale * noise.replica_normal(batch, [self.config.content_dim], seed)

    motion = MoCoGAN.motion

    def frame_latents(self, summary, length, seed, training=False, shared_noise=False):
        motion = self.motion(tf.shape(summary)[0], length, seed, training, shared_noise)  # (B, T, M)
        content = tf.repeat(summary[:, None, :], tf.shape(motion)[1], axis=1)  # z_C, (B, T, C)
        delta = self.content_residual(tf.concat([content, motion], -1), training=training)
        return tf.concat([content + delta, motion], -1)


class ImageGAN(VideoGAN):
    """The image-only baseline (paper section 5.2): G_I and D_I trained on single frames.

    z ~ N(0, I) of G_I's input size; the same G_I and D_I architectures as the video models.
    """

    has_video = False

    @property
    def latent_dim(self):
        return self.config.latent_dim

    def sample_summary(self, batch, seed):
        return noise.replica_normal(batch, [self.config.latent_dim], seed)

    def frame_latents(self, summary, length, seed, training=False, shared_noise=False):
        return tf.repeat(summary[:, None, :], length, axis=1)  # a still "video" of one image

    def summary_frames(self, summary, training=False):
        return self.image_generator(summary, training=training)


MODELS = {"mocogan": MoCoGAN, "rjgan": RJGAN, "rmocogan": RMoCoGAN, "image_gan": ImageGAN}
