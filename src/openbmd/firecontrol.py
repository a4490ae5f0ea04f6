"""Fire control from tracks: the batch EKF's covariance over time, and the PIP error from it.

For N threats sampled at common times ``t`` (T,), every sensor of an architecture that may
feed fire control tracks each threat from its track start, with the measurement model of
:class:`openbmd.tracking.RadarModel` (range, azimuth, elevation; the catalogued σ) and the
ballistic motion model of :mod:`openbmd.tracking` (point mass + J2 gravity, ECI). The filter is
run in **information form** (Bar-Shalom, Li & Kirubarajan 2001, §7.4) linearised about the
true path — the covariance recursion of the EKF, which does not depend on the measured values —
so that all threat × sensor tracks are one batch with no loop over threats or scans:

* ``Φ(t_j)`` (N, T, 6, 6): transition matrices along each path (:func:`stm_rows`, from the
  gravity gradient :func:`openbmd.tracking.gravity_jacobian`);
* each look adds ``Φᵀ Hᵀ R⁻¹ H Φ`` (H of :meth:`RadarModel.jacobian`), counted
  ``sample spacing / revisit`` times (the looks the radar makes between two samples);
* a look reaches the shooter after the sensor's latency (plus the exchange latency for a
  partner's radar); cumulative sums over the arrival time give the information the shooter
  holds at each sample time, for the fire-control sensors and for the cue sensors that may
  commit under the rules;
* the position covariance at the intercept time ``t`` from the data held at ``τ`` is
  ``P(t) = Φ_r(t) I(τ)⁻¹ Φ_r(t)ᵀ`` (Φ_r the position rows): the filter's covariance propagated
  to the predicted intercept point with its own transition matrix.

What counts: only looks after the threat's burnout (a thrusting threat says nothing of its free
flight) and after each sensor's track start (a radar that cannot search starts on a cue); a
space IR sensor sees only the boost and adds no information. No process noise: in the vacuum
the ballistic path is known to the J2 gravity model (higher harmonics ≲ 1e-5 m/s² are left out),
which favours the defence; the tracking package's ``BallisticModel(q=0)`` is the same filter.
Validation: ``tests/validation/test_fire_control_monte_carlo.py`` runs that EKF on noisy
realisations and checks the predicted PIP covariance by a χ² (NEES) test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.firecontrol_kernel import add_information, cumulate, pip_radii, stm_rows
from openbmd.sensors import Radar, SpaceIR
from openbmd.tracking import RadarModel, eci2ecef_matrix, gravity_jacobian

__all__ = [
    "FireControlInfo", "fire_control_info", "look_information", "pip_covariance", "pip_errors",
    "within_capacity",
]  # fmt: skip

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class FireControlInfo:
    """The track information of N threats at sample times ``t`` (T,) (module docstring).

    ``phi`` (N, T, 3, 6): position rows of the transition matrix from ``t[0]`` (ECI);
    ``fire_control`` and ``cue`` (N, T, 6, 6), or (N, 0, 6, 6) when no sensor gives that kind
    of data: cumulative information [SI] held by the
    shooter at ``t[j]`` from the fire-control sensors and from the other sensors whose data may
    commit a launch; ``first_update`` (N,): first arrival of fire-control data [s] (``inf``:
    none).
    """

    t: FloatArray
    phi: FloatArray
    fire_control: FloatArray
    cue: FloatArray
    first_update: FloatArray


def _eci_positions(t: FloatArray, r_ecef: FloatArray) -> FloatArray:
    """ECI positions (N, T, 3) of ECEF positions sampled at ``t`` (ECI = ECEF at t = 0)."""
    c = eci2ecef_matrix(t)  # (T, 3, 3): ECI -> ECEF
    return np.asarray(np.einsum("tji,ntj->nti", c, r_ecef))


def look_information(
    sensor: Radar | SpaceIR, t: FloatArray, r_eci: FloatArray, looks: BoolArray
) -> FloatArray:
    """Position information ``Hᵀ R⁻¹ H`` [1/m²] of a sensor's looks, ECI, (N, T, 3, 3).

    ``looks`` (N, T): the samples at which the sensor's track takes a measurement. A radar's
    information per sample is that of ``spacing / revisit`` measurements; a space IR sensor
    (boost only) gives none.
    """
    out = np.zeros((*looks.shape, 3, 3))
    if isinstance(sensor, SpaceIR) or not looks.any():
        return out
    model = RadarModel.from_geodetic(
        sensor.lat, sensor.lon, sensor.alt, sensor.sigma_range, sensor.sigma_az, sensor.sigma_el
    )
    rows, cols = np.nonzero(looks)
    x = np.concatenate([r_eci[rows, cols], np.zeros((rows.size, 3))], axis=-1)
    hp = model.jacobian(x, t[cols])[..., :3]  # (K, 3, 3)
    spacing = float(t[1] - t[0]) if t.size > 1 else sensor.revisit
    per_sample = spacing / sensor.revisit
    with np.errstate(invalid="ignore", over="ignore"):
        j = per_sample * np.einsum("kai,a,kaj->kij", hp, 1.0 / sensor_sigma(sensor) ** 2, hp)
    out[rows, cols] = np.where(np.isfinite(j).all(axis=(-1, -2))[:, None, None], j, 0.0)
    return out


def sensor_sigma(sensor: Radar) -> FloatArray:
    """Measurement σ (range [m], azimuth [rad], elevation [rad]) of a radar."""
    return np.array([sensor.sigma_range, sensor.sigma_az, sensor.sigma_el], dtype=float)


def fire_control_info(
    t: ArrayLike,
    r_ecef: FloatArray,
    sensors: Sequence[Radar | SpaceIR],
    looks: Sequence[BoolArray],
    latency: ArrayLike,
    fire_control: ArrayLike,
    cue: ArrayLike,
) -> FireControlInfo:
    """Track information of N threats from the looks of S sensors.

    Parameters
    ----------
    t : array_like, (T,)
        Sample times [s], equally spaced.
    r_ecef : ndarray, (N, T, 3)
        Threat positions, ECEF [m].
    sensors : sequence of S Radar or SpaceIR
    looks : sequence of S bool arrays (N, T)
        Samples at which each sensor's track measures the threat (detected, after its track
        start and the threat's burnout, within its track capacity).
    latency : array_like, (S,)
        Data latency of each sensor to the shooter [s].
    fire_control : array_like of bool, (S,)
        Fire-control sensors (their tracks also update the kill vehicle in flight).
    cue : array_like of bool, (S,)
        Other sensors whose data may commit a launch under the rules (the cue's fire solution).
    """
    tt = np.asarray(t, dtype=float)
    lat = np.asarray(latency, dtype=float)
    fc = np.asarray(fire_control, dtype=bool)
    cu = np.asarray(cue, dtype=bool) & ~fc
    n, nt = r_ecef.shape[:2]
    r_eci = _eci_positions(tt, r_ecef)
    phi = np.empty((n, nt, 3, 6))
    if nt:
        # the gradient only where the threat flies (NaN after impact: Φ is never used there)
        fin = np.isfinite(r_eci).all(axis=-1)
        grad = np.full((n, nt, 3, 3), np.nan)
        grad[fin] = gravity_jacobian(r_eci[fin])
        stm_rows(grad, np.ascontiguousarray(np.diff(tt)), phi)
    gives = [
        (fc[k] or cu[k]) and not isinstance(s, SpaceIR) and bool(lk.any())
        for k, (s, lk) in enumerate(zip(sensors, looks, strict=True))
    ]
    # A kind of data no sensor gives is held as zero columns (no 6×6 array per sample to
    # fill and sum: at ICBM flight times those are hundreds of MB per chunk).
    info_fc = np.zeros((n, nt if any(g and fc[k] for k, g in enumerate(gives)) else 0, 6, 6))
    info_cue = np.zeros((n, nt if any(g and cu[k] for k, g in enumerate(gives)) else 0, 6, 6))
    for k, (s, lk) in enumerate(zip(sensors, looks, strict=True)):  # loop over sensors only
        if not gives[k]:
            continue
        # a look at t[i] reaches the shooter at t[i] + latency: the column of its arrival
        col = np.searchsorted(tt, tt + lat[k] - 1e-9).astype(np.int64)
        add_information(
            phi, look_information(s, tt, r_eci, lk), col, info_fc if fc[k] else info_cue
        )
    cumulate(info_fc)
    cumulate(info_cue)
    has = info_fc[..., 0, 0] > 0.0
    first = np.full(n, np.inf)
    if has.shape[1]:
        first = np.where(has.any(axis=1), tt[np.argmax(has, axis=1)], np.inf)
    return FireControlInfo(tt, phi, info_fc, info_cue, first)


def _held(t: FloatArray, when: FloatArray, info: FloatArray) -> NDArray[np.int64]:
    """Column of the data ``info`` held at ``when`` (−1: before the first sample, NaN, or no
    such data at all)."""
    if info.shape[1] == 0:
        return np.full(when.shape, -1, dtype=np.int64)
    j = np.searchsorted(t, np.nan_to_num(when, nan=-np.inf), side="right") - 1
    return np.asarray(j, dtype=np.int64)


def _prepare(
    info: FireControlInfo, t_int: FloatArray, v_rel_ecef: FloatArray
) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Sample index, interpolation weight and unit ECI relative velocity of K intercepts."""
    t = info.t
    i0 = np.clip(np.searchsorted(t, t_int, side="right") - 1, 0, max(t.size - 2, 0))
    i1 = np.minimum(i0 + 1, t.size - 1)
    span = t[i1] - t[i0]
    w = np.clip((t_int - t[i0]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
    u = np.einsum("kji,kj->ki", eci2ecef_matrix(t_int), v_rel_ecef)  # ECEF -> ECI
    with np.errstate(invalid="ignore", divide="ignore"):
        u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    return i0.astype(np.int64), w, np.ascontiguousarray(np.nan_to_num(u, nan=0.0))


def pip_covariance(
    info: FireControlInfo,
    rows: ArrayLike,
    t_int: ArrayLike,
    t_fire_control: ArrayLike,
    t_cue: ArrayLike,
    v_rel_ecef: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """95 % PIP miss radius [m] (K,) and ECI position covariance [m²] (K, 3, 3) at ``t_int``
    (K,) [s] of threats ``rows`` from the fire-control data held at ``t_fire_control`` and the
    cue data held at ``t_cue`` (all finite); ``v_rel_ecef`` (K, 3) [m/s] sets the miss plane.
    ``inf`` where the data do not fix the threat's state (fewer than two looks)."""
    ti = np.asarray(t_int, dtype=float).ravel()
    i0, w, u = _prepare(info, ti, np.asarray(v_rel_ecef, dtype=float).reshape(-1, 3))
    radius, cov = np.empty(ti.size), np.empty((ti.size, 3, 3))
    pip_radii(
        info.phi, info.fire_control, info.cue,
        np.ascontiguousarray(np.asarray(rows, dtype=np.int64).ravel()), i0, w,
        _held(info.t, np.asarray(t_fire_control, dtype=float).ravel(), info.fire_control),
        _held(info.t, np.asarray(t_cue, dtype=float).ravel(), info.cue), u, radius, cov,
    )  # fmt: skip
    return radius, cov


def pip_errors(
    info: FireControlInfo,
    rows: ArrayLike,
    t_int: ArrayLike,
    t_launch: ArrayLike,
    t_acq: ArrayLike,
    v_rel_ecef: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """95 % PIP miss radii [m] at launch and at seeker acquisition of K intercepts.

    Intercept ``k`` of threat ``rows[k]`` at ``t_int[k]`` [s], launched at ``t_launch[k]`` on
    the fire solution then held (fire-control and cue data), acquired at ``t_acq[k]`` with the
    in-flight updates of the fire-control sensors held by then; ``v_rel_ecef`` (K, 3) the
    threat's velocity relative to the kill vehicle [m/s] (the miss plane is normal to it).
    ``inf`` where the data do not fix the threat's state; NaN where ``t_int`` is NaN.
    """
    ti = np.asarray(t_int, dtype=float).ravel()
    shape = np.shape(t_int)
    out_c, out_a = np.full(ti.size, np.nan), np.full(ti.size, np.nan)
    k = np.flatnonzero(np.isfinite(ti))
    if k.size:
        r = np.asarray(rows, dtype=np.int64).ravel()[k]
        tl = np.asarray(t_launch, dtype=float).ravel()[k]
        ta = np.fmax(np.asarray(t_acq, dtype=float).ravel()[k], tl)
        vr = np.asarray(v_rel_ecef, dtype=float).reshape(-1, 3)[k]
        out_c[k] = pip_covariance(info, r, ti[k], tl, tl, vr)[0]  # the fire solution
        out_a[k] = pip_covariance(info, r, ti[k], ta, tl, vr)[0]  # + in-flight updates
    return out_c.reshape(shape), out_a.reshape(shape)


def within_capacity(looks: BoolArray, t: FloatArray, capacity: int) -> BoolArray:
    """The looks (N, T) of a radar that holds at most ``capacity`` tracks of a raid.

    A threat's track runs from its first look to its last; a threat is admitted when fewer
    than ``capacity`` threats whose tracks started before it (ties by index) are still tracked
    at its start — those refused count too, which leans slightly against the defence and is
    exact when nobody is refused. Pairwise over the raid (N², a raid is small).
    """
    n = looks.shape[0]
    has: BoolArray = np.asarray(looks.any(axis=1))
    first = np.where(has, t[np.argmax(looks, axis=1)], np.inf)
    last = np.where(has, t[looks.shape[1] - 1 - np.argmax(looks[:, ::-1], axis=1)], -np.inf)
    idx = np.arange(n)
    before = (first[None, :] < first[:, None]) | (
        (first[None, :] == first[:, None]) & (idx[None, :] < idx[:, None])
    )
    live = before & (last[None, :] >= first[:, None]) & has[None, :]
    admitted = has & (live.sum(axis=1) < capacity)
    return looks & admitted[:, None]
