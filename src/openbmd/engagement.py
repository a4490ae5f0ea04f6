"""Engagement windows, intercepts and shot opportunities, batched over many threats.

Inputs are a batch of N threat trajectories sampled at common times ``t`` (T,) — a
:class:`openbmd.trajectory.TrajectorySample`, times in seconds after each threat's launch — and
an :class:`openbmd.architecture.Architecture`. :func:`engage_architecture` is the one place
that wires detection → cue → commit → fly-out → shots for every battery of it; :func:`engage`
is the engagement of one battery (one fly-out fan) from given earliest launch times.

Rules (all parameters):

* **Cue, commit and earliest launch** (:func:`commit_times`, rules of an
  :class:`openbmd.architecture.Architecture`). Each sensor's data reach the shooter after its
  latency (plus the exchange latency when it reports via the exchange). A fire-control radar
  starts a track at its first detection — or, if it cannot search and the rules require a cue,
  not before the first early-warning/cue-only datum — and gives a fire-control track
  ``track_delay`` later. Rule ``commit="fire-control-track"`` commits on that track only;
  ``"early-warning"`` also on an early-warning cue (``cue_delay`` after its datum). Cue-only
  sensors never commit. Earliest launch = commit + decision delay.
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
* **Kill-vehicle limits** (the interceptor's, :mod:`openbmd.killvehicle`): an intercept at
  ``t`` is credited only if the kill vehicle's flight after thrust cut-off is within its
  endurance (part of the battle space), the closing speed is at least its minimum, the angle
  off head-on at most its maximum, the PIP error at handover inside the seeker's view, and the
  divert to remove the PIP error (track covariance, :mod:`openbmd.firecontrol`) within budget;
  the first shot's launch waits until its own fire solution passes. A threat that is not
  engageable gets the first rule it fails, in the order of :data:`REASONS`.

The discrimination problem and reliability are not modelled (this favours the defence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.architecture import Architecture
from openbmd.detections import Detections
from openbmd.errors import InputError
from openbmd.firecontrol import FireControlInfo, fire_control_info, within_capacity
from openbmd.interceptors import FlyoutFan, Interceptor, flyout_fan
from openbmd.killvehicle import closing_and_crossing, in_seeker_view, kill_vehicle_quantities
from openbmd.sensors import Radar, SpaceIR
from openbmd.trajectory import TrajectorySample

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Why a threat is not engageable: the first rule it fails, in this order (0: engageable).
REASONS = (
    "engageable",
    "never tracked",
    "out of battle space",
    "closing too slow",
    "crossing too wide",
    "outside seeker field of view",
    "PIP error too large",
)
# Bisection steps of the first shot's launch (module docstring): (window) / 2**12 ≲ 0.5 s.
_LAUNCH_STEPS = 12


def detection_times(
    sample: TrajectorySample,
    sensors: Sequence[Radar | SpaceIR],
    rcs: Sequence[float],
    rng: np.random.Generator | None = None,
    cache: dict[Any, Any] | None = None,
) -> FloatArray:
    """First detection time [s] of each threat by each sensor, (N, S); NaN if never.

    A thin adapter over ``Radar.detect`` / ``SpaceIR.detect``. Threshold detection is
    deterministic; ``rng`` only feeds measurement noise or Swerling draws (``None``: no draw).
    ``cache``: see :func:`engage_architecture` (``detection_cache``).
    """
    n = sample.r_ecef.shape[0]
    out = np.full((n, len(sensors)), np.nan)
    for k, det in enumerate(_detect(sample, sensors, rcs, rng, cache)):
        out[:, k] = det.first_detection_time
    return out


def _detect(
    sample: TrajectorySample,
    sensors: Sequence[Radar | SpaceIR],
    rcs: Sequence[float],
    rng: np.random.Generator | None,
    cache: dict[Any, Any] | None = None,
) -> list[Detections]:
    """Each sensor's detections of ``sample``; with ``cache`` (owned by the caller for this
    very sample, and used only without ``rng``: a random draw must not be shared), a sensor
    seen at the same RCS by several architectures is evaluated once."""
    out = []
    for s, sigma in zip(sensors, rcs, strict=True):  # loop over sensors only
        # The sensor object itself is kept in the value so its id cannot be reused meanwhile.
        key = (id(s), float(sigma))
        if cache is not None and rng is None and key in cache:
            out.append(cache[key][1])
            continue
        if isinstance(s, SpaceIR):
            det = s.detect(sample.t, sample.r_ecef, sample.thrusting, rng=rng)
        else:
            det = s.detect(sample.t, sample.r_ecef, rng=rng, rcs=sigma)
        if cache is not None and rng is None:
            cache[key] = (s, det)
        out.append(det)
    return out


def commit_times(
    first_detection: ArrayLike, architecture: Architecture
) -> tuple[FloatArray, NDArray[np.intp]]:
    """When a launch may be committed, and on whose data (see the module docstring).

    Parameters
    ----------
    first_detection : array_like, (N, S)
        First detection [s] of each threat by each sensor of ``architecture`` (NaN = never).
    architecture : Architecture
        Roles, latencies and rules.

    Returns
    -------
    commit : ndarray, (N,)
        Commit time [s] (NaN: never); the earliest launch adds the decision delay.
    sensor : ndarray of int, (N,)
        Index of the sensor whose track or cue allowed the commit (−1: none).
    """
    commit, idx, _start = _commit(np.asarray(first_detection, dtype=float), architecture)
    return commit, idx


def _commit(
    det: FloatArray, architecture: Architecture
) -> tuple[FloatArray, NDArray[np.intp], FloatArray]:
    """:func:`commit_times` and the track start of each sensor (N, S) [s] (NaN: never)."""
    if det.shape[-1] == 0:  # no sensor: never committed
        return np.full(det.shape[0], np.nan), np.full(det.shape[0], -1, dtype=np.intp), det
    rules = architecture.rules
    sensors = architecture.sensors
    lat = np.asarray(architecture.latencies(), dtype=float)
    role = np.array([s.role for s in sensors], dtype=object)
    fc = role == "fire-control"
    ew = role == "early-warning"
    needs = np.array([s.needs_cue and rules.fire_control_needs_cue for s in sensors], dtype=bool)
    with np.errstate(invalid="ignore"):
        arrive = det + lat  # data at the shooter / command centre
        # A radar that cannot search starts its track on the first cue (early-warning or
        # cue-only data); np.maximum keeps NaN: never cued, never tracked.
        first_cue = _nanmin(arrive[:, ~fc])
        start = np.where(needs, np.maximum(det, first_cue[:, None]), det)
        cand = np.where(fc, start + rules.track_delay + lat, np.nan)
        if rules.commit == "early-warning":
            cand = np.where(ew, arrive + rules.cue_delay, cand)
    has = np.isfinite(cand).any(axis=1)
    idx = np.where(has, np.argmin(np.where(np.isfinite(cand), cand, np.inf), axis=1), -1)
    return _nanmin(cand), idx.astype(np.intp), np.where(fc, start, det)


def _may_commit(role: str, rule: str) -> bool:
    """Whether a sensor of ``role`` may commit a launch under the commit ``rule``."""
    return role == "fire-control" or (role == "early-warning" and rule == "early-warning")


def _nanmin(x: FloatArray) -> FloatArray:
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
    pip_error_commit: FloatArray  # 95 % PIP miss radius of the commit basis [m]
    pip_error_acquisition: FloatArray  # ... at seeker acquisition, after in-flight updates [m]
    time_to_go: FloatArray  # seeker acquisition → intercept [s]
    divert_required: FloatArray  # Δv to remove the PIP error (midcourse + terminal) [m/s]


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
    reason: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    # (N,) index into REASONS: 0 engageable, else the first rule the threat fails

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
    *,
    track: FireControlInfo | None = None,
    limits: Interceptor | None = None,
) -> Engagement:
    """Engagement of N sampled threats by the interceptor of ``fan`` (see the module docstring).

    ``track`` is what the chain knows of the threats
    (:func:`openbmd.firecontrol.fire_control_info`);
    ``None`` is perfect knowledge (PIP error 0, the divert never binds). ``limits``: the
    interceptor whose kill-vehicle limits apply (default ``fan.interceptor``).
    """
    if not kill_assessment >= 0.0:
        raise InputError(f"kill assessment time: {kill_assessment!r} must be >= 0 s")
    icp = fan.interceptor
    kv = limits if limits is not None else icp
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
    rows, cols = np.nonzero(pre)
    q = fan.query(sample.r_ecef[pre])
    v_t = sample.v_ecef[pre]
    closing, crossing = closing_and_crossing(sample.r_ecef[pre], v_t, q.v_ecef)
    coast = q.time - q.cutoff
    with np.errstate(invalid="ignore"):
        stages = [
            np.isfinite(q.time) & (q.ground_range <= icp.max_range) & (coast <= kv.kv_endurance),
            closing >= kv.min_closing_speed,
            np.pi - crossing <= kv.max_crossing_angle,
        ]
    # the track's PIP error only where the geometric rules pass (the costly part)
    geo = stages[0] & stages[1] & stages[2]
    pip_a, dv = np.full(rows.size, np.inf), np.full(rows.size, np.inf)
    t_go = np.full(rows.size, np.nan)
    if geo.any():
        kvq = kill_vehicle_quantities(
            track, kv, rows[geo], t[cols[geo]], t[cols[geo]] - q.time[geo], coast[geo],
            v_t[geo] - q.v_ecef[geo],
        )  # fmt: skip
        pip_a[geo], t_go[geo], dv[geo] = kvq[1], kvq[2], kvq[3]
    with np.errstate(invalid="ignore"):
        stages += [in_seeker_view(pip_a, closing, t_go, kv.seeker_fov), dv <= kv.divert]
    fly_t = np.full(pre.shape, np.nan)
    fly_t[pre] = q.time
    # Rule by rule (REASONS order): the last rule a threat still passes names why it fails.
    reason = np.where(np.isfinite(l0), 2, 1).astype(np.int8)
    ok_pts = np.ones(rows.size, dtype=bool)
    inbs = pre.copy()
    g = np.full(pre.shape, -np.inf)
    for k, rule in enumerate(stages):  # loop over the five rules, vectorised over threats
        ok_pts = ok_pts & rule
        inbs = np.zeros(pre.shape, dtype=bool)
        inbs[rows, cols] = ok_pts
        g = np.where(inbs, t[None, :] - fly_t, -np.inf)
        with np.errstate(invalid="ignore"):
            passed = g.max(axis=1) >= l0
        reason = np.where(passed, k + 3, reason).astype(np.int8)
    gmax = g.max(axis=1)
    with np.errstate(invalid="ignore"):
        slack = np.where(np.isfinite(l0), gmax - l0, -np.inf)
    feasible = slack >= 0.0
    reason = np.where(feasible, 0, reason).astype(np.int8)
    shots: list[Intercepts] = []
    first_launch = _first_launch(
        sample, fan, g, inbs, np.where(feasible, l0, np.nan), gmax, track, kv
    )
    launch = first_launch
    count = np.zeros(n, dtype=np.int64)
    for _ in range(max_shots):  # loop over shots, vectorised over threats
        shot = _intercept_at(sample, fan, g, inbs, launch, track=track, kv=kv)
        ok = _credited(shot, kv)
        if not ok.any():
            if not shots:
                shots.append(shot)
            break
        shots.append(shot)
        count += ok
        launch = np.where(ok, shot.time + kill_assessment, np.nan)
    j = np.argmax(g, axis=1)
    last_launch = np.where(feasible, gmax, np.nan)
    last = _intercept_at(sample, fan, g, inbs, last_launch, exact_index=j, track=track, kv=kv)
    return Engagement(
        earliest_launch=l0.copy(),
        feasible=feasible,
        first_launch=first_launch,
        last_launch=last_launch,
        slack=slack,
        shot_opportunities=count,
        shots=tuple(shots),
        last=last,
        latest_launch=g,
        reason=reason,
    )


def _credited(shot: Intercepts, kv: Interceptor) -> BoolArray:
    """Whether each shot's intercept passes the kill-vehicle rules on its own fire solution."""
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.isfinite(shot.time)
            & (shot.closing_speed >= kv.min_closing_speed)
            & (np.pi - shot.crossing_angle <= kv.max_crossing_angle)
            & in_seeker_view(
                shot.pip_error_acquisition, shot.closing_speed, shot.time_to_go, kv.seeker_fov
            )
            & (shot.divert_required <= kv.divert)
        )


