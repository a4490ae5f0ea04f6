"""The C heap of a process that runs campaign trials: keep freed memory for reuse.

A trial allocates and frees many NumPy temporaries of 0.1–10 MB. glibc's ``malloc`` serves
blocks above its *mmap threshold* with a fresh ``mmap`` and gives them back with ``munmap``
on free, so each such temporary costs page faults on first touch; by default the threshold
rises to the largest block freed so far, which keeps that cost low. Setting any heap
parameter turns that adaptation off — and a Dask nanny sets ``MALLOC_TRIM_THRESHOLD_=65536``
in every worker it spawns (``distributed.nanny.pre-spawn-environ``, there to give memory back
to the system), which pins the threshold at 128 KiB. Measured on the bundled campaign (24
trials, one process, 2026-12-02): 33 s of compute by default, 43 s with that variable set,
28 s with the two parameters below (``docs/benchmarks.md``).

:func:`keep_freed_memory` raises the mmap threshold to glibc's maximum and the trim threshold
to 256 MiB, once per process, whatever the environment: the worker's resident set then stays
near its peak (≈ 1 GB for the bundled campaign) between tasks, instead of being returned and
faulted in again. On a C library other than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

#: Blocks below this size [bytes] come from the heap (glibc's maximum on 64-bit: 32 MiB).
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the top of the heap [bytes] kept before it is returned to the system.
TRIM_THRESHOLD = 256 * 2**20
# mallopt parameter numbers, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_done: list[bool] = []


def keep_freed_memory() -> bool:
    """Set this process's heap thresholds once; ``True`` when they are set (glibc only).

    Returns
    -------
    bool
        Whether both ``mallopt`` calls succeeded, in this call or an earlier one.
    """
    if _done:
        return _done[0]
    ok = False
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
            libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
    _done.append(ok)
    return ok
