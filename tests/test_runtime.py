"""The runtime settings the commands apply: the allocator (freed heap stays in the process for the
next step), oneDNN on every x86 CPU unless the user chose otherwise (a program that imported
TensorFlow first is told), how many ops TensorFlow runs at once, and a command's exit without
Python's last collection of TensorFlow's heap."""

import logging
import os
import subprocess
import sys

import pytest

from rjkeras import runtime

# Allocates 64 MiB in 64 KiB blocks (below malloc's mmap threshold: they come from the heap),
# frees them and allocates them again; prints the page faults of the second round. glibc trims
# the freed top of the heap unless it may keep it (M_TOP_PAD).
PROBE = """
import ctypes, resource, sys
from rjkeras import runtime
print(runtime.tune_allocator())
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def touch_all():
    blocks = [libc.malloc(65536) for _ in range(1024)]
    for b in blocks:
        ctypes.memset(b, 1, 65536)
    return blocks
for b in touch_all():
    libc.free(b)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
blocks = touch_all()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def probe(**env):
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env={**os.environ, **env}).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the setting is glibc's")
def test_freed_heap_is_reused_without_page_faults():
    applied, faults = probe()
    if not applied:
        pytest.skip("this C library has no mallopt (not glibc)")
    untuned_applied, untuned_faults = probe(**{runtime.ENV: "0"})
    assert not untuned_applied
    pages = 64 * 1024 * 1024 // os.sysconf("SC_PAGE_SIZE")
    # Untuned, glibc gives the 64 MiB back and faults them in again (a page or a huge page at a
    # time); tuned, they are still mapped.
    assert faults < 0.05 * pages, (faults, untuned_faults)
    assert untuned_faults > 10 * max(faults, 1), (faults, untuned_faults)


ONEDNN_PROBE = """
import rjkeras
from tensorflow.python.util import _pywrap_util_port
print(_pywrap_util_port.IsMklEnabled())
"""
only_x86 = pytest.mark.skipif(not runtime._is_x86(), reason="oneDNN's CPU kernels are x86's here")


def run_onednn_probe(chosen, tensorflow_first=False):
    """ONEDNN_PROBE in a fresh Python with TF_ENABLE_ONEDNN_OPTS=chosen (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != runtime.ONEDNN_ENV}
    env.update({runtime.ONEDNN_ENV: chosen} if chosen else {})
    script = "import tensorflow\n" + ONEDNN_PROBE if tensorflow_first else ONEDNN_PROBE
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, env=env)


@only_x86
@pytest.mark.parametrize("chosen, enabled", [(None, "True"), ("0", "False")])
def test_importing_rjkeras_turns_onednn_on_unless_the_user_chose(chosen, enabled):
    # TensorFlow turns oneDNN on by itself only on some CPUs (AVX-512); rjkeras on every x86 one,
    # and TF_ENABLE_ONEDNN_OPTS=0 still turns it off.
    out = run_onednn_probe(chosen).stdout.split()
    assert out[-1] == enabled


@only_x86
@pytest.mark.parametrize("chosen", [None, "0"])
def test_a_program_that_imported_tensorflow_first_is_told_when_onednn_is_off(chosen):
    # Too late for rjkeras' setting: TensorFlow keeps the kernels it picked at its import. On a
    # CPU where those are Eigen's (no AVX-512) the program is told, unless the user chose them.
    run = run_onednn_probe(chosen, tensorflow_first=True)
    warned = "TensorFlow was imported before rjkeras" in run.stderr
    assert warned == (chosen is None and run.stdout.split()[-1] == "False"), run.stderr[-2000:]


@pytest.mark.parametrize("chosen, tensorflow_first, enabled, warned", [
    (None, True, False, True),     # TensorFlow first with Eigen's kernels: told
    (None, True, True, False),     # TensorFlow first, oneDNN on anyway (an AVX-512 CPU)
    (None, True, None, False),     # cannot tell (a TensorFlow without the private module)
    ("0", True, False, False),     # the user chose Eigen's
    ("1", True, False, False),     # the user chose, too late: theirs to see
    (None, False, False, False),   # rjkeras first: the setting takes effect
])
def test_prefer_onednn_warns_only_where_the_setting_came_too_late(
        monkeypatch, caplog, chosen, tensorflow_first, enabled, warned):
    monkeypatch.delenv(runtime.ONEDNN_ENV, raising=False)
    if chosen:
        monkeypatch.setenv(runtime.ONEDNN_ENV, chosen)
    if not tensorflow_first:
        monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setattr(runtime, "_is_x86", lambda: True)
    monkeypatch.setattr(runtime, "_onednn_enabled", lambda: enabled)
    with caplog.at_level(logging.WARNING, logger="rjkeras"):
        assert runtime.prefer_onednn() == warned
    assert any("import rjkeras before TensorFlow" in r.getMessage() for r in caplog.records) == warned
    assert os.environ[runtime.ONEDNN_ENV] == (chosen or "1")  # inherited by child processes


CONCURRENCY_PROBE = """
import logging, sys
from rjkeras import runtime
import tensorflow as tf
logging.basicConfig(stream=sys.stderr)
before = tf.config.threading.get_inter_op_parallelism_threads()
print(runtime.limit_concurrent_ops(0), tf.config.threading.get_inter_op_parallelism_threads() == before)
applied = runtime.limit_concurrent_ops(1)
gpus = bool(tf.config.list_physical_devices("GPU"))
print(applied or gpus, tf.config.threading.get_inter_op_parallelism_threads() == (before if gpus else 1))
float(tf.reduce_sum(tf.ones([2])))  # TensorFlow now runs: the setting can no longer change
print(runtime.limit_concurrent_ops(3))
"""


def test_concurrent_ops_are_limited_before_tensorflow_runs_and_only_warned_after():
    result = subprocess.run([sys.executable, "-c", CONCURRENCY_PROBE], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "False"], result.stdout + result.stderr
    assert "train.inter_op_threads=3 not applied" in result.stderr


# A command's atexit hooks: one registered before its flags are parsed, one after (as TensorFlow's,
# imported later), each printing whether the heap is frozen when it runs.
EXIT_PROBE = """
import atexit, gc
from absl import flags
from rjkeras import cli
atexit.register(lambda: print("first hook, frozen:", gc.get_freeze_count() > 0))
flags.DEFINE_integer("n", 1, "a flag")
cli.parse_only_flags(["command", "--n=2"])
atexit.register(lambda: print("later hook, frozen:", gc.get_freeze_count() > 0))
"""


def test_a_command_exits_without_collecting_its_heap():
    """Every command freezes the heap at exit (Python's last collection of TensorFlow's objects
    takes seconds), after the hooks registered since it parsed its flags."""
    out = subprocess.run([sys.executable, "-c", EXIT_PROBE], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["later hook, frozen: False", "first hook, frozen: True"]


def test_a_gan_command_never_imports_tensorflow_probability():
    from rjkeras import config as config_lib
    from rjkeras.models import gan, model_class

    for name in config_lib.MODEL_CONFIGS:  # each name finds its class in its own family
        assert issubclass(model_class(name), gan.VideoGAN) == (name in config_lib.GAN_MODELS), name
    code = ("import sys; from rjkeras.config import GAN_MODELS; from rjkeras.models import model_class; "
            "[model_class(name) for name in GAN_MODELS]; print('tensorflow_probability' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
