"""The trial processes' heap keeps freed memory (``openbmd.analysis.heap``).

A Dask nanny spawns its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which pins glibc's
mmap threshold at 128 KiB: every freed 1 MiB temporary goes back to the system and the next
one faults its 256 pages in again. The test counts those page faults in a child process
started with that environment, before and after :func:`keep_freed_memory`.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

CHILD = """
import resource
import numpy as np
from openbmd.analysis.heap import keep_freed_memory

def faults():
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(200):
        a = np.ones(2**17)  # 1 MiB, freed at once
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0

before = faults()
ok = keep_freed_memory()
faults()  # the first one after the change grows the heap once
print(before, int(ok), int(keep_freed_memory()), faults())
"""


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc heap"
)
def test_a_dask_workers_environment_no_longer_faults_every_temporary_in_again():
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    )
    before, ok, again, after = (int(v) for v in out.stdout.split())
    assert ok == 1 and again == 1
    # 200 MiB freshly mapped: ≈ 51,200 faults of 4 KiB pages; reused heap: next to none
    assert before > 200 * 200
    assert after < 200