def _first_launch(
    sample: TrajectorySample,
    fan: FlyoutFan,
    g: FloatArray,
    inbs: BoolArray,
    l0: FloatArray,
    gmax: FloatArray,
    track: FireControlInfo | None,
    kv: Interceptor,
) -> FloatArray:
    """Earliest launch ≥ ``l0`` whose own fire solution (data held at that launch) lets the
    kill vehicle remove the PIP error of its first intercept: bisection between ``l0`` and the
    last launch ``gmax`` (which passes by construction), vectorised over threats; NaN rows
    stay NaN. A later launch holds more track data, so the commit waits for the track."""
    if track is None:
        return l0
    ok = _credited(_intercept_at(sample, fan, g, inbs, l0, track=track, kv=kv), kv)
    lo, hi = l0.copy(), np.where(ok, l0, gmax)
    todo = np.isfinite(l0) & ~ok
    for _ in range(_LAUNCH_STEPS if todo.any() else 0):  # bisection steps, batched
        mid = np.where(todo, 0.5 * (lo + hi), np.nan)
        good = _credited(_intercept_at(sample, fan, g, inbs, mid, track=track, kv=kv), kv)
        hi = np.where(todo & good, mid, hi)
        lo = np.where(todo & ~good, mid, lo)
    return np.where(np.isfinite(l0), hi, np.nan)


