"""Compiled geometry of the space infrared layer (:class:`openbmd.sensors.SpaceIR`).

Which satellite of a layer reports each sample of a batch of targets: the one nearest the
target's zenith among those whose line of sight clears the Earth's sphere. One pass over the
samples with a loop over the few satellites inside, instead of a dozen NumPy temporaries of
the batch's size per satellite (that layer was the costliest sensor of the engagement chain).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["best_satellite"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@numba.njit(cache=True, nogil=True)
def best_satellite(
    r: FloatArray, sats: FloatArray, radius: float, score: FloatArray, which: IntArray
) -> None:  # pragma: no cover
    """For each target position ``r`` (M, 3) [m, ECEF], the satellite of ``sats`` (S, 3) that
    sees it nearest its zenith, into ``which`` (M,) (−1: none), and the cosine of that
    satellite's zenith angle seen from the target into ``score`` (M,) (−inf: none).

    A line of sight is clear when its closest approach to the Earth's centre (the segment's
    nearest point) is at least ``radius`` [m]; a NaN position (after impact) sees nothing.
    Ties go to the first satellite.
    """
    m, n_s = r.shape[0], sats.shape[0]
    for i in range(m):
        x, y, z = r[i, 0], r[i, 1], r[i, 2]
        best, k = -np.inf, -1
        rn = math.sqrt(x * x + y * y + z * z)
        for s in range(n_s):
            sx, sy, sz = sats[s, 0], sats[s, 1], sats[s, 2]
            dx, dy, dz = x - sx, y - sy, z - sz
            dd = dx * dx + dy * dy + dz * dz
            u = min(max(-(sx * dx + sy * dy + sz * dz) / dd, 0.0), 1.0)
            px, py, pz = sx + u * dx, sy + u * dy, sz + u * dz
            if not math.sqrt(px * px + py * py + pz * pz) >= radius:
                continue
            c = -(dx * x + dy * y + dz * z) / (math.sqrt(dd) * rn)
            if c > best:
                best, k = c, s
        score[i] = best
        which[i] = k
