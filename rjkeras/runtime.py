"""Process-wide settings the commands apply before their work starts.

`tune_allocator`: glibc's malloc hands the free top of each heap back to the kernel as soon as
it exceeds a small threshold, and a training step frees and reallocates its activations every
step, so each step page-faults (and the kernel zeroes) the memory given back one step before.
On the 2-core CPU that was 13-17% of the process's CPU time as system time: 1.36 M page faults
in a 40-step benchmark of `rjgan --size=small`, 0.20 M with the setting, and the step 10-20%
faster (README, Benchmarks). `M_TOP_PAD` keeps `TOP_PAD` bytes of free heap per heap instead;
the peak memory grew by 1-2% in the same measurement.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TOP_PAD = -2  # mallopt(3)'s parameter (malloc.h)
TOP_PAD = 256 << 20
ENV = "RJKERAS_MALLOC"  # "0": leave malloc as the C library sets it


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
