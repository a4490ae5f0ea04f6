"""Kill-vehicle limits: divert, seeker field of view, closing speed, crossing angle.

An exo-atmospheric hit-to-kill vehicle must acquire the threat with its seeker and divert out
the remaining predicted-intercept-point (PIP) error in the time left (REFERENCES §10):
``t_go = R_acq / V_close`` and ``Δv ≈ miss / t_go``. The PIP errors come from the fire-control
tracks (:mod:`openbmd.firecontrol`: the batch EKF's covariance propagated to the intercept):

* **PIP error at commit** (the fire solution the interceptor is launched on): the fused
  information of every sensor whose data may commit a launch under the rules (fire-control
  tracks; early-warning radars too when the rules let an early-warning cue commit) held by
  the shooter at launch, propagated to the intercept time. **At acquisition**: the fire
  solution plus the in-flight target updates of every fire-control sensor held by the
  acquisition time (a lost track stops improving; early-warning radars do not update the kill
  vehicle in flight). The PIP error quoted is the 95 % radius of the 2-D miss in the plane
  normal to the relative velocity (:func:`openbmd.firecontrol_kernel.pip_radii`).
* **Seeker field of view**: the PIP error at handover must lie inside the seeker's field of
  view at the acquisition range, ``PIP_acq ≤ V_close t_go tan(FOV / 2)``.
* **Divert** (:func:`divert_check`): ``t_go = min(R_acq / V_close, coast)`` (the seeker is
  live from thrust cut-off); Δv = the midcourse correction of the improvement from in-flight
  updates, ``(PIP_commit − PIP_acq) / (t_int − t_update)``, plus the terminal
  ``PIP_acq / t_go``; feasible if Δv ≤ the divert budget.

Which way it leans: the filter ignores radar biases and registration errors and process noise
(favours the defence); the 95 % miss radius is one number where a Monte Carlo would draw the
miss; ignoring discrimination favours the defence.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.constants import OMEGA_EARTH
from openbmd.firecontrol import FireControlInfo, pip_errors
from openbmd.firecontrol_kernel import K95
from openbmd.interceptors import Interceptor

__all__ = [
    "K95",
    "closing_and_crossing",
    "divert_check",
    "in_seeker_view",
    "kill_vehicle_quantities",
]

FloatArray = NDArray[np.float64]


def divert_check(
    info: FireControlInfo,
    rows: ArrayLike,
    t_int: ArrayLike,
    t_launch: ArrayLike,
    coast: ArrayLike,
    v_rel: ArrayLike,
    seeker_range: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """PIP errors and divert Δv of intercepts of threats ``rows`` at times ``t_int`` [s].

    ``t_launch`` [s] is the interceptor launch, ``coast`` [s] the kill vehicle's flight from
    thrust cut-off to the intercept and ``v_rel`` (..., 3) the threat's velocity relative to
    the kill vehicle (ECEF) [m/s]; all of one shape. Returns ``(pip_commit, pip_acq, t_go,
    dv)`` — 95 % miss radii [m], seeker time-to-go [s] and the divert needed [m/s] (``inf``:
    the PIP error is unbounded).
    """
    r = np.asarray(rows, dtype=np.intp)
    ti = np.asarray(t_int, dtype=float)
    cst = np.asarray(coast, dtype=float)
    vr = np.asarray(v_rel, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        closing = np.linalg.norm(vr, axis=-1)
        t_go = np.minimum(seeker_range / closing, np.maximum(cst, 0.0))
        pip_c, pip_a = pip_errors(info, r, ti, np.asarray(t_launch, dtype=float), ti - t_go, vr)
        pip_a = np.fmin(pip_a, pip_c)
        t_upd = np.maximum(ti - cst, info.first_update[r])
        gain = np.where(pip_c > pip_a, pip_c - pip_a, 0.0)
        mid = np.where(gain > 0.0, gain / np.maximum(ti - t_upd, t_go), 0.0)
        dv = mid + pip_a / t_go
    return pip_c, pip_a, t_go, np.where(np.isnan(dv), np.inf, dv)


def in_seeker_view(
    pip_acq: ArrayLike, closing: ArrayLike, t_go: ArrayLike, fov: float
) -> NDArray[np.bool_]:
    """Whether a PIP error [m] at handover lies inside a seeker's full field of view ``fov``
    [rad] at the acquisition range ``closing × t_go`` [m] (``fov ≥ π``: no limit)."""
    if fov >= np.pi:
        return np.ones(np.shape(pip_acq), dtype=bool)
    with np.errstate(invalid="ignore"):
        half = np.asarray(closing, float) * np.asarray(t_go, float) * np.tan(0.5 * fov)
        return np.asarray(np.asarray(pip_acq, float) <= half)


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
    track: FireControlInfo | None,
    kv: Interceptor,
    rows: NDArray[np.intp],
    t_int: FloatArray,
    t_launch: FloatArray,
    coast: FloatArray,
    v_rel: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(PIP error at commit, at acquisition [m], time-to-go [s], divert needed [m/s]) of
    intercepts by ``kv``'s kill vehicle; ``track`` ``None`` is perfect knowledge."""
    if track is None:  # perfect knowledge of the threat's path
        with np.errstate(invalid="ignore", divide="ignore"):
            closing = np.linalg.norm(v_rel, axis=-1)
            t_go = np.minimum(kv.seeker_range / closing, np.maximum(coast, 0.0))
        zero = np.zeros(np.shape(t_int))
        return zero, zero, t_go, zero
    return divert_check(track, rows, t_int, t_launch, coast, v_rel, kv.seeker_range)
