"""Aiming ballistic missiles: trajectory shapes and maximum range.

:func:`aim` solves, for a batch of missiles, launch points and aimpoints on the rotating
Earth, the launch azimuth and pitch program (kick angle, thrust cut-off) that put the impact
within a tolerance of the aimpoint, for three shapes:

``min-energy``
    The least burnout energy that reaches the aimpoint: the kick angle that maximises range
    for the burnout energy, with thrust cut off (energy management) once the range is met.
``lofted`` / ``depressed``
    Full burn; the steeper (smaller kick) or flatter (larger kick) of the two paths that reach
    the range. With an apogee given, a lofted shot instead cuts thrust so that both the range
    and the apogee are met.

Every iteration flies the whole batch at once (:func:`openbmd.trajectory.fly`); the azimuth
is corrected by the angle between the aimpoint and the impact seen from the launch point.

Free flight (closed form and numeric) lives in :mod:`openbmd.freeflight`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd.constants import DEG, GM_EARTH
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
KICK_MIN = 0.5 * DEG
KICK_MAX = 75.0 * DEG


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
        big = _repeat(batch, k)
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


def _repeat(batch: Any, k: int) -> Any:
    """Repeat every missile of a MissileBatch k times (row i*k + j is missile i)."""
    fields = {f: getattr(batch, f) for f in batch.__dataclass_fields__}
    out = {
        f: (np.repeat(v, k, axis=0) if isinstance(v, np.ndarray) else v * k)
        for f, v in fields.items()
    }
    return type(batch)(**out)


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
    batch = stack(ms)
    state = {"az": az0.copy()}

    def flight(kick: FloatArray, cutoff: FloatArray, record: bool = False) -> Trajectory:
        return fly(batch, lat, lon, Guidance(state["az"], kick, cutoff), model, steps, record)

    def range_error(traj: Trajectory) -> FloatArray:
        # Correct the azimuth by where the impact fell, then report the downrange error.
        ilat, ilon = traj.impact_geodetic()
        d, az_imp = surface_distance(lat, lon, ilat, ilon, model)
        # Only a shot that lands near the right distance says how the azimuth should move
        # (rotation bends short and long shots differently).
        near = np.abs(d - dist) < 0.05 * dist
        state["az"] = np.where(near, state["az"] + _wrap(az0 - az_imp), state["az"])
        return np.nan_to_num(d, nan=0.0) - dist

    full = np.full(n, np.inf)
    t_lo = batch.vertical_time + batch.kick_time + 5.0
    if shape == "min-energy" or apogee is not None:
        kick = _min_energy_kick(batch, lat, lon, az0, dist, mr.kick_angle, model, steps)
        if apogee is not None:
            target_apo = np.broadcast_to(np.asarray(apogee, dtype=float), (n,))
            # The full-burn lofted kick gives the highest apogee at this range, the
            # minimum-energy kick the lowest; energy management spans what lies between.
            k_loft = _solve(
                lambda k: range_error(flight(k, full)),
                np.full(n, KICK_MIN),
                mr.kick_angle.copy(),
                dist,
                tolerance,
            )
            kick = _solve_apogee_kick(
                flight, range_error, k_loft + 0.2 * DEG, kick, target_apo, dist, batch
            )

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

    x = _solve(control, lo0, hi0, dist, tolerance)

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
            x = _solve(
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
    guidance = Guidance(state["az"].copy(), guidance_kick, guidance_cut)
    return AimSolution(guidance, traj, alat, alon, miss, shape)


def _wrap(a: FloatArray) -> FloatArray:
    return (a + np.pi) % (2.0 * np.pi) - np.pi


def _solve(
    fun: Callable[[FloatArray], FloatArray],
    lo: FloatArray,
    hi: FloatArray,
    scale: FloatArray,
    tolerance: float,
    max_iter: int = 40,
) -> FloatArray:
    """Batched Illinois regula falsi for fun(x) = 0 with fun(lo), fun(hi) of opposite signs.

    ``fun`` may drift slightly between calls (the aim loop corrects the azimuth as it goes):
    when a bracket collapses without meeting the tolerance, both ends are re-evaluated around
    the current estimate, widening until they bracket the root again.
    """
    lo0, hi0 = lo.astype(float).copy(), hi.astype(float).copy()
    lo, hi = lo0.copy(), hi0.copy()
    f_lo, f_hi = fun(lo), fun(hi)
    if np.any(np.sign(f_lo) == np.sign(f_hi)):
        bad = int(np.flatnonzero(np.sign(f_lo) == np.sign(f_hi))[0])
        reach = (scale[bad] + f_lo[bad]) / 1e3, (scale[bad] + f_hi[bad]) / 1e3
        raise OutOfRangeError(
            field="target",
            message=f"the aimpoint is {scale[bad] / 1e3:.0f} km away, outside what this "
            f"trajectory shape reaches once the launch azimuth allows for the Earth's rotation "
            f"({min(reach):.0f}-{max(reach):.0f} km)",
        )
    x = lo - f_lo * (hi - lo) / (f_hi - f_lo)
    side = np.zeros(lo.shape, dtype=int)
    width = 1e-3 * (hi0 - lo0)
    for _ in range(max_iter):
        fx = fun(x)
        done = np.abs(fx) < tolerance
        if np.all(done):
            return x
        same_lo = np.sign(fx) == np.sign(f_lo)
        # Illinois: halve the stale end's value when the same side is kept twice.
        f_hi = np.where(same_lo & (side == 1), f_hi / 2.0, f_hi)
        f_lo = np.where(~same_lo & (side == -1), f_lo / 2.0, f_lo)
        lo, f_lo = np.where(same_lo, x, lo), np.where(same_lo, fx, f_lo)
        hi, f_hi = np.where(same_lo, hi, x), np.where(same_lo, f_hi, fx)
        side = np.where(same_lo, 1, -1)
        stalled = ~done & (hi - lo < 1e-7 * (hi0 - lo0))
        if stalled.any():
            lo = np.where(stalled, np.maximum(lo0, x - width), lo)
            hi = np.where(stalled, np.minimum(hi0, x + width), hi)
            f_lo, f_hi = fun(lo), fun(hi)
            width = np.where(stalled & (np.sign(f_lo) == np.sign(f_hi)), width * 10.0, width)
            side[:] = 0
        den = np.where(f_hi != f_lo, f_hi - f_lo, 1.0)
        x = np.where(done, x, np.clip(lo - f_lo * (hi - lo) / den, lo0, hi0))
    raise ConvergenceError(f"aim: no convergence in {max_iter} iterations")


def _min_energy_kick(
    batch: Any,
    lat: FloatArray,
    lon: FloatArray,
    az: FloatArray,
    dist: FloatArray,
    k_star: FloatArray,
    model: EarthModel,
    steps: StepSizes | None,
    k: int = 9,
) -> FloatArray:
    """Kick angle that reaches ``dist`` with the least burnout energy (thrust cut-off).

    Shorter shots want steeper burnout (γ* = 45° − Ψ/4 in the closed form), so the search
    runs from the steepest kick to a little past the full-burn maximum-range kick ``k_star``:
    for every kick on a grid the cut-off that meets the range is solved (one batch), the
    specific orbital energy at burnout v²/2 − μ/r compared, and the minimum refined by a
    parabola through its neighbours.
    """
    n = dist.size
    lo = np.full(n, KICK_MIN)
    hi = np.minimum(k_star + 2.0 * DEG, KICK_MAX)
    grid = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, k)[None, :]
    big = _repeat(batch, k)
    lat_k, lon_k, az_k, dist_k = (np.repeat(x, k) for x in (lat, lon, az, dist))
    full = fly(
        big, lat_k, lon_k, Guidance.of(n * k, az_k, grid.ravel()), model, steps, record=False
    )
    feasible = np.nan_to_num(full.ground_range(), nan=0.0) > dist_k * 1.001
    kicks = np.where(feasible, grid.ravel(), np.repeat(k_star, k))
    t_lo = big.vertical_time + big.kick_time + 5.0

    def range_error(tc: FloatArray) -> FloatArray:
        traj = fly(big, lat_k, lon_k, Guidance(az_k, kicks, tc), model, steps, record=False)
        return np.nan_to_num(traj.ground_range(), nan=0.0) - dist_k

    cut = _solve(range_error, t_lo, big.total_burn.copy(), dist_k, 2e3)
    traj = fly(big, lat_k, lon_k, Guidance(az_k, kicks, cut), model, steps, record=False)
    r, v = traj.events.burnout_r_eci, traj.events.burnout_v_eci
    energy = 0.5 * np.einsum("ij,ij->i", v, v) - GM_EARTH / np.linalg.norm(r, axis=1)
    energy = np.where(feasible, energy, np.inf).reshape(n, k)
    j = np.clip(np.argmin(energy, axis=1), 1, k - 2)
    rows = np.arange(n)
    e0, e1, e2 = energy[rows, j - 1], energy[rows, j], energy[rows, j + 1]
    step = grid[:, 1] - grid[:, 0]
    curv = e0 - 2.0 * e1 + e2
    ok = np.isfinite(curv) & (curv > 0.0)
    shift = np.where(ok, 0.5 * (e0 - e2) / np.where(ok, curv, 1.0), 0.0)
    best = grid[rows, j] + np.clip(shift, -1.0, 1.0) * step
    return np.where(np.isfinite(energy[rows, j]), best, k_star)


def _solve_apogee_kick(
    flight: Callable[..., Trajectory],
    range_error: Callable[[Trajectory], FloatArray],
    kick_lofted: FloatArray,
    kick_min_energy: FloatArray,
    apogee: FloatArray,
    dist: FloatArray,
    batch: Any,
) -> FloatArray:
    """Kick angle whose energy-managed shot to the range reaches the requested apogee."""
    t_lo = batch.vertical_time + batch.kick_time + 5.0

    def apogee_at(kick: FloatArray) -> FloatArray:
        cut = _solve(
            lambda tc: range_error(flight(kick, tc)), t_lo, batch.total_burn.copy(), dist, 500.0
        )
        return flight(kick, cut).events.apogee_alt

    hi_apo, lo_apo = apogee_at(kick_lofted), apogee_at(kick_min_energy)
    bad = (apogee > hi_apo) | (apogee < lo_apo)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise OutOfRangeError(
            field="apogee",
            message=f"{apogee[i] / 1e3:.0f} km is not reachable at this range; a lofted shot can "
            f"reach apogees of {lo_apo[i] / 1e3:.0f}-{hi_apo[i] / 1e3:.0f} km",
        )
    return _solve(lambda k: apogee_at(k) - apogee, kick_lofted, kick_min_energy, apogee, 1e3)
