"""Aiming ballistic missiles: trajectory shapes and maximum range.

:func:`aim` solves, for a batch of missiles, launch points and aimpoints on the rotating
Earth, the launch azimuth and pitch program (kick angle, thrust cut-off) that put the impact
within a tolerance of the aimpoint, for three shapes:

``min-energy``
    The least burnout energy that reaches the aimpoint: the kick angle that maximises range
    for the burnout energy, with thrust cut off (energy management) once the range is met.
    A missile that cannot cut thrust (``Missile.thrust_termination`` false: solid motors
    without ports) flies full burn instead, on the lofted or depressed branch whose kick is
    nearer the minimum-energy kick.
``lofted`` / ``depressed``
    Full burn; the steeper (smaller kick) or flatter (larger kick) of the two paths that reach
    the range. With an apogee given, a lofted shot instead cuts thrust so that both the range
    and the apogee are met.

Every iteration flies the whole batch at once (:func:`openbmd.trajectory.fly`); the azimuth
is corrected by the angle between the aimpoint and the impact seen from the launch point.

Free flight (closed form and numeric) lives in :mod:`openbmd.freeflight`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd.aim_solvers import (
    KICK_MAX,
    KICK_MIN,
    min_energy_kick,
    newton_full_burn,
    repeat,
    solve,
    solve_apogee_kick,
    wrap,
)
from openbmd.errors import ConvergenceError, InputError, OutOfRangeError
from openbmd.missiles import Missile, stack
from openbmd.trajectory import (
    EarthModel,
    Guidance,
    StepSizes,
    Trajectory,
    fly,
    surface_distance,
)

FloatArray = NDArray[np.float64]

SHAPES = ("min-energy", "lofted", "depressed")
BEHIND_MAX = 5.0e6  # [m] impacts this close that fall behind the launch point count as negative


@dataclass(frozen=True)
class MaxRange:
    """Maximum range per (missile, launch, azimuth): range [m], kick angle [rad], trajectory."""

    range: FloatArray
    kick_angle: FloatArray
    trajectory: Trajectory


@dataclass(frozen=True)
class AimSolution:
    """An aimed batch: the guidance found, the flown trajectory and the miss [m]."""

    guidance: Guidance
    trajectory: Trajectory
    aim_lat: FloatArray
    aim_lon: FloatArray
    miss: FloatArray
    shape: str


def _as_batch(missiles: Missile | Sequence[Missile], n: int | None = None) -> list[Missile]:
    ms = [missiles] if isinstance(missiles, Missile) else list(missiles)
    if n is not None and len(ms) == 1:
        ms = ms * n
    return ms


def _broadcast(n: int, *xs: Any) -> list[FloatArray]:
    return [np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy() for x in xs]


def max_range(
    missiles: Missile | Sequence[Missile],
    launch_lat: Any,
    launch_lon: Any,
    azimuth: Any,
    model: EarthModel | None = None,
    steps: StepSizes | None = None,
) -> MaxRange:
    """Full-burn maximum ground range for each (missile, launch point, azimuth).

    The kick angle is searched on a grid, then twice on finer grids around the best value
    (range is flat at its maximum, so ~0.1° resolution leaves < 0.01 % of range).
    """
    lat = np.atleast_1d(np.asarray(launch_lat, dtype=float))
    ms = _as_batch(missiles, lat.size if lat.size > 1 else None)
    n = len(ms)
    lat, lon, az = _broadcast(n, launch_lat, launch_lon, azimuth)
    batch = stack(ms)
    lo, hi = np.full(n, KICK_MIN), np.full(n, KICK_MAX)
    best_k = np.zeros(n)
    for k in (13, 7, 7):
        grid = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, k)[None, :]
        big = repeat(batch, k)
        traj = fly(
            big,
            np.repeat(lat, k),
            np.repeat(lon, k),
            Guidance.of(n * k, np.repeat(az, k), grid.ravel()),
            model,
            steps,
            record=False,
        )
        rng = np.nan_to_num(traj.ground_range(), nan=-1.0).reshape(n, k)
        j = np.argmax(rng, axis=1)
        best_k = grid[np.arange(n), j]
        step = (hi - lo) / (k - 1)
        lo, hi = np.maximum(best_k - step, KICK_MIN), np.minimum(best_k + step, KICK_MAX)
    final = fly(batch, lat, lon, Guidance.of(n, az, best_k), model, steps, record=True)
    return MaxRange(final.ground_range(), best_k, final)


#: A solved shot missing by more than this [m] is reported as not converged, never returned.
MISS_MAX = 50e3


def aim(
    missiles: Missile | Sequence[Missile],
    launch_lat: Any,
    launch_lon: Any,
    aim_lat: Any,
    aim_lon: Any,
    shape: str = "min-energy",
    apogee: Any = None,
    model: EarthModel | None = None,
    steps: StepSizes | None = None,
    tolerance: float = 200.0,
    max_iter: int = 30,
) -> AimSolution:
    """Find azimuth and pitch program so each missile lands on its aimpoint.

    Parameters
    ----------
    missiles : Missile or sequence of Missile
        One per aimpoint, or a single missile for all.
    launch_lat, launch_lon, aim_lat, aim_lon : array_like (N,)
        Geodetic coordinates [rad].
    shape : {"min-energy", "lofted", "depressed"}
        Trajectory shape (see module docstring).
    apogee : array_like, optional
        Target apogee altitude [m] for a lofted shot (cuts thrust to meet it).
    tolerance : float
        Accepted miss distance [m].

    Raises
    ------
    OutOfRangeError
        If an aimpoint lies beyond the missile's maximum range (the message names it).
    """
    if shape not in SHAPES:
        raise InputError(f"shape: {shape!r} is not one of {', '.join(SHAPES)}")
    if apogee is not None and shape != "lofted":
        raise InputError("apogee: only a lofted shot takes an apogee")
    lat = np.atleast_1d(np.asarray(launch_lat, dtype=float))
    ms = _as_batch(missiles, max(lat.size, np.atleast_1d(aim_lat).size))
    n = len(ms)
    lat, lon, alat, alon = _broadcast(n, launch_lat, launch_lon, aim_lat, aim_lon)
    model = model or EarthModel()
    dist, az0 = surface_distance(lat, lon, alat, alon, model)
    mr = max_range(ms, lat, lon, az0, model, steps)
    short = dist > mr.range
    if short.any():
        i = int(np.flatnonzero(short)[0])
        raise OutOfRangeError(
            field="target",
            message=f"the aimpoint is {dist[i] / 1e3:.0f} km away, beyond the maximum range of "
            f"{ms[i].name} from this launch point in that direction "
            f"({mr.range[i] / 1e3:.0f} km)",
        )
    term = np.array([m.thrust_termination for m in ms])
    if apogee is not None and not term.all():
        i = int(np.flatnonzero(~term)[0])
        raise InputError(
            field="apogee",
            message=f"{ms[i].name} cannot cut thrust (solid motor without thrust-termination "
            f"ports), so its lofted apogee is fixed by the range; give no apogee",
        )
    if shape == "min-energy" and not term.all():
        return _aim_without_cutoff(
            ms, term, lat, lon, alat, alon, az0, dist, mr, model, steps, tolerance
        )
    batch = stack(ms)
    state = {"az": az0.copy(), "steer": np.ones(1, dtype=bool)}

    def flight(kick: FloatArray, cutoff: FloatArray, record: bool = False) -> Trajectory:
        return fly(batch, lat, lon, Guidance(state["az"], kick, cutoff), model, steps, record)

    def fly_rep(a: FloatArray, k: FloatArray, c: FloatArray, reps: int) -> Trajectory:
        b = batch if reps == 1 else repeat(batch, reps)
        la, lo = np.repeat(lat, reps), np.repeat(lon, reps)
        return fly(b, la, lo, Guidance(a, k, c), model, steps, record=False)

    def range_error(traj: Trajectory) -> FloatArray:
        # Correct the azimuth by where the impact fell, then report the downrange error.
        ilat, ilon = traj.impact_geodetic()
        d, az_imp = surface_distance(lat, lon, ilat, ilon, model)
        # Only a shot that lands near the right distance says how the azimuth should move
        # (rotation bends short and long shots differently).
        near = (np.abs(d - dist) < 0.05 * dist) & state["steer"]
        state["az"] = np.where(near, state["az"] + wrap(az0 - az_imp), state["az"])
        # Signed downrange: a steep lofted shot flies long enough for the Earth to turn
        # hundreds of kilometres under it, so its impact can fall *behind* the launch point;
        # the unsigned distance would then grow again as the kick shrinks (two roots).
        # (Only near the launch point: beyond a quarter of the way round the azimuth to an
        # impact near the antipode says nothing about the side.)
        behind = (np.cos(wrap(az_imp - az0)) < 0.0) & (d < BEHIND_MAX)
        return np.nan_to_num(np.where(behind, -d, d), nan=0.0) - dist

    full = np.full(n, np.inf)
    t_lo = batch.vertical_time + batch.kick_time + 5.0

    def full_burn_shot(
        lo: FloatArray, hi: FloatArray, lofted: bool
    ) -> tuple[FloatArray, FloatArray]:
        # Kick and azimuth are coupled (a steep shot drifts hundreds of km with the Earth's
        # rotation whatever its azimuth): bracket the kick on the unsteered azimuth, then solve
        # both together by Newton's method on the impact offset. A lofted target nearer than
        # the shallowest bracketed kick flies (the near-vertical shots) starts there: Newton's
        # kick vector goes on down to a vertical launch.
        state["steer"][:] = False
        k = solve(
            lambda x: range_error(flight(x, full)), lo, hi, dist, 20.0 * tolerance,
            overshoot_at_lo=lofted,
        )  # fmt: skip
        state["steer"][:] = True
        floor = np.zeros(n) if lofted else lo
        return newton_full_burn(fly_rep, state["az"], k, full, floor, hi, alat, alon, tolerance)

    if shape == "min-energy" or apogee is not None:
        kick = min_energy_kick(batch, lat, lon, az0, dist, mr.kick_angle, model, steps)
        if apogee is not None:
            target_apo = np.broadcast_to(np.asarray(apogee, dtype=float), (n,))
            # The full-burn lofted kick gives the highest apogee at this range, the
            # minimum-energy kick the lowest; energy management spans what lies between.
            az_loft, k_loft = full_burn_shot(np.full(n, KICK_MIN), mr.kick_angle.copy(), True)
            az_apo, kick, cut_apo = solve_apogee_kick(
                fly_rep, range_error, flight, state, az_loft, k_loft, kick, target_apo,
                dist, batch, alat, alon, tolerance,
            )  # fmt: skip

        def control(x: FloatArray) -> FloatArray:
            return range_error(flight(kick, x))

        lo0, hi0 = t_lo, batch.total_burn.copy()
        if apogee is None:
            # Near the edge of reach the energy-optimal kick (found on the uncorrected
            # azimuth) may fall short at full burn; the maximum-range kick is the limit.
            short = control(hi0) < 0.0
            kick = np.where(short, mr.kick_angle, kick)
    else:
        lo0, hi0 = (
            (np.full(n, KICK_MIN), mr.kick_angle.copy())
            if shape == "lofted"
            else (mr.kick_angle.copy(), np.full(n, KICK_MAX))
        )

        def control(x: FloatArray) -> FloatArray:
            return range_error(flight(x, full))

    full_burn = shape != "min-energy" and apogee is None
    if full_burn:
        state["az"], x = full_burn_shot(lo0, hi0, shape == "lofted")
    elif apogee is not None:
        state["az"], x = az_apo, cut_apo
    else:
        x = solve(control, lo0, hi0, dist, tolerance)

    def fly_x(x: FloatArray) -> Trajectory:
        if shape == "min-energy" or apogee is not None:
            return flight(kick, x, record=True)
        return flight(x, full, record=True)

    traj = fly_x(x)
    ilat, ilon = traj.impact_geodetic()
    miss = surface_distance(ilat, ilon, alat, alon, model)[0]
    width = 2e-3 * (hi0 - lo0)
    for _ in range(6):  # polish: the range was met before the azimuth settled
        if np.all(miss < tolerance * 2):
            break
        range_error(traj)  # moves the azimuth onto the aimpoint
        try:
            x = solve(
                control, np.maximum(lo0, x - width), np.minimum(hi0, x + width), dist, tolerance
            )
        except OutOfRangeError:
            width = width * 5.0
            continue
        traj = fly_x(x)
        ilat, ilon = traj.impact_geodetic()
        miss = surface_distance(ilat, ilon, alat, alon, model)[0]
    if shape == "min-energy" or apogee is not None:
        guidance_kick, guidance_cut = kick, x
    else:
        guidance_kick, guidance_cut = x, full
    if not np.all(np.isfinite(miss)):
        raise ConvergenceError("aim: some trajectories did not come down; check the inputs")
    if np.any(miss > MISS_MAX):  # e.g. a Newton solve that settled near the antipode
        raise ConvergenceError(
            f"aim: a shot misses its aimpoint by {np.max(miss) / 1e3:.0f} km after the solve"
        )
    guidance = Guidance(state["az"].copy(), guidance_kick, guidance_cut)
    return AimSolution(guidance, traj, alat, alon, miss, shape)


def _aim_without_cutoff(
    ms: list[Missile],
    term: NDArray[np.bool_],
    lat: FloatArray,
    lon: FloatArray,
    alat: FloatArray,
    alon: FloatArray,
    az0: FloatArray,
    dist: FloatArray,
    mr: MaxRange,
    model: EarthModel,
    steps: StepSizes | None,
    tolerance: float,
) -> AimSolution:
    """Minimum-energy aim for a batch in which some missiles cannot cut thrust.

    Missiles with thrust termination get the energy-managed minimum-energy shot; the others
    fly full burn on the lofted or the depressed branch, whichever has its kick nearer the
    minimum-energy kick (REFERENCES §10: solid motors without ports shorten range by the
    trajectory shape, never by a cut-off). Where only one branch reaches the range for the
    whole sub-batch (the depressed kick is capped at ``KICK_MAX``) that branch is flown.
    """
    n = len(ms)
    az, kick, cut = np.empty(n), np.empty(n), np.full(n, np.inf)

    def sub(idx: NDArray[np.intp], shape: str) -> AimSolution:
        return aim(
            [ms[i] for i in idx], lat[idx], lon[idx], alat[idx], alon[idx], shape=shape,
            model=model, steps=steps, tolerance=tolerance,
        )  # fmt: skip

    idx_t, idx_s = np.flatnonzero(term), np.flatnonzero(~term)
    if idx_t.size:
        g = sub(idx_t, "min-energy").guidance
        az[idx_t], kick[idx_t], cut[idx_t] = g.azimuth, g.kick_angle, g.cutoff_time
    branch: dict[str, Guidance] = {}
    errors: list[OutOfRangeError] = []
    for shape in ("lofted", "depressed"):
        try:
            branch[shape] = sub(idx_s, shape).guidance
        except OutOfRangeError as exc:  # e.g. an SRBM whose flattest kick still overflies
            errors.append(exc)
    if not branch:
        raise OutOfRangeError(
            f"{errors[0]} — the missile cannot cut thrust (solid motor without thrust-"
            f"termination ports), so it reaches only the ranges of its full-burn lofted and "
            f"depressed shapes"
        ) from errors[0]
    lof = branch.get("lofted", branch.get("depressed"))
    dep = branch.get("depressed", lof)
    assert lof is not None and dep is not None
    k_me = min_energy_kick(
        stack([ms[i] for i in idx_s]), lat[idx_s], lon[idx_s], az0[idx_s], dist[idx_s],
        mr.kick_angle[idx_s], model, steps,
    )  # fmt: skip
    use_lof = np.abs(lof.kick_angle - k_me) <= np.abs(dep.kick_angle - k_me)
    az[idx_s] = np.where(use_lof, lof.azimuth, dep.azimuth)
    kick[idx_s] = np.where(use_lof, lof.kick_angle, dep.kick_angle)
    guidance = Guidance(az, kick, cut)
    traj = fly(stack(ms), lat, lon, guidance, model, steps, record=True)
    ilat, ilon = traj.impact_geodetic()
    miss = surface_distance(ilat, ilon, alat, alon, model)[0]
    return AimSolution(guidance, traj, alat, alon, miss, "min-energy")