def _intercept_at(
    sample: TrajectorySample,
    fan: FlyoutFan,
    g: FloatArray,
    inbs: BoolArray,
    launch: FloatArray,
    exact_index: NDArray[np.intp] | None = None,
    *,
    track: FireControlInfo | None = None,
    kv: Interceptor | None = None,
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
    closing, angle = closing_and_crossing(r, v, q.v_ecef)
    pip_c, pip_a, t_go, dv = kill_vehicle_quantities(
        track, kv or fan.interceptor, rows, tstar, tstar - q.time, q.time - q.cutoff, v - q.v_ecef
    )
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
        pip_error_commit=m(pip_c),
        pip_error_acquisition=m(pip_a),
        time_to_go=m(t_go),
        divert_required=m(dv),
    )


@dataclass(frozen=True)
class ArchitectureEngagement:
    """Result of :func:`engage_architecture` for N threats and B batteries.

    Per threat (N,): the battery chosen (−1: none) and its first shot; times [s] after the
    threat's launch, altitude [m], speed [m/s], angle [rad]; NaN where infeasible.
    """

    feasible: BoolArray
    battery: NDArray[np.intp]
    first_launch: FloatArray
    last_launch: FloatArray
    intercept_time: FloatArray
    intercept_altitude: FloatArray
    closing_speed: FloatArray
    crossing_angle: FloatArray
    shots: NDArray[np.int64]  # shot opportunities of the chosen battery (inventory-capped)
    slack: FloatArray  # best slack over the batteries [s] (−inf: no battle space)
    cue_time: FloatArray  # commit time [s]
    cue_sensor: NDArray[np.intp]  # sensor index whose data allowed the commit (−1: none)
    detection: FloatArray  # (N, S) first detection by each sensor [s]
    earliest_launch: FloatArray  # (N, B) [s]
    per_battery: tuple[Engagement, ...]  # the full engagement by each battery
    # Kill-vehicle quantities of the chosen battery's first shot (NaN where infeasible):
    pip_error_commit: FloatArray | None = None  # 95 % PIP miss radius at commit [m]
    pip_error_acquisition: FloatArray | None = None  # ... at seeker acquisition [m]
    time_to_go: FloatArray | None = None  # seeker acquisition → intercept [s]
    divert_required: FloatArray | None = None  # Δv used [m/s]
    divert_budget: FloatArray | None = None  # the chosen battery's kill-vehicle budget [m/s]
    reason: NDArray[np.int8] | None = None  # index into REASONS (best over the batteries)

    @property
    def reason_text(self) -> tuple[str, ...]:
        """:data:`REASONS` of each threat."""
        r = self.reason if self.reason is not None else np.zeros(self.feasible.size, np.int8)
        return tuple(REASONS[int(k)] for k in r)


