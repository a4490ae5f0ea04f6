"""The compiled integration kernel behind :func:`openbmd.trajectory.propagate`.

Each body is integrated independently (``numba.prange`` over bodies) with classical RK4, a
step chosen by flight phase and clipped to the forcing's discontinuities, and Hermite-refined
apogee and surface-crossing events. The kernel works on plain arrays; the data model lives in
:mod:`openbmd.trajectory`.

Why compiled: NumPy over the batch spends most of its time allocating temporaries for ~60
small array operations per force evaluation; a per-body compiled loop does the same
arithmetic in registers (measured in ``benchmarks/bench_trajectory.py``).

Gravity, altitude and the atmosphere table come from :mod:`openbmd.earth_jit`, the one compiled
copy that every kernel shares.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from openbmd.constants import WGS84_A
from openbmd.earth_jit import ATM_TOP, air, altitude, gravity, pressure

FloatArray = NDArray[np.float64]

# Column layout of the per-body forcing table F (N, NF).
UP, HOR, KICK, T_VERT, T_KICK, T_OFF, RV_MASS, RV_BETA, STOP_ALT, ARM = (
    0,
    3,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
)
NF = 14
# Stage table S (N, S, 7) columns (S_THRUST vacuum thrust [N], S_EXIT nozzle exit area [m²]).
S_START, S_END, S_THRUST, S_MDOT, S_GROSS, S_AREA, S_EXIT = 0, 1, 2, 3, 4, 5, 6
# Model flags / steps vector P.
P_SPHERE, P_OMEGA, P_J2, P_ATMOS, P_DT_BOOST, P_DT_REENTRY, P_DT_UPPER, P_DT_VAC = range(8)
P_ALT_REENTRY, P_ALT_VAC, P_TMAX = 8, 9, 10
NP = 11
# Event outputs E (N, NE).
E_BO_T, E_BO_R, E_BO_V, E_AP_T, E_AP_H, E_IM_T, E_IM_R, E_IM_V = 0, 1, 4, 7, 8, 9, 10, 13
NE = 16

_R_ATM2 = (WGS84_A + ATM_TOP) ** 2

_jit = numba.njit(cache=True, nogil=True, inline="always")


@_jit
def _accel(
    t: float,
    tseg: float,
    x: float,
    y: float,
    z: float,
    vx: float,
    vy: float,
    vz: float,
    ctx: tuple[FloatArray, ...],
) -> tuple[float, float, float]:
    """Inertial acceleration [m/s²] of one body.

    ``ctx`` = (f, st, cd, mach_grid, p, lnrho, sound): the body's forcing row, stage table and
    drag table, the shared Mach grid, model parameters and atmosphere tables.
    """
    f, st, cd, mach_grid, p, lnrho, sound = ctx
    r2 = x * x + y * y + z * z
    ax, ay, az = gravity(x, y, z, p[P_J2] > 0.0 and p[P_SPHERE] == 0.0)
    om = p[P_OMEGA]
    wx, wy, wz = vx + om * y, vy - om * x, vz  # velocity relative to the rotating air
    speed = math.sqrt(wx * wx + wy * wy + wz * wz)
    # Discrete choices (powered or not, which stages, which steering law) follow ``tseg``, the
    # middle of the current step: steps never straddle a break, so every RK4 stage of a step
    # sees the same side of each discontinuity — this keeps RK4 fourth-order through staging.
    powered = tseg < f[T_OFF]
    mass, thrust, area, exit_area = f[RV_MASS], 0.0, 0.0, 0.0
    if powered:
        for j in range(st.shape[0]):
            if tseg < st[j, S_END]:
                mass += st[j, S_GROSS] - max(t - st[j, S_START], 0.0) * st[j, S_MDOT]
                if tseg >= st[j, S_START]:
                    thrust += st[j, S_THRUST]
                    area += st[j, S_AREA]
                    exit_area += st[j, S_EXIT]
    if p[P_ATMOS] > 0.0 and r2 < _R_ATM2:
        rho, a_snd = air(altitude(x, y, z, p[P_SPHERE] > 0.0), lnrho, sound)
        if thrust > 0.0:  # back pressure on the nozzle exit: F(h) = F_vac - A_e p(h)
            thrust = max(thrust - exit_area * pressure(rho, a_snd), 0.0)
        if rho > 0.0:
            if powered:
                mach = speed / a_snd
                m = mach_grid.size
                k = 0
                while k < m - 2 and mach_grid[k + 1] < mach:
                    k += 1
                w = min(max((mach - mach_grid[k]) / (mach_grid[k + 1] - mach_grid[k]), 0.0), 1.0)
                c_d = cd[k] * (1.0 - w) + cd[k + 1] * w
                dv = 0.5 * rho * speed * c_d * area / mass
            else:
                dv = 0.5 * rho * speed / f[RV_BETA]
            ax -= dv * wx
            ay -= dv * wy
            az -= dv * wz
    if thrust > 0.0:
        acc = thrust / mass
        if (
            tseg >= f[T_KICK] and speed > 1.0
        ):  # gravity turn: thrust along the air-relative velocity
            ax += acc * wx / speed
            ay += acc * wy / speed
            az += acc * wz / speed
        else:  # vertical rise, then a linear tilt toward the kick angle (Earth-fixed attitude)
            span = f[T_KICK] - f[T_VERT]
            frac = min(max((t - f[T_VERT]) / span, 0.0), 1.0) if span > 0.0 else 1.0
            tilt = f[KICK] * frac
            ct, stl = math.cos(tilt), math.sin(tilt)
            dx = ct * f[UP] + stl * f[HOR]
            dy = ct * f[UP + 1] + stl * f[HOR + 1]
            dz = ct * f[UP + 2] + stl * f[HOR + 2]
            c, s = math.cos(om * t), math.sin(om * t)
            ax += acc * (c * dx - s * dy)
            ay += acc * (s * dx + c * dy)
            az += acc * dz
    return ax, ay, az


@_jit
def _hermite(
    r0: FloatArray,
    v0: FloatArray,
    r1: FloatArray,
    v1: FloatArray,
    h: float,
    s: float,
    out_r: FloatArray,
    out_v: FloatArray,
) -> None:
    s2, s3 = s * s, s * s * s
    h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
    d00, d10, d01, d11 = 6 * s2 - 6 * s, 3 * s2 - 4 * s + 1, -6 * s2 + 6 * s, 3 * s2 - 2 * s
    for c in range(3):
        out_r[c] = h00 * r0[c] + h10 * h * v0[c] + h01 * r1[c] + h11 * h * v1[c]
        out_v[c] = (d00 * r0[c] + d01 * r1[c]) / h + d10 * v0[c] + d11 * v1[c]


# error_model="numpy" (IEEE inf/NaN, no ZeroDivisionError checks) is what the body had when it
# was compiled inside the parallel loop: numba builds parfor bodies with it. ~5 % faster.
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fly_one(
    i: np.int64,
    r0: FloatArray,
    v0: FloatArray,
    t0: FloatArray,
    F: FloatArray,
    ST: FloatArray,
    CD: FloatArray,
    mach_grid: FloatArray,
    breaks: FloatArray,
    P: FloatArray,
    lnrho: FloatArray,
    sound: FloatArray,
    record: bool,
    hist_t: FloatArray,
    hist_r: FloatArray,
    hist_v: FloatArray,
    E: FloatArray,
    count: NDArray[np.int64],
) -> None:
    """Integrate body ``i`` of :func:`integrate`'s arrays (same arguments) in place."""
    sphere = P[P_SPHERE] > 0.0
    f, st, cd = F[i], ST[i], CD[i]
    ctx = (f, st, cd, mach_grid, P, lnrho, sound)
    r = r0[i].copy()
    v = v0[i].copy()
    rn, vn, rp, vp = np.empty(3), np.empty(3), np.empty(3), np.empty(3)
    kv, ka = np.empty((4, 3)), np.empty((4, 3))  # RK4 stage velocities, accelerations
    t = t0[i]
    for c in range(NE):
        E[i, c] = np.nan
    if t < f[T_OFF]:
        E[i, E_BO_T] = f[T_OFF]
    k = 0
    if record:
        hist_t[i, 0] = t
        hist_r[i, 0] = r
        hist_v[i, 0] = v
    k = 1
    alt = altitude(r[0], r[1], r[2], sphere)
    rv = r[0] * v[0] + r[1] * v[1] + r[2] * v[2]
    while True:
        powered = t < f[T_OFF]
        if powered:
            dt = P[P_DT_BOOST]
        elif alt < P[P_ALT_REENTRY]:
            dt = P[P_DT_REENTRY]
        elif alt < P[P_ALT_VAC]:
            dt = P[P_DT_UPPER]
        else:
            dt = P[P_DT_VAC]
        t_end = t + dt
        for b in range(breaks.shape[1]):
            tb = breaks[i, b]
            # Land exactly on the next break (a step that would end within 1 µs past it
            # too, so rounding never leaves a sliver step straddling a discontinuity).
            if tb > t + 1e-7 and tb < t_end + 1e-6:
                t_end = tb
        dt = t_end - t
        tm = t + 0.5 * dt
        # The four RK4 stages run as one loop so that the inlined force model is compiled once,
        # not four times. Stage q > 0 evaluates at t + h from r + h·v_(q-1), v + h·a_(q-1)
        # with h = dt/2, dt/2, dt — the same sums as the unrolled form (bit-identical).
        for q in range(4):
            ts, px, py, pz, wx, wy, wz = t, r[0], r[1], r[2], v[0], v[1], v[2]
            if q > 0:
                h = dt if q == 3 else 0.5 * dt
                ts = t + h
                px, py, pz = (
                    r[0] + h * kv[q - 1, 0],
                    r[1] + h * kv[q - 1, 1],
                    r[2] + h * kv[q - 1, 2],
                )
                wx, wy, wz = (
                    v[0] + h * ka[q - 1, 0],
                    v[1] + h * ka[q - 1, 1],
                    v[2] + h * ka[q - 1, 2],
                )
            kv[q, 0], kv[q, 1], kv[q, 2] = wx, wy, wz
            ka[q, 0], ka[q, 1], ka[q, 2] = _accel(ts, tm, px, py, pz, wx, wy, wz, ctx)
        s6 = dt / 6.0
        for j in range(3):
            rn[j] = r[j] + s6 * (kv[0, j] + 2.0 * kv[1, j] + 2.0 * kv[2, j] + kv[3, j])
            vn[j] = v[j] + s6 * (ka[0, j] + 2.0 * ka[1, j] + 2.0 * ka[2, j] + ka[3, j])
        tn = t_end
        if powered and tn >= f[T_OFF] - 1e-9:
            E[i, E_BO_R : E_BO_R + 3] = rn
            E[i, E_BO_V : E_BO_V + 3] = vn
        rvn = rn[0] * vn[0] + rn[1] * vn[1] + rn[2] * vn[2]
        if rv > 0.0 and rvn <= 0.0 and not powered:
            s = rv / (rv - rvn)
            for _ in range(3):  # Newton on r·v along the Hermite arc
                _hermite(r, v, rn, vn, dt, s, rp, vp)
                g = rp[0] * vp[0] + rp[1] * vp[1] + rp[2] * vp[2]
                _hermite(r, v, rn, vn, dt, s + 1e-5, rp, vp)
                dg = (rp[0] * vp[0] + rp[1] * vp[1] + rp[2] * vp[2] - g) / 1e-5
                if dg != 0.0:
                    s = min(max(s - g / dg, 0.0), 1.0)
            _hermite(r, v, rn, vn, dt, s, rp, vp)
            E[i, E_AP_T] = t + s * dt
            E[i, E_AP_H] = altitude(rp[0], rp[1], rp[2], sphere)
        altn = altitude(rn[0], rn[1], rn[2], sphere)
        done = False
        target = f[STOP_ALT]
        if altn < target and tn > f[ARM] and rvn < 0.0 and alt >= target:
            lo, hi, flo, fhi = 0.0, 1.0, alt - target, altn - target
            s = flo / (flo - fhi)
            for _ in range(40):  # Illinois regula falsi on the Hermite arc
                _hermite(r, v, rn, vn, dt, s, rp, vp)
                fm = altitude(rp[0], rp[1], rp[2], sphere) - target
                if abs(fm) < 1e-4:
                    break
                if fm >= 0.0:
                    lo, flo = s, fm
                    fhi *= 0.5
                else:
                    hi, fhi = s, fm
                    flo *= 0.5
                s = lo + (hi - lo) * flo / (flo - fhi)
            _hermite(r, v, rn, vn, dt, s, rp, vp)
            rn[:] = rp
            vn[:] = vp
            tn = t + s * dt
            E[i, E_IM_T] = tn
            E[i, E_IM_R : E_IM_R + 3] = rn
            E[i, E_IM_V : E_IM_V + 3] = vn
            done = True
        elif altn < target - 1e5 or tn >= P[P_TMAX]:
            done = True  # lost below the surface (started under it) or out of time
        r[:] = rn
        v[:] = vn
        t, alt, rv = tn, altn, rvn
        if record and k < hist_t.shape[1]:
            hist_t[i, k] = t
            hist_r[i, k] = r
            hist_v[i, k] = v
        k += 1
        if done:
            break
    count[i] = k


