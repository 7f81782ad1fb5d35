"""Models: keras.Model subclasses holding the paper's objectives (networks live in rjkeras.networks)."""

from __future__ import annotations


def build_model(config):
    """The model of a resolved `rjkeras.config.Config`, with its variables created.

    Call inside `strategy.scope()` when training under a distribution strategy.
    """
    from rjkeras.models import vae

    model_class = vae.MODELS[config.model_name]
    return model_class(config.model, image_size=config.data.image_size, seed=config.train.seed,
                       name=config.model_name)


def compile_model(model, config):
    """Gives the model its optimizer(s), built now (call inside the strategy scope)."""
    import keras

    t = config.train
    model.compile(keras.optimizers.Adam(t.learning_rate, beta_1=t.beta_1, beta_2=t.beta_2))
    return model
