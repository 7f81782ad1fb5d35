"""Test set-up: two logical CPU devices, so MirroredStrategy can run 2 replicas on one CPU."""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The evaluation's cache of real features (rjkeras.eval.real_cache) in a folder of this session,
# for the commands the tests run too: never the user's, never one from an earlier run.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="rjkeras-test-cache-")

import pytest  # noqa: E402

import rjkeras  # noqa: E402,F401  (before TensorFlow, as a user's program: rjkeras.runtime.prefer_onednn)
import tensorflow as tf  # noqa: E402

import testing_utils  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seeds, whichever worker runs it and whatever ran before:
    a test that builds a network without seeding it gets the same initial weights on every run,
    so a margin it asserts holds or fails the same way every time."""
    import keras
    keras.utils.set_random_seed(0)


@pytest.fixture
def toy_videos():
    return testing_utils.moving_square_videos(16)


@pytest.fixture(scope="session")
def chromium():
    """(browser, driver) executables; skips, before anything is built, when one is missing."""
    return testing_utils.chromium_paths()
