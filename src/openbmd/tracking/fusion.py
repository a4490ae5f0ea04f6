"""Multi-sensor fusion: centralised measurement fusion and covariance intersection.

- :func:`fuse_measurements`: sequential EKF/UKF updates with the reports of several sensors at one
  time (equivalent to one stacked update for independent sensor noise, and it relinearises after
  each sensor).
- :func:`covariance_intersection`: track-to-track fusion (Julier & Uhlmann 1997), ω minimising the
  trace or the determinant of the fused covariance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from openbmd.tracking.batch import FilterKind, TrackBatch, update
from openbmd.tracking.filters import MerweParams, _sym
from openbmd.tracking.frames import Array, _f
from openbmd.tracking.measurements import MeasurementModel


@dataclass(frozen=True)
class StackedModel:
    """Several measurement models observed together: ``h`` stacked, ``R`` block-diagonal.

    Assumes independent sensor noise. Used by :func:`fuse_measurements` (``mode="stacked"``).
    """

    models: tuple[MeasurementModel, ...]

    @property
    def dim(self) -> int:
        return sum(m.dim for m in self.models)

    @property
    def wrap_index(self) -> tuple[int, ...]:
        out: list[int] = []
        off = 0
        for m in self.models:
            out.extend(off + i for i in m.wrap_index)
            off += m.dim
        return tuple(out)

    @property
    def R(self) -> Array:
        r = np.zeros((self.dim, self.dim))
        off = 0
        for m in self.models:
            r[off : off + m.dim, off : off + m.dim] = m.R
            off += m.dim
        return r

    def h(self, x: ArrayLike, t: ArrayLike) -> Array:
        return np.concatenate([m.h(x, t) for m in self.models], axis=-1)

    def jacobian(self, x: ArrayLike, t: ArrayLike) -> Array:
        return np.concatenate([m.jacobian(x, t) for m in self.models], axis=-2)


def fuse_measurements(
    batch: TrackBatch,
    reports: Sequence[tuple[MeasurementModel, ArrayLike]],
    kind: FilterKind = "ekf",
    mode: Literal["sequential", "stacked"] = "sequential",
    params: MerweParams | None = None,
) -> TrackBatch:
    """Centralised measurement fusion: update every track with each sensor's report at one time.

    ``reports`` is a sequence of ``(sensor, z)`` with ``z (N, m_sensor)`` for the N tracks (already
    associated, at the tracks' common time). ``mode="sequential"`` applies the updates one sensor
    after another (relinearising each time); ``mode="stacked"`` does a single update with the
    stacked measurement and block-diagonal noise. Both are the optimal centralised fusion for
    independent sensor noise in the linear case (Bar-Shalom et al. 2001). ``hits`` increases by one
    per call.
    """
    if not reports:
        return batch
    if mode == "stacked":
        stacked = StackedModel(tuple(m for m, _ in reports))
        z = np.concatenate([_f(zz).reshape(len(batch), -1) for _, zz in reports], axis=-1)
        out, _, _ = update(batch, stacked, z, None, kind, params)
        return out
    out = batch
    for sensor, zs in reports:
        out, _, _ = update(out, sensor, zs, None, kind, params)
    return replace(out, hits=batch.hits + 1)


def covariance_intersection(
    x1: ArrayLike,
    P1: ArrayLike,
    x2: ArrayLike,
    P2: ArrayLike,
    criterion: Literal["trace", "det"] = "trace",
    iterations: int = 60,
) -> tuple[Array, Array, Array]:
    """Track-to-track fusion by covariance intersection (Julier & Uhlmann 1997), batched.

    ``P⁻¹ = ω P1⁻¹ + (1 − ω) P2⁻¹``, ``x = P (ω P1⁻¹ x1 + (1 − ω) P2⁻¹ x2)``, with ω ∈ [0, 1]
    minimising ``tr P`` or ``det P`` (both convex in ω) by a vectorised golden-section search.
    Consistent whatever the unknown cross-correlation of the two estimates. Returns ``(x, P, ω)``.
    """
    x1, x2 = _f(x1), _f(x2)
    i1, i2 = np.linalg.inv(_f(P1)), np.linalg.inv(_f(P2))
    shape = np.broadcast_shapes(x1.shape[:-1], x2.shape[:-1], i1.shape[:-2], i2.shape[:-2])

    def objective(w: Array) -> Array:
        info = w[..., None, None] * i1 + (1.0 - w[..., None, None]) * i2
        if criterion == "trace":
            return np.trace(np.linalg.inv(info), axis1=-2, axis2=-1)
        return -np.linalg.slogdet(info)[1]

    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = np.zeros(shape), np.ones(shape)
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = objective(c), objective(d)
    for _ in range(iterations):
        left = fc < fd  # minimum in [a, d]: drop (d, b]; else drop [a, c)
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = np.where(left, b - g * (b - a), d)
        d_new = np.where(left, c, a + g * (b - a))
        fp = objective(np.where(left, c_new, d_new))
        fc, fd = np.where(left, fp, fd), np.where(left, fc, fp)
        c, d = c_new, d_new
    w = 0.5 * (a + b)
    ends = np.stack([np.zeros(shape), np.ones(shape), w])
    w = np.take_along_axis(ends, np.argmin(objective(ends), axis=0)[None], axis=0)[0]
    info = w[..., None, None] * i1 + (1.0 - w[..., None, None]) * i2
    P = _sym(np.linalg.inv(info))
    y = w[..., None] * np.einsum("...ij,...j->...i", i1, x1) + (1.0 - w[..., None]) * np.einsum(
        "...ij,...j->...i", i2, x2
    )
    return np.einsum("...ij,...j->...i", P, y), P, w
