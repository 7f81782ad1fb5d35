"""Process-wide settings the commands apply before their work starts.

`tune_allocator`: glibc's malloc hands the free top of each heap back to the kernel as soon as
it exceeds a small threshold, and a training step frees and reallocates its activations every
step, so each step page-faults (and the kernel zeroes) the memory given back one step before.
On the 2-core CPU that was 13-17% of the process's CPU time as system time: 1.36 M page faults
in a 40-step benchmark of `rjgan --size=small`, 0.20 M with the setting, and the step 10-20%
faster (README, Benchmarks). `M_TOP_PAD` keeps `TOP_PAD` bytes of free heap per heap instead;
the peak memory grew by 1-2% in the same measurement.

`limit_concurrent_ops`: TensorFlow runs as many independent ops at once as the CPU has cores,
each also splitting its own work over the cores. Where every op alone fills the cores (DSA and
RJVAE at 64x64: convs over 200 frames of 64x64x256), running two at once gains nothing and keeps
both ops' inputs and outputs alive together; one at a time, the 64x64 RJVAE step peaked 1.5 GB
lower and was no slower (README, Memory). Small networks (the small presets) gain from the
overlap, so it is the config's choice (`train.inter_op_threads`), made by the presets.

`prefer_onednn`: TensorFlow runs its CPU convolutions, matmuls and batch norms with oneDNN only
on CPUs it picks (AVX-512 ones); elsewhere (AVX2 only: most desktop and many cloud x86 CPUs) it
falls back to Eigen's kernels, which were 1.3-2.1x slower on every GAN network here (README,
Benchmarks). PyTorch calls oneDNN on every x86 CPU. Importing `rjkeras` turns it on unless the
user chose (`TF_ENABLE_ONEDNN_OPTS` set, 0 to turn it off); it only takes effect when TensorFlow
is imported after rjkeras, and a program that imported TensorFlow first is warned.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
import sys

_M_TOP_PAD = -2  # mallopt(3)'s parameter (malloc.h)
TOP_PAD = 256 << 20
ENV = "RJKERAS_MALLOC"  # "0": leave malloc as the C library sets it
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"  # TensorFlow's own switch, read when it is imported


def prefer_onednn() -> bool:
    """TensorFlow's oneDNN CPU kernels on every x86 CPU (module docstring), unless the user chose.

    TensorFlow reads the setting once, when it is imported. A program that imported it before
    rjkeras keeps the kernels TensorFlow picked; where those are Eigen's (oneDNN off on an x86
    CPU, and the user did not choose), it is told so once, with the fix. Returns whether oneDNN
    is known to be off in this process against that preference (the warning was given).
    """
    chosen = ONEDNN_ENV in os.environ
    os.environ.setdefault(ONEDNN_ENV, "1")  # also for the processes this one starts
    if chosen or "tensorflow" not in sys.modules or not _is_x86() or _onednn_enabled() is not False:
        return False
    logging.getLogger("rjkeras").warning(
        "TensorFlow was imported before rjkeras, so it runs Eigen's CPU kernels in this process, "
        "not oneDNN's (networks 1.3-2.1x slower on an AVX2 CPU): import rjkeras before "
        "TensorFlow, or start Python with %s=1 (=0 to keep Eigen's and silence this)", ONEDNN_ENV)
    return True


def _is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def _onednn_enabled() -> bool | None:
    """Whether the imported TensorFlow runs oneDNN's kernels; None where it cannot tell (a private
    module of TensorFlow's, which a release may move)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return None


def tune_allocator() -> bool:
    """Keeps TOP_PAD bytes of free heap (module docstring) on glibc; elsewhere does nothing.

    Returns whether the setting was applied. `RJKERAS_MALLOC=0` turns it off.
    """
    if not sys.platform.startswith("linux") or os.environ.get(ENV) == "0":
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # a C library without mallopt (musl)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_TOP_PAD, TOP_PAD) == 1


def limit_concurrent_ops(threads: int) -> bool:
    """At most `threads` TensorFlow ops at once (its inter-op threads) on a host without a GPU
    (module docstring; untested with GPUs, so theirs keep TensorFlow's default). 0 leaves the
    default. Must come before TensorFlow runs its first op: afterwards it only warns.

    Returns whether the setting is in effect.
    """
    if threads <= 0:
        return False
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return False
    if tf.config.threading.get_inter_op_parallelism_threads() == threads:
        return True
    try:
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow has started already (a library caller ran ops first)
        logging.getLogger("rjkeras").warning(
            "train.inter_op_threads=%d not applied: TensorFlow was already running ops in this "
            "process (it takes effect when training is the process's first TensorFlow work)", threads)
        return False
    return True