@numba.njit(cache=True, parallel=True, nogil=True)
def integrate(
    r0: FloatArray,
    v0: FloatArray,
    t0: FloatArray,
    F: FloatArray,
    ST: FloatArray,
    CD: FloatArray,
    mach_grid: FloatArray,
    breaks: FloatArray,
    P: FloatArray,
    lnrho: FloatArray,
    sound: FloatArray,
    record: bool,
    hist_t: FloatArray,
    hist_r: FloatArray,
    hist_v: FloatArray,
    E: FloatArray,
    count: NDArray[np.int64],
) -> None:
    """Integrate every body to its surface crossing; fill events E and (optionally) history.

    The parallel loop only dispatches: the work of one body is :func:`_fly_one`, compiled once
    as an ordinary function. numba's parfor passes (fusion, lowering) scale with the size of
    the loop body, and with the integrator inlined into it they took most of the compile.
    """
    for i in numba.prange(r0.shape[0]):
        # np.int64: the parfor types the index int64, its gufunc uint64 — without the cast
        # the body would be compiled twice.
        _fly_one(
            np.int64(i),
            r0,
            v0,
            t0,
            F,
            ST,
            CD,
            mach_grid,
            breaks,
            P,
            lnrho,
            sound,
            record,
            hist_t,
            hist_r,
            hist_v,
            E,
            count,
        )
