"""The root-finders under :func:`openbmd.targeting.aim`: kick angle, cut-off and azimuth.

Each solver flies a whole batch per iteration (:func:`openbmd.trajectory.fly`) and brackets
its unknown per row, so a batch of shots converges together; :mod:`openbmd.targeting` picks
which one a trajectory shape needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd import earth
from openbmd.constants import DEG, GM_EARTH
from openbmd.errors import ConvergenceError, OutOfRangeError
from openbmd.trajectory import EarthModel, Guidance, StepSizes, Trajectory, fly

FloatArray = NDArray[np.float64]
KICK_MIN = 0.5 * DEG
KICK_MAX = 75.0 * DEG


def repeat(batch: Any, k: int) -> Any:
    """Repeat every missile of a MissileBatch k times (row i*k + j is missile i)."""
    fields = {f: getattr(batch, f) for f in batch.__dataclass_fields__}
    out = {
        f: (np.repeat(v, k, axis=0) if isinstance(v, np.ndarray) else v * k)
        for f, v in fields.items()
    }
    return type(batch)(**out)


def newton_full_burn(
    fly_rep: Callable[[FloatArray, FloatArray, FloatArray, int], Trajectory],
    az: FloatArray,
    kick: FloatArray,
    cut: FloatArray,
    k_lo: FloatArray,
    k_hi: FloatArray,
    alat: FloatArray,
    alon: FloatArray,
    tolerance: float,
    max_iter: int = 30,
) -> tuple[FloatArray, FloatArray]:
    """Launch azimuth and kick [rad] of a shot with cut-off ``cut`` that lands on the aimpoint.

    ``fly_rep(az, kick, cut, k)`` flies the batch with every row repeated ``k`` times.

    Newton's method on the impact offset (east, north) [m] in the aimpoint's tangent plane,
    with a finite-difference Jacobian (each iteration flies the batch three times at once),
    steps limited and the kick kept on its branch ``[k_lo, k_hi]`` (``k_lo`` may be 0). The
    unknowns are the kick as a vector, ``kick · (sin az, cos az)`` (east, north): smooth
    through a vertical shot, where azimuth and kick are singular — the steep lofted shots to
    short ranges live there (a full-burn ICBM drifts hundreds of km with the Earth's rotation
    on its way up and down, so the shot to a near target may have to kick away from it).
    """
    p_aim = earth.geodetic2ecef(alat, alon, 0.0)
    sl, cl, so, co = np.sin(alat), np.cos(alat), np.sin(alon), np.cos(alon)
    basis = np.stack(
        [np.stack([-so, co, np.zeros_like(so)], -1), np.stack([-sl * co, -sl * so, cl], -1)], -2
    )  # (n, 2, 3): east, north

    def offset(traj: Trajectory, k: int) -> FloatArray:
        ilat, ilon = traj.impact_geodetic()
        d = earth.geodetic2ecef(ilat, ilon, 0.0) - np.repeat(p_aim, k, axis=0)
        return np.einsum("nij,nj->ni", np.repeat(basis, k, axis=0), d)

    def polar(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return np.arctan2(x, y), np.hypot(x, y)

    n = az.size
    kx, ky = kick * np.sin(az), kick * np.cos(az)
    d = 2e-5  # [rad] finite-difference step of each kick component
    reach = 0.25 * (k_hi - k_lo)  # the longest step [rad]
    for _ in range(max_iter):
        a3, k3 = polar(
            np.stack([kx, kx + d, kx], -1).ravel(), np.stack([ky, ky, ky + d], -1).ravel()
        )
        f = offset(fly_rep(a3, k3, np.repeat(cut, 3), 3), 3).reshape(n, 3, 2)
        f0 = f[:, 0]
        miss = np.linalg.norm(f0, axis=-1)
        done = miss < 0.5 * tolerance
        if np.all(done):
            break
        jac = np.stack([(f[:, 1] - f0) / d, (f[:, 2] - f0) / d], -1)  # (n, 2, 2)
        ok = np.isfinite(jac).all(axis=(1, 2)) & (np.abs(np.linalg.det(jac)) > 0.0)
        ok &= np.isfinite(f0).all(axis=-1)
        jac = np.where(ok[:, None, None], jac, np.eye(2))
        step = -np.linalg.solve(jac, np.where(ok[:, None], f0, 0.0)[..., None])[..., 0]
        # near the vertical the impact moves fastest with the kick: steps there stay short
        size = np.linalg.norm(step, axis=-1)
        cap = np.minimum(reach, 0.5 * np.hypot(kx, ky) + 0.25 * DEG)
        step *= np.minimum(1.0, cap / np.maximum(size, 1e-300))[:, None]
        upd = ~done & ok
        nx, ny = kx + step[:, 0], ky + step[:, 1]
        # back onto the branch: the kick's size within [k_lo, k_hi], its direction kept
        mag = np.hypot(nx, ny)
        fit = np.clip(mag, k_lo, k_hi) / np.where(mag > 0.0, mag, 1.0)
        kx, ky = np.where(upd, nx * fit, kx), np.where(upd, ny * fit, ky)
    az_out, kick_out = polar(kx, ky)
    # (near the aimpoint's antipode the tangent-plane offset is small too: aim checks the
    # final miss on the surface)
    miss = np.linalg.norm(offset(fly_rep(az_out, kick_out, cut, 1), 1), axis=-1)
    if not np.all(miss < tolerance):
        raise ConvergenceError(
            f"aim: the full-burn shot missed by {np.nanmax(miss) / 1e3:.1f} km after "
            f"{max_iter} Newton steps"
        )
    return az_out, kick_out


def wrap(a: FloatArray) -> FloatArray:
    return (a + np.pi) % (2.0 * np.pi) - np.pi


def solve(
    fun: Callable[[FloatArray], FloatArray],
    lo: FloatArray,
    hi: FloatArray,
    scale: FloatArray,
    tolerance: float,
    max_iter: int = 40,
    overshoot_at_lo: bool = False,
) -> FloatArray:
    """Batched Illinois regula falsi for fun(x) = 0 with fun(lo), fun(hi) of opposite signs.

    ``fun`` may drift slightly between calls (the aim loop corrects the azimuth as it goes):
    when a bracket collapses without meeting the tolerance, both ends are re-evaluated around
    the current estimate, widening until they bracket the root again. ``overshoot_at_lo``:
    a row whose both ends overshoot (``fun > 0``) returns ``lo`` as a starting point for a
    solver that can go beyond it, instead of raising.
    """
    lo0, hi0 = lo.astype(float).copy(), hi.astype(float).copy()
    lo, hi = lo0.copy(), hi0.copy()
    f_lo, f_hi = fun(lo), fun(hi)
    # an end that already meets the tolerance is a root (e.g. the full burn of a lofted shot
    # at the edge of the apogee range), even without a sign change
    at_lo, at_hi = np.abs(f_lo) < tolerance, np.abs(f_hi) < tolerance
    fixed = (f_lo > 0.0) & (f_hi > 0.0) & overshoot_at_lo
    at_lo |= fixed
    at_hi &= ~fixed
    unbracketed = (np.sign(f_lo) == np.sign(f_hi)) & ~at_lo & ~at_hi
    if np.any(unbracketed):
        bad = int(np.flatnonzero(unbracketed)[0])
        reach = (scale[bad] + f_lo[bad]) / 1e3, (scale[bad] + f_hi[bad]) / 1e3
        raise OutOfRangeError(
            field="target",
            message=f"the aimpoint is {scale[bad] / 1e3:.0f} km away, outside what this "
            f"trajectory shape reaches once the launch azimuth allows for the Earth's rotation "
            f"({min(reach):.0f}-{max(reach):.0f} km)",
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        x = lo - f_lo * (hi - lo) / (f_hi - f_lo)
    x = np.where(at_hi, hi, np.where(at_lo, lo, x))
    side = np.zeros(lo.shape, dtype=int)
    width = 1e-3 * (hi0 - lo0)
    for _ in range(max_iter):
        fx = fun(x)
        done = (np.abs(fx) < tolerance) | fixed
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


def min_energy_kick(
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
    big = repeat(batch, k)
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

    cut = solve(range_error, t_lo, big.total_burn.copy(), dist_k, 2e3)
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


def solve_apogee_kick(
    fly_rep: Callable[[FloatArray, FloatArray, FloatArray, int], Trajectory],
    range_error: Callable[[Trajectory], FloatArray],
    flight: Callable[..., Trajectory],
    state: dict[str, Any],
    az_lofted: FloatArray,
    kick_lofted: FloatArray,
    kick_min_energy: FloatArray,
    apogee: FloatArray,
    dist: FloatArray,
    batch: Any,
    alat: FloatArray,
    alon: FloatArray,
    tolerance: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Azimuth, kick and cut-off [rad, rad, s] of the shot to the range with the given apogee.

    The shots that reach the range span the thrust cut-off time from the minimum-energy one
    (lowest apogee) to burnout — the full-burn lofted shot ``(az_lofted, kick_lofted)``, the
    highest apogee at this range, since no energy is thrown away. The search runs over the
    cut-off time (apogee rises smoothly with it), solving for each cut-off the lofted-branch
    azimuth and kick in ``[KICK_MIN, kick_min_energy]`` that land on the aimpoint (Newton,
    :func:`newton_full_burn`). Searching over the kick instead is ill-conditioned: for a
    liquid ICBM at 1,000 km the apogee halves within 0.2° of the full-burn kick. The limit
    quoted on failure is the full-burn lofted apogee.
    """
    t_lo = batch.vertical_time + batch.kick_time + 5.0
    t_full = batch.total_burn.copy()
    k_lo = np.zeros(dist.shape)  # down to a vertical launch (see newton_full_burn)
    cut_me = solve(
        lambda tc: range_error(flight(kick_min_energy, tc)), t_lo, t_full, dist, 2.0 * tolerance
    )
    lo_apo = flight(kick_min_energy, cut_me).events.apogee_alt
    az_me = state["az"].copy()  # the azimuth the range solve settled on
    hi_apo = fly_rep(az_lofted, kick_lofted, t_full, 1).events.apogee_alt
    bad = (apogee > hi_apo + 1e3) | (apogee < lo_apo - 1e3)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise OutOfRangeError(
            field="apogee",
            message=f"{apogee[i] / 1e3:.0f} km is not reachable at this range; a lofted shot can "
            f"reach apogees of {lo_apo[i] / 1e3:.0f}-{hi_apo[i] / 1e3:.0f} km (the upper limit "
            f"is the full-burn lofted apogee)",
        )
    # Newton starts from the kick vector interpolated between the two ends of the cut-off
    # range (the minimum-energy and the full-burn shot): the lofted root runs continuously
    # between them, while from the full burn's far-off kick Newton can fall onto the other
    # branch when the cut-off is near the minimum-energy one.
    v_full = kick_lofted * np.stack([np.sin(az_lofted), np.cos(az_lofted)])
    v_me = kick_min_energy * np.stack([np.sin(az_me), np.cos(az_me)])

    def aimed(tc: FloatArray) -> tuple[FloatArray, FloatArray]:
        w = np.clip((tc - cut_me) / np.where(t_full > cut_me, t_full - cut_me, 1.0), 0.0, 1.0)
        v = w * v_full + (1.0 - w) * v_me
        # The bound leaves half a degree beyond the minimum-energy kick: at that cut-off the
        # two branches meet, and its shot was solved only to the range tolerance.
        return newton_full_burn(
            fly_rep, np.arctan2(v[0], v[1]), np.hypot(v[0], v[1]), tc, k_lo,
            kick_min_energy + 0.5 * DEG, alat, alon, tolerance,
        )  # fmt: skip

    def apogee_error(tc: FloatArray) -> FloatArray:
        a, k = aimed(tc)
        return fly_rep(a, k, tc, 1).events.apogee_alt - apogee

    tc = solve(apogee_error, cut_me, t_full, apogee, 1e3)
    a, k = aimed(tc)
    return a, k, tc
