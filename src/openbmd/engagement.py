"""Engagement windows, intercepts and shot opportunities, batched over many threats.

Inputs are a batch of N threat trajectories sampled at common times ``t`` (T,) — a
:class:`openbmd.trajectory.TrajectorySample`, times in seconds after each threat's launch —, the
fly-out fan of one interceptor at one site (:func:`openbmd.interceptors.flyout_fan`) and the
earliest interceptor launch time of each threat (from :func:`launch_times`).

Rules (all parameters):

* **Cue and earliest launch.** A fire-control sensor (X-band radar) gives a track of fire-control
  quality ``track_delay`` after its first detection; an early-warning sensor gives a launch cue
  ``ew_delay`` after its first detection. Rule ``"own-radar"`` launches on the fire-control track
  only; ``"early-warning"`` on whichever comes first. The interceptor then needs its
  ``decision_delay``. Earliest launch = cue + decision delay.
* **Battle space.** The threat at time ``t`` is engageable if it has burnt out (midcourse
  intercept; ``+ burnout_margin``), flies between the interceptor's minimum and maximum
  intercept altitudes, lies within its maximum ground range and within the fan's reach.
* **Feasible intercept at t**: a launch at ``L ≥ earliest launch`` with ``L + T(P(t)) ≤ t``,
  ``T`` the earliest fly-out time to the threat's position ``P(t)``; the latest launch that still
  intercepts at ``t`` is ``g(t) = t − T(P(t))`` (the interceptor then flies its fastest path
  and meets the threat at the same instant). Window: first launch = earliest launch, last
  launch = max g(t) over the battle space.
* **Shoot-look-shoot**: shot 1 leaves at the earliest launch and meets the threat at the first
  t with g(t) ≥ launch (found between samples by linear interpolation of g); the next shot
  leaves ``kill_assessment`` seconds after the previous intercept; and so on while feasible.
* **Closing speed** = |v_threat − v_interceptor| at the intercept; **crossing angle** = angle
  between their inertial velocities (0° tail chase, 180° head-on).

The kill vehicle's divert and the discrimination problem are not modelled: feasibility is
kinematic (the physics question of the 2007 debate), which favours the defence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.constants import OMEGA_EARTH
from openbmd.errors import InputError
from openbmd.interceptors import FlyoutFan
from openbmd.sensors import Radar, SpaceIR
from openbmd.trajectory import TrajectorySample

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

CUE_RULES = ("early-warning", "own-radar")


@dataclass(frozen=True)
class CueRule:
    """How a launch is cued. Times [s]; see the module docstring."""

    mode: str = "early-warning"
    track_delay: float = 60.0
    ew_delay: float = 60.0

    def __post_init__(self) -> None:
        if self.mode not in CUE_RULES:
            raise InputError(f"cueing: {self.mode!r} is not one of {', '.join(CUE_RULES)}")
        if not (self.track_delay >= 0.0 and self.ew_delay >= 0.0):
            raise InputError("cueing: track_delay and ew_delay must be >= 0 s")


def detection_times(
    sample: TrajectorySample,
    sensors: Sequence[Radar | SpaceIR],
    rcs: Sequence[float],
    rng: np.random.Generator | None = None,
) -> FloatArray:
    """First detection time [s] of each threat by each sensor, (N, S); NaN if never.

    A thin adapter over ``Radar.detect`` / ``SpaceIR.detect`` (threshold detection is
    deterministic; the generator only feeds the measurement noise, which is not used here).
    """
    rng = rng or np.random.default_rng(0)
    n = sample.r_ecef.shape[0]
    out = np.full((n, len(sensors)), np.nan)
    for k, (s, sigma) in enumerate(zip(sensors, rcs, strict=True)):  # loop over sensors only
        if isinstance(s, SpaceIR):
            det = s.detect(sample.t, sample.r_ecef, sample.thrusting, rng=rng)
        else:
            det = s.detect(sample.t, sample.r_ecef, rng=rng, rcs=sigma)
        out[:, k] = det.first_detection_time
    return out


def launch_times(
    first_fc: ArrayLike, first_ew: ArrayLike, rule: CueRule, decision_delay: float
) -> FloatArray:
    """Earliest interceptor launch [s] from first detections by fire-control / EW sensors.

    ``first_fc``, ``first_ew``: (N, S_fc), (N, S_ew) first-detection times (NaN = never).
    """
    fc = np.asarray(first_fc, dtype=float)
    ew = np.asarray(first_ew, dtype=float)
    with np.errstate(invalid="ignore"):
        cue_fc = _nanmin(fc) + rule.track_delay
        cue = cue_fc if rule.mode == "own-radar" else np.fmin(cue_fc, _nanmin(ew) + rule.ew_delay)
    return np.asarray(cue + decision_delay)


def _nanmin(x: FloatArray) -> FloatArray:
    if x.ndim == 1:
        return x
    if x.shape[-1] == 0:
        return np.full(x.shape[:-1], np.nan)
    return np.asarray(np.fmin.reduce(x, axis=-1))


@dataclass(frozen=True)
class Intercepts:
    """Intercepts of the N threats (one per threat, NaN where none)."""

    time: FloatArray  # threat time of the intercept [s]
    launch_time: FloatArray  # interceptor launch [s]
    flyout_time: FloatArray  # [s]
    altitude: FloatArray  # [m]
    ground_range: FloatArray  # site → intercept point [m]
    closing_speed: FloatArray  # [m/s]
    crossing_angle: FloatArray  # [rad]
    r_ecef: FloatArray  # (N, 3) intercept point [m]
    pitch: FloatArray  # interceptor final pitch angle (fly-out fan) [rad]
    azimuth: FloatArray  # interceptor launch azimuth [rad]
    cutoff: FloatArray  # interceptor thrust cut-off (energy level of the fan) [s after launch]


@dataclass(frozen=True)
class Engagement:
    """Result of :func:`engage` for N threats."""

    earliest_launch: FloatArray  # (N,) [s]
    feasible: BoolArray  # (N,)
    first_launch: FloatArray  # (N,) window start [s] (NaN if infeasible)
    last_launch: FloatArray  # (N,) window end [s]
    slack: FloatArray  # (N,) max g(t) − earliest launch over the battle space [s] (−inf if empty)
    shot_opportunities: NDArray[np.int64]  # (N,) under shoot-look-shoot
    shots: tuple[Intercepts, ...]  # shot k of each threat (NaN where fewer shots)
    last: Intercepts  # the intercept of the latest launch
    latest_launch: FloatArray  # (N, T) g(t), −inf outside the battle space

    @property
    def first(self) -> Intercepts:
        return self.shots[0]


def engage(
    sample: TrajectorySample,
    burnout_time: ArrayLike,
    fan: FlyoutFan,
    earliest_launch: ArrayLike,
    kill_assessment: float = 60.0,
    max_shots: int = 8,
    burnout_margin: float = 0.0,
) -> Engagement:
    """Engagement of N sampled threats by the interceptor of ``fan`` (see the module docstring)."""
    if not kill_assessment >= 0.0:
        raise InputError(f"kill assessment time: {kill_assessment!r} must be >= 0 s")
    icp = fan.interceptor
    t = np.asarray(sample.t, dtype=float)
    n = sample.r_ecef.shape[0]
    l0 = np.broadcast_to(np.asarray(earliest_launch, dtype=float), (n,))
    bo = np.broadcast_to(np.asarray(burnout_time, dtype=float), (n,))
    with np.errstate(invalid="ignore"):
        pre = (
            (sample.alt >= icp.min_altitude)
            & (sample.alt <= icp.max_altitude)
            & (t[None, :] >= (bo + burnout_margin)[:, None])
        )
    # Query the fan only where the threat is in the altitude band after burnout.
    fly_t = np.full(pre.shape, np.nan)
    rng_g = np.full(pre.shape, np.nan)
    q = fan.query(sample.r_ecef[pre])
    fly_t[pre], rng_g[pre] = q.time, q.ground_range
    with np.errstate(invalid="ignore"):
        inbs = pre & np.isfinite(fly_t) & (rng_g <= icp.max_range)
        g = np.where(inbs, t[None, :] - fly_t, -np.inf)
        gmax = g.max(axis=1)
        slack = np.where(np.isfinite(l0), gmax - l0, -np.inf)
    feasible = slack >= 0.0
    shots: list[Intercepts] = []
    launch = np.where(feasible, l0, np.nan)
    count = np.zeros(n, dtype=np.int64)
    for _ in range(max_shots):  # loop over shots, vectorised over threats
        shot = _intercept_at(sample, fan, g, inbs, launch)
        ok = np.isfinite(shot.time)
        if not ok.any():
            if not shots:
                shots.append(shot)
            break
        shots.append(shot)
        count += ok
        launch = np.where(ok, shot.time + kill_assessment, np.nan)
    j = np.argmax(g, axis=1)
    last_launch = np.where(feasible, gmax, np.nan)
    last = _intercept_at(sample, fan, g, inbs, last_launch, exact_index=j)
    return Engagement(
        earliest_launch=l0.copy(),
        feasible=feasible,
        first_launch=np.where(feasible, l0, np.nan),
        last_launch=last_launch,
        slack=slack,
        shot_opportunities=count,
        shots=tuple(shots),
        last=last,
        latest_launch=g,
    )


def _intercept_at(
    sample: TrajectorySample,
    fan: FlyoutFan,
    g: FloatArray,
    inbs: BoolArray,
    launch: FloatArray,
    exact_index: NDArray[np.intp] | None = None,
) -> Intercepts:
    """First intercept of an interceptor launched at ``launch`` (N,) — NaN rows stay NaN."""
    n, _nt = g.shape
    rows = np.arange(n)
    t = sample.t
    with np.errstate(invalid="ignore"):
        ok_t = g >= launch[:, None]
    has = ok_t.any(axis=1) & np.isfinite(launch)
    i1 = np.argmax(ok_t, axis=1) if exact_index is None else exact_index
    i0 = np.maximum(i1 - 1, 0)
    # Between samples: where the previous sample is in the battle space but too early for this
    # launch, the intercept instant is where g(t) (linear between samples) reaches the launch.
    interp = (exact_index is None) & (i1 > 0) & inbs[rows, i0] & has
    g0, g1 = g[rows, i0], g[rows, i1]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(interp, (launch - g0) / np.where(g1 > g0, g1 - g0, 1.0), 1.0)
    w = np.clip(np.nan_to_num(w, nan=1.0), 0.0, 1.0)
    tstar = t[i0] + w * (t[i1] - t[i0])
    r = sample.r_ecef[rows, i0] + w[:, None] * (sample.r_ecef[rows, i1] - sample.r_ecef[rows, i0])
    v = sample.v_ecef[rows, i0] + w[:, None] * (sample.v_ecef[rows, i1] - sample.v_ecef[rows, i0])
    alt = sample.alt[rows, i0] + w * (sample.alt[rows, i1] - sample.alt[rows, i0])
    q = fan.query(r)
    omega_cross = np.stack([-OMEGA_EARTH * r[:, 1], OMEGA_EARTH * r[:, 0], np.zeros(n)], axis=-1)
    vt_in, vi_in = v + omega_cross, q.v_ecef + omega_cross
    with np.errstate(invalid="ignore"):
        closing = np.linalg.norm(v - q.v_ecef, axis=-1)
        cosang = np.einsum("ij,ij->i", vt_in, vi_in) / (
            np.linalg.norm(vt_in, axis=-1) * np.linalg.norm(vi_in, axis=-1)
        )
        angle = np.arccos(np.clip(cosang, -1.0, 1.0))
    has = has & np.isfinite(q.time)

    def m(x: FloatArray) -> FloatArray:
        return np.where(has.reshape((n,) + (1,) * (x.ndim - 1)), x, np.nan)

    return Intercepts(
        time=m(tstar),
        launch_time=m(tstar - q.time),
        flyout_time=m(q.time),
        altitude=m(alt),
        ground_range=m(q.ground_range),
        closing_speed=m(closing),
        crossing_angle=m(angle),
        r_ecef=m(r),
        pitch=m(q.pitch),
        azimuth=m(q.azimuth),
        cutoff=m(q.cutoff),
    )
