"""What every model here shares for training with `fit` under any tf.distribute strategy."""

from __future__ import annotations

import keras
import tensorflow as tf

# Every step here is plain TensorFlow: its branches are on Python values (the config), its loops
# over tensors tf.while_loops. So AutoGraph, which `fit`'s tf.function would run on the step's
# source and on all it calls, is skipped: its conversion took 2.4 of the 5.4 s of tracing
# MoCoGAN's step and added nothing to the graph.
not_autographed = tf.autograph.experimental.do_not_convert


class TrainableModel(keras.Model):
    """A keras.Model whose logs are running means of its objective's terms.

    It also carries two work-arounds for Keras 3.15 under MultiWorkerMirroredStrategy (checked
    by tests/test_multi_worker.py): Keras reduces a scalar log with `strategy.reduce(MEAN, axis=0)`,
    which needs a batch axis, so logs travel as shape [1] there; and `fit`'s symbolic build
    reduces a whole input batch the same way, which our models never need, as they create every
    variable (and compile builds the optimizers) before `fit`.
    """

    def track(self, names) -> None:
        """Creates the running means (reset by `fit` at each epoch) of the named terms."""
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def update_trackers(self, terms: dict) -> dict:
        """Adds each tracked term's per-example values; returns the logs of the step."""
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])  # per-example values: a correct mean over replicas
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        if _multi_worker(tf.distribute.get_strategy()):
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self.built and getattr(self.optimizer, "built", False):
            return  # everything exists already (see the class docstring)
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def _multi_worker(strategy) -> bool:
    from rjkeras.distribute import num_workers

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and num_workers(strategy) > 1
