"""The track batch (states, covariances, bookkeeping) and scan-level predict/update."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.errors import InputError
from openbmd.tracking.filters import (
    Backend,
    MerweParams,
    _ekf_update_rows,
    ekf_predict,
    ekf_update,
    ukf_predict,
    ukf_update,
)
from openbmd.tracking.frames import Array, _f, state_eci2ecef
from openbmd.tracking.measurements import InfraredLOSModel, MeasurementModel, RadarModel
from openbmd.tracking.motion import BallisticModel

FilterKind = Literal["ekf", "ukf"]


# --------------------------------------------------------------------------------------------------
# Track batch
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackBatch:
    """N tracks: ECI states ``x (N, 6)`` [m, m/s], covariances ``P (N, 6, 6)``, times ``t (N,)``.

    Bookkeeping per track: ``track_id`` (int), ``hits`` (associated measurements so far), ``misses``
    (consecutive scans without one), ``age`` (scans since initiation, counting the initiating ones)
    and ``confirmed`` (bool).
    """

    x: Array
    P: Array
    t: Array
    track_id: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    hits: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    misses: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    age: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    confirmed: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        n = self.x.shape[0]
        object.__setattr__(self, "t", np.broadcast_to(_f(self.t), (n,)).copy())
        defaults = {
            "track_id": np.arange(n, dtype=np.int64),
            "hits": np.zeros(n, np.int64),
            "misses": np.zeros(n, np.int64),
            "age": np.zeros(n, np.int64),
            "confirmed": np.ones(n, bool),
        }
        for name, value in defaults.items():
            if getattr(self, name).shape[0] != n:
                object.__setattr__(self, name, value)
        if self.x.shape != (n, 6) or self.P.shape != (n, 6, 6):
            raise InputError(
                f"TrackBatch needs x (N, 6) and P (N, 6, 6), got {self.x.shape}, {self.P.shape}"
            )

    @classmethod
    def empty(cls) -> TrackBatch:
        """A batch of no tracks."""
        return cls(x=np.zeros((0, 6)), P=np.zeros((0, 6, 6)), t=np.zeros(0))

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def take(self, idx: ArrayLike) -> TrackBatch:
        """Subset (index array or boolean mask)."""
        i = np.asarray(idx)
        return TrackBatch(
            self.x[i], self.P[i], self.t[i], self.track_id[i], self.hits[i], self.misses[i],
            self.age[i], self.confirmed[i],
        )  # fmt: skip

    def concat(self, other: TrackBatch) -> TrackBatch:
        """This batch followed by ``other``."""
        return TrackBatch(*(np.concatenate([getattr(self, k), getattr(other, k)]) for k in _FIELDS))

    def ecef(self) -> Array:
        """States in ECEF (position, Earth-relative velocity), ``(N, 6)``."""
        return state_eci2ecef(self.x, self.t)


_FIELDS = ("x", "P", "t", "track_id", "hits", "misses", "age", "confirmed")


def predict(
    batch: TrackBatch,
    t: ArrayLike,
    model: BallisticModel | None = None,
    kind: FilterKind = "ekf",
    params: MerweParams | None = None,
    backend: Backend = "numba",
) -> TrackBatch:
    """Predict every track to time ``t`` [s] (scalar or ``(N,)``) with the EKF or UKF."""
    tn = np.broadcast_to(_f(t), (len(batch),))
    dt = tn - batch.t
    if kind == "ekf":
        x, P = ekf_predict(batch.x, batch.P, dt, model, backend)
    else:
        x, P = ukf_predict(batch.x, batch.P, dt, model, params)
    return replace(batch, x=x, P=P, t=tn.copy())


def update(
    batch: TrackBatch,
    sensor: MeasurementModel,
    z: ArrayLike,
    track_idx: ArrayLike | None = None,
    kind: FilterKind = "ekf",
    params: MerweParams | None = None,
    backend: Backend = "numba",
) -> tuple[TrackBatch, Array, Array]:
    """Update tracks ``track_idx`` (default: all, in order) with measurements ``z (k, m)``.

    Measurements are taken at the tracks' current times (predict first). Returns the new batch and
    the innovations ``(k, m)`` and their covariances ``(k, m, m)``. ``hits`` is incremented and
    ``misses`` reset for the updated tracks.
    """
    every = track_idx is None
    idx = np.arange(len(batch)) if every else np.asarray(track_idx, dtype=np.int64)
    if (
        not every
        and kind == "ekf"
        and backend == "numba"
        and isinstance(sensor, RadarModel | InfraredLOSModel)
    ):
        # compiled update in place on copies of x and P: no gather/scatter of the subset
        n = len(batch)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"track_idx out of range for a batch of {n} tracks")
        rows = np.ascontiguousarray(np.where(idx < 0, idx + n, idx))
        xi = np.ascontiguousarray(batch.x, dtype=np.float64)
        pi = np.ascontiguousarray(batch.P, dtype=np.float64)
        x, P = xi.copy(), pi.copy()
        nu, S = _ekf_update_rows(xi, pi, z, sensor, batch.t[rows], rows, x, P)
    else:
        x, P, nu, S = _update_gathered(batch, sensor, z, idx, every, kind, params, backend)
    hits, misses = batch.hits.copy(), batch.misses.copy()
    hits[idx] += 1
    misses[idx] = 0
    return replace(batch, x=x, P=P, hits=hits, misses=misses), nu, S


def _update_gathered(
    batch: TrackBatch,
    sensor: MeasurementModel,
    z: ArrayLike,
    idx: NDArray[np.int64],
    every: bool,
    kind: FilterKind,
    params: MerweParams | None,
    backend: Backend,
) -> tuple[Array, Array, Array, Array]:
    """Update on the gathered subset ``idx`` (any filter and sensor), scattered back."""
    if every:
        xs, ps, ts = batch.x, batch.P, batch.t
    else:
        xs, ps, ts = batch.x[idx], batch.P[idx], batch.t[idx]
    if kind == "ekf":
        x1, p1, nu, S = ekf_update(xs, ps, z, sensor, ts, backend)
    else:
        x1, p1, nu, S = ukf_update(xs, ps, z, sensor, ts, params)
    if every:
        x, P = x1, p1
    else:
        x, P = batch.x.copy(), batch.P.copy()
        x[idx], P[idx] = x1, p1
    return x, P, nu, S