def flyout_fans(architecture: Architecture) -> tuple[FlyoutFan, ...]:
    """The fly-out fan of every battery (``flyout_fan`` caches one per interceptor and site)."""
    return tuple(flyout_fan(b.interceptor, b.lat, b.lon) for b in architecture.batteries)


def engage_architecture(
    sample: TrajectorySample,
    architecture: Architecture,
    *,
    fans: Sequence[FlyoutFan] | None = None,
    rng: np.random.Generator | None = None,
    burnout_time: ArrayLike | None = None,
    detection_cache: dict[Any, Any] | None = None,
    raid: bool = False,
) -> ArchitectureEngagement:
    """Detect, cue, commit and engage N sampled threats with every battery of ``architecture``.

    The one place the chain is wired. Each threat is engaged by the battery whose first
    shot (at its earliest launch) intercepts earliest. Loops run over sensors and batteries
    only; every step is batched over threats.

    Parameters
    ----------
    sample : TrajectorySample
        N threats at common times (T,).
    architecture : Architecture
        Batteries, sensors with roles and the command rules.
    fans : sequence of FlyoutFan, optional
        One per battery, in order (default: built and cached by :func:`flyout_fans`).
    rng : numpy.random.Generator, optional
        Feeds the sensors' measurement noise (not used by threshold detection).
    burnout_time : array_like, (N,), optional
        Threat burnout [s]; default: the end of the last thrusting sample.
    detection_cache : dict, optional
        Shared by calls on the *same* ``sample`` (several architectures): each sensor is
        evaluated once (see :func:`_detect`).
    raid : bool
        The N threats fly at once: a radar holds at most its track capacity of them
        (:func:`openbmd.firecontrol.within_capacity`); default: each threat alone.
    """
    n = sample.r_ecef.shape[0]
    bats = architecture.batteries
    fans = tuple(fans) if fans is not None else flyout_fans(architecture)
    if len(fans) != len(bats):
        raise InputError(f"fans: {len(fans)} given for {len(bats)} batteries")
    if burnout_time is None:
        t = np.asarray(sample.t, dtype=float)
        last = np.where(sample.thrusting, t[None, :], -np.inf).max(axis=1)
        dt = float(t[1] - t[0]) if t.size > 1 else 0.0
        burnout_time = np.where(np.isfinite(last), last + dt, 0.0)
    sens = architecture.sensors
    dets = _detect(sample, [s.sensor for s in sens], [s.rcs for s in sens], rng, detection_cache)
    det = np.stack([d.first_detection_time for d in dets], axis=-1) if dets else np.empty((n, 0))
    commit, cue_sensor, start = _commit(det, architecture)
    fc = [s.role == "fire-control" for s in sens]
    looks = []
    t = np.asarray(sample.t, dtype=float)
    bo = np.broadcast_to(np.asarray(burnout_time, dtype=float), (n,))
    for k, (s, d) in enumerate(zip(sens, dets, strict=True)):  # loop over sensors only
        with np.errstate(invalid="ignore"):  # NaN start: never tracked
            lk = d.detected & (t[None, :] >= np.fmax(start[:, k], bo)[:, None])
        if raid and s.track_capacity is not None:
            lk = within_capacity(lk, t, s.track_capacity)
        looks.append(lk)
    track = fire_control_info(
        t, sample.r_ecef, [s.sensor for s in sens], looks, architecture.latencies(), fc,
        [_may_commit(s.role, architecture.rules.commit) for s in sens],
    )  # fmt: skip
    res: list[Engagement] = []
    for b, fan in zip(bats, fans, strict=True):  # loop over batteries only
        l0 = commit + architecture.decision_delay(b)
        ka = architecture.rules.kill_assessment
        res.append(
            engage(
                sample, burnout_time, fan, l0, ka, max_shots=b.max_shots, track=track,
                limits=b.interceptor,
            )
        )  # fmt: skip
    nan = np.full(n, np.nan)
    if not res:
        return ArchitectureEngagement(
            np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.intp), nan, nan, nan, nan,
            nan, nan, np.zeros(n, dtype=np.int64), np.full(n, -np.inf), commit, cue_sensor,
            det, np.empty((n, 0)), (), nan, nan, nan, nan, nan,
            np.where(np.isfinite(commit), 2, 1).astype(np.int8),
        )  # fmt: skip
    t_first = np.stack([np.where(r.feasible, r.first.time, np.inf) for r in res])  # (B, N)
    pick = np.argmin(t_first, axis=0)
    feasible = np.isfinite(t_first[pick, np.arange(n)])
    rows = np.arange(n)

    def sel(get: Any) -> Any:
        return np.stack([get(r) for r in res])[pick, rows]

    return ArchitectureEngagement(
        feasible=feasible,
        battery=np.where(feasible, pick, -1).astype(np.intp),
        first_launch=np.where(feasible, sel(lambda r: r.first_launch), np.nan),
        last_launch=np.where(feasible, sel(lambda r: r.last_launch), np.nan),
        intercept_time=np.where(feasible, sel(lambda r: r.first.time), np.nan),
        intercept_altitude=np.where(feasible, sel(lambda r: r.first.altitude), np.nan),
        closing_speed=np.where(feasible, sel(lambda r: r.first.closing_speed), np.nan),
        crossing_angle=np.where(feasible, sel(lambda r: r.first.crossing_angle), np.nan),
        shots=np.where(feasible, sel(lambda r: r.shot_opportunities), 0).astype(np.int64),
        slack=np.max(np.stack([r.slack for r in res]), axis=0),
        cue_time=commit,
        cue_sensor=cue_sensor,
        detection=det,
        earliest_launch=np.stack([r.earliest_launch for r in res], axis=1),
        per_battery=tuple(res),
        pip_error_commit=np.where(feasible, sel(lambda r: r.first.pip_error_commit), np.nan),
        pip_error_acquisition=np.where(
            feasible, sel(lambda r: r.first.pip_error_acquisition), np.nan
        ),
        time_to_go=np.where(feasible, sel(lambda r: r.first.time_to_go), np.nan),
        divert_required=np.where(feasible, sel(lambda r: r.first.divert_required), np.nan),
        divert_budget=np.where(
            feasible, np.array([b.interceptor.divert for b in bats])[pick], np.nan
        ),
        # the battery that came closest: the furthest rule passed (never tracked = 1 is lowest)
        reason=np.where(feasible, 0, np.max(np.stack([r.reason for r in res]), axis=0)).astype(
            np.int8
        ),
    )
