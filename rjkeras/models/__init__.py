"""Models: keras.Model subclasses holding the paper's objectives (networks live in rjkeras.networks)."""

from __future__ import annotations


def model_class(name: str):
    from rjkeras.config import GAN_MODELS

    if name in GAN_MODELS:  # a GAN's command never imports TensorFlow Probability (1.6-1.7 s)
        from rjkeras.models import gan

        return gan.MODELS[name]
    from rjkeras.models import vae

    return vae.MODELS[name]


def is_gan(model) -> bool:
    from rjkeras.models import gan

    return isinstance(model, gan.VideoGAN)


def build_model(config):
    """The model of a resolved `rjkeras.config.Config`, with its variables created.

    Call inside `strategy.scope()` when training under a distribution strategy.
    """
    return model_class(config.model_name)(config.model, image_size=config.data.image_size,
                                          seed=config.train.seed, name=config.model_name)


def compile_model(model, config):
    """Gives the model its optimizer(s), built now (call inside the strategy scope)."""
    from rjkeras.models.optimizer import Adam

    t = config.train

    def adam():
        return Adam(t.learning_rate, beta_1=t.beta_1, beta_2=t.beta_2)

    if is_gan(model):
        model.compile(adam(), adam(), adam() if model.has_video else None, weight_decay=t.weight_decay)
    else:
        model.compile(adam())
    return model


def named_optimizers(model) -> dict:
    """Every optimizer of a model by a stable name, for checkpoints."""
    return getattr(model, "named_optimizers", None) or {"optimizer": model.optimizer}
