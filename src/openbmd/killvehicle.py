"""Kill-vehicle limits: PIP error from the sensors' looks, divert, closing speed, crossing angle.

An exo-atmospheric hit-to-kill vehicle must acquire the threat with its seeker and divert out
the remaining predicted-intercept-point (PIP) error in the time left (REFERENCES §10):
``t_go = R_acq / V_close`` and ``Δv ≈ miss / t_go``. This module gives the PIP error the chain
uses until the full filter of :mod:`openbmd.tracking` is wired in, as a closed form on the
sensors' actual looks, vectorised over threats and times:

* **Track quality** (:func:`look_weights`, :func:`track_info`). Each radar look at a threat
  measures its position with a per-axis error ``σ = max(R σ_angle, σ_range)`` (slant range
  ``R``; the cross-range error of the angles dominates at long range); a space IR sensor sees
  only the boost and gives no midcourse state (weight 0). A track is the weighted
  least-squares straight-line fit of those looks (known gravity is removed exactly by the
  dynamics, so per axis the fit is a line: the no-process-noise constant-velocity filter).
  Its prediction variance at time ``t`` is ``(S2 − 2 t S1 + t² S0) / (S0 S2 − S1²)`` with
  ``Sk = Σ w t^k`` over the looks, ``w = 1/σ²`` (textbook regression; e.g. Bar-Shalom,
  Li & Kirubarajan, *Estimation with Applications to Tracking and Navigation*, 2001, §3).
* **Only ballistic looks count**: a look at a threat that is still thrusting says nothing of
  its free-flight path, so looks before the threat's burnout are left out (a cue during boost
  has no midcourse state yet).
* **PIP error at commit** (the fire solution the interceptor is launched on): the fused
  line fit of every sensor whose data may commit a launch under the rules (fire-control
  tracks; early-warning radars too when the rules let an early-warning cue commit), with the
  looks from each one's track start that reached the shooter by the launch, predicted to the
  intercept time. Fusion adds the information sums, so a rule that lets more sensors commit
  never worsens the fire solution. **At acquisition**: in-flight target updates from every
  fire-control sensor (looks arrived by the acquisition time after their latency; a lost
  track stops improving) or the fire solution, whichever is better. Early-warning radars do
  not update the kill vehicle in flight. The PIP error quoted is the 95 % radius of the 2-D
  miss, ``K95 σ`` with ``K95 = sqrt(−2 ln 0.05) ≈ 2.45`` (a circular Gaussian in the miss
  plane).
* **Divert** (:func:`divert_check`): ``t_go = min(R_acq / V_close, coast)`` (the seeker is
  live from thrust cut-off); Δv = the midcourse correction of the improvement from in-flight
  updates, ``(PIP_commit − PIP_acq) / (t_int − t_update)``, plus the terminal
  ``PIP_acq / t_go``; feasible if Δv ≤ the divert budget.

Which way it leans: the line fit ignores radar biases and registration errors and the fused
of measurement axes between sensors (fusion adds per-axis information), and the 95 %
miss radius is a single number where a Monte Carlo would draw the miss; ignoring
discrimination favours the defence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd import earth
from openbmd.constants import OMEGA_EARTH
from openbmd.interceptors import Interceptor
from openbmd.sensors import Radar, SpaceIR

__all__ = [
    "K95",
    "TrackInfo",
    "closing_and_crossing",
    "divert_check",
    "fit_variance",
    "kill_vehicle_quantities",
    "look_weights",
    "track_info",
]

FloatArray = NDArray[np.float64]
K95 = math.sqrt(-2.0 * math.log(0.05))  # 95 % radius of a circular 2-D Gaussian, in σ


def look_weights(
    sensor: Radar | SpaceIR, r_ecef: FloatArray, detected: NDArray[np.bool_]
) -> FloatArray:
    """Weight ``1/σ²`` [1/m²] of each look, (N, T); 0 where the sensor made no detection.

    ``σ = max(R · max(σ_az, σ_el), σ_range)`` per axis for a radar at slant range ``R``; a
    space IR sensor (boost only) gives no midcourse state: 0 everywhere.
    """
    if isinstance(sensor, SpaceIR):
        return np.zeros(detected.shape)
    site = earth.geodetic2ecef(sensor.lat, sensor.lon, sensor.alt)
    with np.errstate(invalid="ignore"):
        rng = np.linalg.norm(r_ecef - site, axis=-1)
        sigma = np.maximum(rng * max(sensor.sigma_az, sensor.sigma_el), sensor.sigma_range)
        w = np.where(detected & np.isfinite(sigma), 1.0 / sigma**2, 0.0)
    return np.asarray(w)


def fit_variance(sums: FloatArray, t: ArrayLike) -> FloatArray:
    """Per-axis prediction variance [m²] at times ``t`` of the line fit with sums ``(..., 3)``
    ``(S0, S1, S2)``; ``inf`` where fewer than two distinct looks."""
    s0, s1, s2 = sums[..., 0], sums[..., 1], sums[..., 2]
    tt = np.asarray(t, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        det = s0 * s2 - s1 * s1
        var = (s2 - 2.0 * tt * s1 + tt * tt * s0) / det
        ok = (s0 > 0.0) & (det > 1e-10 * s0 * s2) & np.isfinite(var)
    return np.where(ok, np.maximum(var, 0.0), np.inf)


@dataclass(frozen=True)
class TrackInfo:
    """What the chain knows of N threats sampled at times ``t`` (T,) (module docstring).

    ``commit`` and ``fire_control`` (N, T, 3): cumulative line-fit sums ``(S0, S1, S2)`` of
    the looks of the sensors that may commit, and of the fire-control sensors, that have
    reached the shooter by ``t[j]``; ``first_update`` (N,): first arrival of fire-control data [s]
    (``inf``: none).
    """

    t: FloatArray
    commit: FloatArray
    fire_control: FloatArray
    first_update: FloatArray


def _sums(w: FloatArray, t: FloatArray) -> FloatArray:
    return np.stack([w, w * t, w * t * t], axis=-1)


def track_info(
    t: ArrayLike,
    weights: list[FloatArray],
    latency: ArrayLike,
    fire_control: ArrayLike,
    track_start: ArrayLike,
    may_commit: ArrayLike,
    burnout_time: ArrayLike,
) -> TrackInfo:
    """Line-fit information of N threats from the looks of S sensors.

    Parameters
    ----------
    t : array_like, (T,)
        Sample times [s] (increasing).
    weights : list of S arrays (N, T)
        :func:`look_weights` of each sensor.
    latency : array_like, (S,)
        Data latency of each sensor to the shooter [s].
    fire_control : array_like of bool, (S,)
        Sensors whose tracks update the kill vehicle in flight.
    track_start : array_like, (N, S)
        Time each sensor's track starts [s] (looks before do not count; NaN: never).
    may_commit : array_like of bool, (S,)
        Sensors whose data may commit a launch under the rules (the fire solution).
    burnout_time : array_like, (N,)
        Threat burnout [s]: looks before it do not count.
    """
    tt = np.asarray(t, dtype=float)
    lat = np.asarray(latency, dtype=float)
    fc = np.asarray(fire_control, dtype=bool)
    start = np.asarray(track_start, dtype=float)
    may = np.asarray(may_commit, dtype=bool)
    n = start.shape[0]
    bo = np.broadcast_to(np.asarray(burnout_time, dtype=float), (n,))
    com = np.zeros((n, tt.size, 3))
    upd = np.zeros((n, tt.size, 3))
    for k, w in enumerate(weights):  # loop over sensors only
        with np.errstate(invalid="ignore"):  # NaN start: never
            live = tt[None, :] >= np.fmax(start[:, k], bo)[:, None]
        s = _sums(np.where(live, w, 0.0), tt[None, :])
        # a look at t[i] reaches the shooter at t[i] + latency: the column of its arrival
        col = np.searchsorted(tt, tt + lat[k] - 1e-9)
        keep = col < tt.size
        if may[k]:
            np.add.at(com, (slice(None), col[keep]), s[:, keep])  # type: ignore[arg-type]
        if fc[k]:
            np.add.at(upd, (slice(None), col[keep]), s[:, keep])  # type: ignore[arg-type]
    com = np.cumsum(com, axis=1)
    upd = np.cumsum(upd, axis=1)
    has = upd[..., 0] > 0.0
    first = np.where(has.any(axis=1), tt[np.argmax(has, axis=1)], np.inf)
    return TrackInfo(tt, com, upd, first)


def _gather(cum: FloatArray, t: FloatArray, rows: NDArray[np.intp], when: FloatArray) -> FloatArray:
    """Sums of the data arrived by ``when`` (same shape as ``rows``), (..., 3)."""
    j = np.searchsorted(t, when, side="right") - 1
    return np.where((j >= 0)[..., None], cum[rows, np.maximum(j, 0)], 0.0)


def divert_check(
    info: TrackInfo,
    rows: ArrayLike,
    t_int: ArrayLike,
    t_launch: ArrayLike,
    coast: ArrayLike,
    closing: ArrayLike,
    seeker_range: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """PIP errors and divert Δv of intercepts of threats ``rows`` at times ``t_int`` [s].

    ``t_launch`` [s] is the interceptor launch, ``coast`` [s] the kill vehicle's flight from
    thrust cut-off to the intercept and ``closing`` [m/s] the closing speed; all of one shape.
    Returns ``(pip_commit, pip_acq, t_go, dv)`` — 95 % miss radii [m], seeker time-to-go [s]
    and the divert needed [m/s] (``inf``: the PIP error is unbounded).
    """
    r = np.asarray(rows, dtype=np.intp)
    ti = np.asarray(t_int, dtype=float)
    cst = np.asarray(coast, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_go = np.minimum(seeker_range / np.asarray(closing, dtype=float), np.maximum(cst, 0.0))
        var_c = fit_variance(_gather(info.commit, info.t, r, np.asarray(t_launch, float)), ti)
        fc = _gather(info.fire_control, info.t, r, ti - t_go)
        var_a = np.fmin(var_c, fit_variance(fc, ti))
        pip_c, pip_a = K95 * np.sqrt(var_c), K95 * np.sqrt(var_a)
        t_upd = np.maximum(ti - cst, info.first_update[r])
        gain = np.where(pip_c > pip_a, pip_c - pip_a, 0.0)
        mid = np.where(gain > 0.0, gain / np.maximum(ti - t_upd, t_go), 0.0)
        dv = mid + pip_a / t_go
    return pip_c, pip_a, t_go, np.where(np.isnan(dv), np.inf, dv)


def closing_and_crossing(
    r_ecef: FloatArray, vt_ecef: FloatArray, vi_ecef: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Closing speed [m/s] and crossing angle [rad] (0 tail chase, π head-on) at points (..., 3)."""
    r = np.asarray(r_ecef, dtype=float)
    omega_cross = np.stack(
        [-OMEGA_EARTH * r[..., 1], OMEGA_EARTH * r[..., 0], np.zeros(r.shape[:-1])], axis=-1
    )
    vt_in, vi_in = vt_ecef + omega_cross, vi_ecef + omega_cross
    with np.errstate(invalid="ignore"):
        closing = np.linalg.norm(vt_ecef - vi_ecef, axis=-1)
        cosang = np.einsum("...j,...j->...", vt_in, vi_in) / (
            np.linalg.norm(vt_in, axis=-1) * np.linalg.norm(vi_in, axis=-1)
        )
    return closing, np.arccos(np.clip(cosang, -1.0, 1.0))


def kill_vehicle_quantities(
    track: TrackInfo | None,
    kv: Interceptor,
    rows: NDArray[np.intp],
    t_int: FloatArray,
    t_launch: FloatArray,
    coast: FloatArray,
    closing: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(PIP error at commit, at acquisition [m], time-to-go [s], divert needed [m/s]) of
    intercepts by ``kv``'s kill vehicle; ``track`` ``None`` is perfect knowledge."""
    if track is None:  # perfect knowledge of the threat's path
        with np.errstate(invalid="ignore", divide="ignore"):
            t_go = np.minimum(kv.seeker_range / closing, np.maximum(coast, 0.0))
        zero = np.zeros(np.shape(t_int))
        return zero, zero, t_go, zero
    return divert_check(track, rows, t_int, t_launch, coast, closing, kv.seeker_range)
