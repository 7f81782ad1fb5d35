"""`python -m rjkeras.train` with test-only instruments, run as `python tests/train_harness.py FLAGS`.

Environment variables switch the instruments on:
  HARNESS_DUMP_WEIGHTS=PATH   when training ends, save this process's weights (every model and
                              optimizer variable, in order) to PATH (.npz), outside the work dir.
  HARNESS_CRASH_AT_SAVE=N     the Nth checkpoint save writes its files (the data file cut to half
                              its size, as a kill in mid-write leaves it) and the process then
                              SIGKILLs itself before TensorFlow records the checkpoint as latest.
"""

import os
import signal
import sys

import keras
import numpy as np
import tensorflow as tf
from absl import app

from rjkeras import train as train_cli
from rjkeras import trainer
from rjkeras.cli import parse_only_flags


class DumpWeights(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_train_end(self, logs=None):
        variables = trainer._state_variables(self.model)
        np.savez(self.path, *[np.asarray(v.numpy()) for v in variables])


def crash_at_save(n):
    original = tf.train.CheckpointManager.save
    calls = []

    def save(self, checkpoint_number=None, **kwargs):
        calls.append(checkpoint_number)
        if len(calls) < n:
            return original(self, checkpoint_number=checkpoint_number, **kwargs)
        prefix = os.path.join(self.directory, f"ckpt-{checkpoint_number}")
        self.checkpoint.write(prefix)  # the files, without updating the `checkpoint` state file
        for name in os.listdir(self.directory):
            if name.startswith(f"ckpt-{checkpoint_number}.data"):
                path = os.path.join(self.directory, name)
                os.truncate(path, os.path.getsize(path) // 2)
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    tf.train.CheckpointManager.save = save


if __name__ == "__main__":
    if os.environ.get("HARNESS_DUMP_WEIGHTS"):
        original_train = trainer.train

        def train(*args, **kwargs):
            return original_train(*args, callbacks=[DumpWeights(os.environ["HARNESS_DUMP_WEIGHTS"])],
                                  **kwargs)

        trainer.train = train
    if os.environ.get("HARNESS_CRASH_AT_SAVE"):
        crash_at_save(int(os.environ["HARNESS_CRASH_AT_SAVE"]))
    train_cli.define_flags()
    app.run(train_cli.main, argv=[sys.argv[0], *sys.argv[1:]], flags_parser=parse_only_flags)
