"""Results of the sensor kernels and their vectorised bookkeeping (pure NumPy).

:class:`Detections` holds what one sensor made of a batch of trajectories, :class:`Measurements`
the noisy measurements it produced, flattened over (target, time). The helpers turn per-sample
masks into first-detection times, downrange, visibility intervals and flat indices without a
Python loop over targets or times.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd import earth
from openbmd.errors import InputError

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

__all__ = [
    "Detections",
    "Measurements",
    "assemble",
    "check_batch",
    "looks",
    "measurements",
    "perturb_direction",
]


@dataclass(frozen=True)
class Measurements:
    """Noisy measurements, flattened over (target, time).

    ``kind`` is ``"rae"`` — ``z`` = (slant range [m], azimuth [rad, 0..2π from north],
    elevation [rad]) — or ``"los"`` — ``z`` = unit line-of-sight vector in ECEF from
    ``observer_ecef``. ``index`` is the flat target index into the batch, ``time`` the
    observation time [s], ``sigma`` the noise standard deviations per component.
    """

    kind: str
    index: IntArray
    time: Array
    z: Array
    sigma: Array
    observer_ecef: Array
    truth_ecef: Array

    def __len__(self) -> int:
        return int(self.time.shape[0])


@dataclass(frozen=True)
class Detections:
    """What one sensor made of a batch; masks have the batch's shape ``(..., T)``."""

    sensor: str
    t: Array
    in_view: BoolArray  # geometry only (LOS, field of regard, range / burning above clouds)
    visible: BoolArray  # in view and detectable (SNR ≥ threshold)
    detected: BoolArray  # looks that produced a detection
    first_detection_time: Array  # (...) [s]; NaN if never
    first_detection_downrange: Array  # (...) [m] launch → sub-target point; NaN if never
    interval_index: IntArray  # (K,) flat target index of each visibility interval
    interval_start: Array  # (K,) [s]
    interval_end: Array  # (K,) [s]
    measurements: Measurements
    snr_db: Array | None = field(default=None)  # radar only

    def intervals(self, i: int = 0) -> list[tuple[float, float]]:
        """Visibility intervals [s] of the target with flat index ``i``."""
        sel = self.interval_index == i
        return list(
            zip(self.interval_start[sel].tolist(), self.interval_end[sel].tolist(), strict=True)
        )


def check_batch(t: ArrayLike, r_ecef: ArrayLike) -> tuple[Array, Array]:
    tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
    r = np.asarray(r_ecef, dtype=np.float64)
    if tt.ndim != 1 or r.ndim < 2 or r.shape[-1] != 3 or r.shape[-2] != tt.shape[0]:
        raise InputError(
            f"r_ecef: shape {r.shape} does not match t {tt.shape}; expected (..., T, 3)"
        )
    return tt, r


def looks(t: Array, revisit: float) -> BoolArray:
    slot = np.floor((t - t[0]) / revisit + 1e-9)
    return np.concatenate([[True], slot[1:] != slot[:-1]])


def perturb_direction(u: Array, sigma: float, rng: np.random.Generator) -> Array:
    """Rotate unit vectors by small Gaussian angles about two axes perpendicular to them."""
    helper = np.where(np.abs(u[:, 2:3]) < 0.9, [0.0, 0.0, 1.0], [1.0, 0.0, 0.0])
    e1 = np.cross(u, helper)
    e1 /= np.maximum(np.linalg.norm(e1, axis=-1, keepdims=True), 1e-300)
    e2 = np.cross(u, e1)
    n = rng.standard_normal((u.shape[0], 2)) * sigma
    v = u + n[:, :1] * e1 + n[:, 1:] * e2
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def measurements(
    kind: str,
    sel: tuple[IntArray, ...],
    batch: tuple[int, ...],
    t: Array,
    z: Array,
    sigma: Array,
    observer: Array,
    truth: Array,
) -> Measurements:
    index = np.ravel_multi_index(sel[:-1], batch) if batch else np.zeros(len(sel[-1]), np.intp)
    return Measurements(
        kind,
        np.asarray(index, dtype=np.intp),
        t[sel[-1]],
        z,
        sigma,
        np.ascontiguousarray(observer),
        truth,
    )


def assemble(
    name: str,
    t: Array,
    r: Array,
    view: BoolArray,
    visible: BoolArray,
    detected: BoolArray,
    delay: float,
    meas: Measurements,
    launch_lat: ArrayLike | None,
    launch_lon: ArrayLike | None,
    snr: Array | None,
) -> Detections:
    batch = view.shape[:-1]
    has = detected.any(axis=-1)
    first = np.argmax(detected, axis=-1)
    t_first = np.where(has, t[first] + delay, np.nan)
    # ground range launch → sub-target point at the first detection
    if launch_lat is None or launch_lon is None:
        k0 = np.argmax(np.isfinite(r[..., 0]), axis=-1)
        r0 = np.take_along_axis(r, k0[..., None, None], axis=-2)[..., 0, :]
        with np.errstate(invalid="ignore"):
            lat0, lon0, _ = earth.ecef2geodetic(r0)
    else:
        lat0 = np.broadcast_to(np.asarray(launch_lat, dtype=np.float64), batch)
        lon0 = np.broadcast_to(np.asarray(launch_lon, dtype=np.float64), batch)
    downrange = np.full(batch, np.nan)
    if np.any(has):
        rf = np.take_along_axis(r, first[..., None, None], axis=-2)[..., 0, :][has]
        lat1, lon1, _ = earth.ecef2geodetic(rf)
        downrange[has] = earth.geodesic_inverse(
            np.asarray(lat0)[has], np.asarray(lon0)[has], lat1, lon1
        )[0]
    # visibility intervals from the edges of the mask
    pad = np.zeros((*batch, 1), dtype=bool)
    edges = np.diff(np.concatenate([pad, visible, pad], axis=-1).astype(np.int8), axis=-1)
    starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
    flat = np.ravel_multi_index(starts[:-1], batch) if batch else np.zeros(len(starts[-1]), np.intp)
    return Detections(
        name,
        t,
        view,
        visible,
        detected,
        t_first,
        downrange,
        np.asarray(flat, dtype=np.intp),
        t[starts[-1]],
        t[ends[-1] - 1],
        meas,
        snr,
    )
