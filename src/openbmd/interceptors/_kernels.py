"""Compiled kernels behind the fly-out fan (openbmd.interceptors.fan).

:func:`fly_pitch_program` integrates a batch of interceptors flying the linear pitch program
with a per-trajectory thrust cut-off — the same dynamics as the NumPy reference
:func:`openbmd.interceptors.fan.pitch_program_flight` (which the validation tests integrate at finer
steps), one body per ``numba.prange`` iteration so a fan of several thousand trajectories costs
about as much as the NumPy version's few hundred. :func:`resample_by_range` resamples each
trajectory's fields versus its (monotone) ground range onto the fan's range grid.

Why two implementations of one model: the compiled one builds the fan; the NumPy one is the
independent, readable reference it is validated against (``tests/validation``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from openbmd.earth_jit import air, altitude, gravity, pressure

FloatArray = NDArray[np.float64]

# Stage table columns (S, 7): thrust is the vacuum thrust, S_EXIT the nozzle exit area.
S_START, S_END, S_THRUST, S_MDOT, S_GROSS, S_AREA, S_EXIT = range(7)
# Parameter vector: kill-vehicle mass, its ballistic coefficient, end of the vertical rise, end
# of the pitch-over, total burn, Earth rate, J2 flag, atmosphere flag, sphere flag, boost C_D and
# the launch point's surface altitude check time.
(P_RV_MASS, P_RV_BETA, P_T_VERT, P_T_TURN, P_T_BURN, P_OMEGA, P_J2, P_ATMOS, P_SPHERE, P_CD) = (
    range(10)
)
P_T_GROUND = 10
NP = 11

_jit = numba.njit(cache=True, nogil=True, inline="always")


@_jit
def _accel(
    t: float,
    tseg: float,
    s: FloatArray,
    nrm: FloatArray,
    pf: float,
    cut: float,
    st: FloatArray,
    p: FloatArray,
    lnrho: FloatArray,
    sound: FloatArray,
) -> tuple[float, float, float]:
    """Inertial acceleration of one interceptor at state ``s`` (x, y, z, vx, vy, vz)."""
    x, y, z = s[0], s[1], s[2]
    ax, ay, az = gravity(x, y, z, p[P_J2] > 0.0)
    om = p[P_OMEGA]
    wx, wy, wz = s[3] + om * y, s[4] - om * x, s[5]
    speed = math.sqrt(wx * wx + wy * wy + wz * wz)
    rho, a_snd = 0.0, 0.0
    if p[P_ATMOS] > 0.0:
        rho, a_snd = air(altitude(x, y, z, p[P_SPHERE] > 0.0), lnrho, sound)
    powered = tseg < min(cut, p[P_T_BURN])
    if powered:
        mass, thrust, area, exit_area = p[P_RV_MASS], 0.0, st[0, S_AREA], 0.0
        for j in range(st.shape[0]):
            if tseg < st[j, S_END]:
                mass += st[j, S_GROSS] - max(t - st[j, S_START], 0.0) * st[j, S_MDOT]
                if tseg >= st[j, S_START]:
                    thrust += st[j, S_THRUST]
                    area = max(area, st[j, S_AREA])
                    exit_area += st[j, S_EXIT]
        if thrust > 0.0 and rho > 0.0:  # back pressure on the nozzle exit: F_vac - A_e p(h)
            thrust = max(thrust - exit_area * pressure(rho, a_snd), 0.0)
        kd = 0.5 * rho * speed * p[P_CD] * area / mass
        # Steering: pitch above the local horizontal, linear in time from 90 deg to ``pf``.
        span = max(p[P_T_TURN] - p[P_T_VERT], 1e-9)
        frac = min(max((t - p[P_T_VERT]) / span, 0.0), 1.0)
        ang = 0.5 * math.pi + (pf - 0.5 * math.pi) * frac
        rr = math.sqrt(x * x + y * y + z * z)
        ux, uy, uz = x / rr, y / rr, z / rr
        fx = nrm[1] * uz - nrm[2] * uy
        fy = nrm[2] * ux - nrm[0] * uz
        fz = nrm[0] * uy - nrm[1] * ux
        fn = math.sqrt(fx * fx + fy * fy + fz * fz)
        acc = thrust / mass
        ca, sa = math.cos(ang) / fn, math.sin(ang)
        ax += acc * (ca * fx + sa * ux)
        ay += acc * (ca * fy + sa * uy)
        az += acc * (ca * fz + sa * uz)
    else:
        kd = 0.5 * rho * speed / p[P_RV_BETA]
    return ax - kd * wx, ay - kd * wy, az - kd * wz


@_jit
def _deriv(
    t: float,
    tseg: float,
    s: FloatArray,
    nrm: FloatArray,
    pf: float,
    cut: float,
    st: FloatArray,
    p: FloatArray,
    lnrho: FloatArray,
    sound: FloatArray,
    out: FloatArray,
) -> None:
    a = _accel(t, tseg, s, nrm, pf, cut, st, p, lnrho, sound)
    out[0], out[1], out[2] = s[3], s[4], s[5]
    out[3], out[4], out[5] = a[0], a[1], a[2]


@numba.njit(cache=True, parallel=True, nogil=True)
def fly_pitch_program(
    t: FloatArray,
    state0: FloatArray,
    normal: FloatArray,
    final_pitch: FloatArray,
    cutoff: FloatArray,
    st: FloatArray,
    p: FloatArray,
    lnrho: FloatArray,
    sound: FloatArray,
    out: FloatArray,
) -> None:  # pragma: no cover - compiled
    """RK4 over the time grid ``t`` (K,) for N bodies; fills ``out`` (N, K, 6) with the inertial
    state, NaN from the first sample below ground after ``P_T_GROUND``.

    ``state0`` (6,) launch state; ``normal`` (N, 3) launch-plane normals; ``final_pitch``,
    ``cutoff`` (N,). Steps must land on every thrust discontinuity (the caller's grid does).

    The parallel loop only dispatches to :func:`_fly_one`, an ordinary compiled function: numba's
    parfor passes grow with the loop body, and with the integrator inlined into it they took
    most of the compile time. (``np.int64``: the parfor types its index int64, the gufunc it
    becomes uint64; the cast keeps it to one compiled body.)
    """
    for i in numba.prange(normal.shape[0]):
        _fly_one(np.int64(i), t, state0, normal, final_pitch, cutoff, st, p, lnrho, sound, out)


# error_model="numpy" (IEEE inf/NaN, no ZeroDivisionError checks) is what the body had when it
# was compiled inside the parallel loop: numba builds parfor bodies with it. ~5 % faster.
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fly_one(
    i: np.int64,
    t: FloatArray,
    state0: FloatArray,
    normal: FloatArray,
    final_pitch: FloatArray,
    cutoff: FloatArray,
    st: FloatArray,
    p: FloatArray,
    lnrho: FloatArray,
    sound: FloatArray,
    out: FloatArray,
) -> None:  # pragma: no cover - compiled
    """Body ``i`` of :func:`fly_pitch_program` (same arguments), written to ``out[i]``."""
    nk = t.size
    sphere = p[P_SPHERE] > 0.0
    s = state0.copy()
    nrm = normal[i]
    pf, cut = final_pitch[i], cutoff[i]
    kk, tmp = np.empty((4, 6)), np.empty(6)  # RK4 stage derivatives, stage state
    out[i, 0] = s
    dead = False
    for k in range(nk - 1):
        if dead:
            out[i, k + 1] = np.nan
            continue
        t0, h = t[k], t[k + 1] - t[k]
        tm = t0 + 0.5 * h
        # The four RK4 stages as one loop: the inlined force model is compiled once, not four
        # times. Stage q > 0 starts from s + c·k_(q-1), c = ½h, ½h, h (stage 0 from s itself).
        for q in range(4):
            if q > 0:
                c = h if q == 3 else 0.5 * h
                for j in range(6):
                    tmp[j] = s[j] + c * kk[q - 1, j]
            tq = t0 if q == 0 else (t0 + h if q == 3 else tm)
            _deriv(tq, tm, tmp if q > 0 else s, nrm, pf, cut, st, p, lnrho, sound, kk[q])
        for j in range(6):
            s[j] += h * (kk[0, j] + 2.0 * kk[1, j] + 2.0 * kk[2, j] + kk[3, j]) / 6.0
        if t[k + 1] > p[P_T_GROUND] and altitude(s[0], s[1], s[2], sphere) < 0.0:
            dead = True
            out[i, k + 1] = np.nan
        else:
            out[i, k + 1] = s


@numba.njit(cache=True, parallel=True, nogil=True)
def resample_by_range(
    d: FloatArray, fields: FloatArray, d_grid: FloatArray, out: FloatArray
) -> None:  # pragma: no cover - compiled
    """Per trajectory ``n``, linear interpolation of ``fields[n]`` (T, F) versus the running
    maximum of the ground range ``d[n]`` (T,) onto ``d_grid`` (J,) → ``out`` (N, J, F); NaN
    beyond the last finite sample (rows with a NaN field are skipped)."""
    n, nt, nf = fields.shape
    nj = d_grid.size
    for i in numba.prange(n):
        for j in range(nj):
            for c in range(nf):
                out[i, j, c] = np.nan
        dk = np.empty(nt)
        idx = np.empty(nt, dtype=np.int64)
        m = 0
        run = -np.inf
        for k in range(nt):
            ok = np.isfinite(d[i, k])
            for c in range(nf):
                ok = ok and np.isfinite(fields[i, k, c])
            if ok:
                run = max(run, d[i, k])
                dk[m] = run
                idx[m] = k
                m += 1
        if m < 2:
            continue
        q = 0
        for j in range(nj):
            x = d_grid[j]
            if x > dk[m - 1]:
                break
            if x <= dk[0]:  # np.interp clamps on the left
                for c in range(nf):
                    out[i, j, c] = fields[i, idx[0], c]
                continue
            while q < m - 2 and dk[q + 1] < x:
                q += 1
            # np.interp semantics on ties: the right-most equal abscissa
            while q < m - 2 and dk[q + 1] == x:
                q += 1
            lo, hi = idx[q], idx[q + 1]
            span = dk[q + 1] - dk[q]
            w = (x - dk[q]) / span if span > 0.0 else 1.0
            for c in range(nf):
                out[i, j, c] = fields[i, lo, c] + w * (fields[i, hi, c] - fields[i, lo, c])
