"""The fly-out fan: the earliest time an interceptor launched at t0 can reach any point.

Fly-out model. The interceptor (:func:`openbmd.interceptors.vehicle`: its stages with the
specific impulse scaled to the catalogue burnout speed) flies a **linear pitch program**: a
vertical rise for ``vertical_time``, then thrust in the launch plane at a pitch angle above the
local horizontal that turns linearly in time from 90° to a *final pitch* reached at burnout,
then a ballistic coast of the kill vehicle. A guided interceptor can shape its burn this way
(unlike a gravity turn, a fast vehicle can still fly low and flat). Forces: point-mass + J2
gravity, US-76 drag (axial C_D 0.3 of the stack while boosting, the kill vehicle's ballistic
coefficient after), integrated with RK4 in the inertial frame of :mod:`openbmd.earth` launched
from the rotating Earth (:func:`pitch_program_flight`, vectorised over the whole fan).

The fan: ``n_az`` launch azimuths x ``n_pitch`` final pitches flown once as one batch. Each
trajectory is re-expressed as altitude, time, velocity and azimuth drift versus ground range.
For every node of a (ground range, altitude) grid the fan keeps the *earliest* arrival over all
pitches (crossings between neighbouring pitches, linearly interpolated; compiled).
:meth:`FlyoutFan.query` then answers, for any batch of ECEF points, by trilinear interpolation in
(azimuth, ground range, altitude): the earliest fly-out time, the final pitch and launch azimuth
that achieve it, and the interceptor's velocity on arrival. A point is unreachable if any table
corner around it is (conservative at the fan's edge).

Geometry used throughout (fan and queries alike): ground range = mean Earth radius x the angle
between the geocentric directions of the site and the point; azimuth in the site's geodetic
horizon; altitude by :func:`openbmd.trajectory.altitude`. Validated against direct integration
in ``tests/validation/test_flyout_direct.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd import earth
from openbmd.constants import DEG, R_EARTH_MEAN
from openbmd.earth_jit import ATM_H, ATM_LNRHO, ATM_SOUND, pressure
from openbmd.interceptors import _kernels as fk
from openbmd.interceptors.vehicle import Interceptor, energy_levels, vehicle
from openbmd.missiles import stack
from openbmd.trajectory import EarthModel, altitude, surface_point

FloatArray = NDArray[np.float64]

PITCH_MIN, PITCH_MAX = -15.0 * DEG, 89.5 * DEG
PITCH_FLAT = (-2.0 * DEG, 22.0 * DEG)
TURN_FRACTION = 0.25  # share of the burn after the vertical rise spent pitching over
BOOST_CD = 0.3  # axial drag coefficient of the boosting stack (generic)
# Fan table columns: earliest time, final pitch, arrival velocity (along the great circle away
# from the site, up, cross-track to the right), azimuth drift (point azimuth - launch azimuth).
C_TIME, C_PITCH, C_VHOR, C_VUP, C_VCROSS, C_DRIFT, C_CUTOFF = range(7)
N_COL = 7
_ATM_RHO = np.exp(ATM_LNRHO)  # the compiled kernels' table (openbmd.earth_jit), linear in density


def _density(h: FloatArray) -> FloatArray:
    return np.asarray(np.interp(h, ATM_H, _ATM_RHO, left=_ATM_RHO[0], right=0.0))


def pitch_program_flight(
    icp: Interceptor,
    lat: float,
    lon: float,
    azimuth: ArrayLike,
    final_pitch: ArrayLike,
    t_end: float,
    dt_boost: float = 0.5,
    dt_coast: float = 5.0,
    model: EarthModel | None = None,
    cutoff: ArrayLike = np.inf,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fly N interceptors from the site with the linear pitch program (module docstring).

    ``azimuth``, ``final_pitch`` [rad], shape (N,); ``cutoff`` [s] the thrust cut-off time of
    each (energy management; ``inf`` burns to depletion): the kill vehicle then separates and
    coasts. Returns ``(t (K,), r_ecef (N, K, 3), v_ecef (N, K, 3))`` with NaN after ground
    impact. Steps land on the end of the vertical rise, every staging, cut-off and burnout, so
    RK4 keeps its order through the thrust discontinuities. This NumPy version is the reference
    the compiled fan kernel (:mod:`openbmd.interceptors._kernels`) is validated against.
    """

    model = model or EarthModel()
    m = vehicle(icp)
    b = stack([m])
    s0, s1 = b.stage_start[0], b.stage_start[0] + b.burn_time[0]
    thrust, mdot, gross, area = b.thrust[0], b.mass_flow[0], b.gross_mass[0], b.area[0]
    exit_area = b.exit_area[0]
    t_burn, t_v = float(b.total_burn[0]), float(m.pitch_vertical_time)
    az = np.atleast_1d(np.asarray(azimuth, dtype=float))
    pf = np.broadcast_to(np.asarray(final_pitch, dtype=float), az.shape)
    cut = np.broadcast_to(np.asarray(cutoff, dtype=float), az.shape)
    n = az.size
    wz = np.array([0.0, 0.0, model.omega])
    t = time_grid(t_burn, t_v, s1, cut, t_end, dt_boost, dt_coast)
    basis = earth.enu_basis(lat, lon)
    hor0 = np.sin(az)[:, None] * basis[0] + np.cos(az)[:, None] * basis[1]
    normal = np.cross(basis[2], hor0)  # launch-plane normal, fixed in the inertial frame

    def accel(tt: float, tseg: float, r: FloatArray, v: FloatArray) -> FloatArray:
        a = earth.gravity(r, model.use_j2)
        v_rel = v - np.cross(wz, r)
        h = altitude(r, model)
        rho = _density(h) if model.atmosphere else np.zeros(n)
        k_drag = 0.5 * rho * np.linalg.norm(v_rel, axis=-1)
        burning = tseg < np.minimum(cut, t_burn)
        if burning.any():
            live = tseg < s1
            on = live & (tseg >= s0)
            mass = m.rv_mass + float(
                np.sum(np.where(live, gross - np.maximum(tt - s0, 0.0) * mdot, 0.0))
            )
            up = r / np.linalg.norm(r, axis=-1, keepdims=True)
            fwd = np.cross(normal, up)
            fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True)
            frac = min(max((tt - t_v) / max(TURN_FRACTION * (t_burn - t_v), 1e-9), 0.0), 1.0)
            ang = (0.5 * np.pi + (pf - 0.5 * np.pi) * frac)[:, None]
            # back pressure on the nozzle exit: F_vac - A_e p(h) (the compiled kernels' formula)
            p_air = pressure.py_func(rho, np.interp(h, ATM_H, ATM_SOUND))  # type: ignore[arg-type]
            f = np.maximum(float(np.sum(thrust[on])) - float(np.sum(exit_area[on])) * p_air, 0.0)
            acc = np.where(burning, f / mass, 0.0)[:, None]
            a = a + acc * (np.cos(ang) * fwd + np.sin(ang) * up)
            boost_k = k_drag * BOOST_CD * float(np.max(area[on], initial=area[0])) / mass
            k_drag = np.where(burning, boost_k, k_drag / m.rv_beta)
        else:
            k_drag = k_drag / m.rv_beta
        return np.asarray(a - k_drag[:, None] * v_rel)

    r = np.broadcast_to(surface_point(lat, lon, 0.0, model), (n, 3)).copy()
    v = np.cross(wz, r)
    rs, vs = np.empty((n, t.size, 3)), np.empty((n, t.size, 3))
    rs[:, 0], vs[:, 0] = r, v
    for k in range(t.size - 1):  # loop over time steps; each step is vectorised over the fan
        t0, h = t[k], t[k + 1] - t[k]
        tm = t0 + 0.5 * h
        a1 = accel(t0, tm, r, v)
        a2 = accel(tm, tm, r + 0.5 * h * v, v + 0.5 * h * a1)
        a3 = accel(tm, tm, r + 0.5 * h * (v + 0.5 * h * a1), v + 0.5 * h * a2)
        a4 = accel(t0 + h, tm, r + h * (v + 0.5 * h * a2), v + h * a3)
        r = r + h * (v + h * (a1 + a2 + a3) / 6.0)
        v = v + h * (a1 + 2.0 * a2 + 2.0 * a3 + a4) / 6.0
        rs[:, k + 1], vs[:, k + 1] = r, v
    r_e, v_e = earth.eci2ecef_state(rs, vs, np.broadcast_to(t, rs.shape[:-1]), omega=model.omega)
    down = np.cumsum((altitude(r_e, model) < 0.0) & (t > t_v + 1.0), axis=1) > 0
    r_e[down], v_e[down] = np.nan, np.nan
    return t, r_e, v_e


def time_grid(
    t_burn: float,
    t_vert: float,
    stage_ends: ArrayLike,
    cutoff: ArrayLike,
    t_end: float,
    dt_boost: float,
    dt_coast: float,
) -> FloatArray:
    """Integration times [s]: ``dt_boost`` steps through the burn landing on every thrust
    discontinuity (end of the vertical rise, stagings, finite cut-offs, burnout), then
    ``dt_coast`` steps to ``t_end``."""
    cuts = np.asarray(cutoff, dtype=float).ravel()
    cuts = cuts[np.isfinite(cuts) & (cuts < t_burn)]
    t_boost = np.unique(
        np.concatenate(
            [np.arange(0.0, t_burn, dt_boost), np.asarray(stage_ends), cuts, [t_vert, t_burn]]
        )
    )
    t_coast = np.arange(t_burn + dt_coast, t_end + dt_coast, dt_coast)
    return np.concatenate([t_boost[t_boost <= t_burn], t_coast])


# --------------------------------------------------------------------------- geometry


def site_frame(lat: float, lon: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Geocentric unit vector of the site and its geodetic east and north (ECEF)."""
    basis = earth.enu_basis(lat, lon)
    u = earth.geodetic2ecef(lat, lon, 0.0)
    return u / np.linalg.norm(u), basis[0], basis[1]


def polar(
    r_ecef: ArrayLike, u_site: FloatArray, east: FloatArray, north: FloatArray, model: EarthModel
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(ground range [m], azimuth [rad, 0..2π), altitude [m]) of ECEF points from the site."""
    r = np.asarray(r_ecef, dtype=float)
    u = r / np.linalg.norm(r, axis=-1, keepdims=True)
    c = np.clip(u @ u_site, -1.0, 1.0)
    d = R_EARTH_MEAN * np.arccos(c)
    az = np.mod(np.arctan2(u @ east, u @ north), 2.0 * np.pi)
    return d, az, altitude(r, model)


# --------------------------------------------------------------------------- the fan


@dataclass(frozen=True)
class Flyout:
    """Answer of :meth:`FlyoutFan.query` for points of shape ``(...)``; NaN = unreachable."""

    time: FloatArray  # earliest fly-out time [s]
    pitch: FloatArray  # final pitch angle (above the horizontal) achieving it [rad]
    azimuth: FloatArray  # launch azimuth [rad]
    v_ecef: FloatArray  # (..., 3) interceptor Earth-relative velocity on arrival [m/s]
    ground_range: FloatArray  # [m]
    altitude: FloatArray  # [m]
    cutoff: FloatArray  # thrust cut-off time of the energy level achieving it [s after launch]


@dataclass(frozen=True)
class FlyoutFan:
    """Earliest-arrival table of one interceptor at one site (see the module docstring)."""

    interceptor: Interceptor
    site_lat: float
    site_lon: float
    az_grid: FloatArray  # (A,) launch azimuths [rad], uniform over [0, 2π)
    d_grid: FloatArray  # (J,) ground ranges [m], uniform from 0
    h_grid: FloatArray  # (I,) altitudes [m], uniform from 0
    table: FloatArray  # (A, J, I, N_COL) columns C_TIME ... C_CUTOFF
    model: EarthModel

    def _lookup(self, az: FloatArray, d: FloatArray, h: FloatArray) -> FloatArray:
        shape = np.broadcast_shapes(az.shape, d.shape, h.shape)
        out = np.empty((int(np.prod(shape)), N_COL))
        _trilinear(
            self.table,
            float(self.d_grid[1]),
            float(self.h_grid[1]),
            np.ascontiguousarray(np.broadcast_to(az, shape)).ravel(),
            np.ascontiguousarray(np.broadcast_to(d, shape)).ravel(),
            np.ascontiguousarray(np.broadcast_to(h, shape)).ravel(),
            out,
        )
        return out.reshape(*shape, N_COL)

    def query(self, r_ecef: ArrayLike) -> Flyout:
        """Earliest fly-out to ECEF points ``(..., 3)`` (a point reached at launch + time)."""
        r = np.asarray(r_ecef, dtype=float)
        u_s, east, north = site_frame(self.site_lat, self.site_lon)
        with np.errstate(invalid="ignore"):
            d, az, h = polar(r, u_s, east, north, self.model)
            first = self._lookup(az, d, h)
            # The table is indexed by launch azimuth; the point lies at launch azimuth + drift.
            az_launch = np.mod(az - np.nan_to_num(first[..., C_DRIFT]), 2.0 * np.pi)
            row = self._lookup(az_launch, d, h)
            az_launch = np.mod(az - row[..., C_DRIFT], 2.0 * np.pi)
            # Arrival velocity: horizontal component along the great circle away from the site.
            u, away, right = _plane_axes(r, u_s)
            v = (
                row[..., C_VHOR, None] * away
                + row[..., C_VUP, None] * u
                + row[..., C_VCROSS, None] * right
            )
        return Flyout(row[..., C_TIME], row[..., C_PITCH], az_launch, v, d, h, row[..., C_CUTOFF])


@numba.njit(cache=True, parallel=True, nogil=True)
def _trilinear(
    table: FloatArray,
    dd: float,
    dh: float,
    az: FloatArray,
    d: FloatArray,
    h: FloatArray,
    out: FloatArray,
) -> None:  # pragma: no cover - compiled
    """Trilinear interpolation of the fan table (periodic in azimuth); NaN outside or if a
    corner is unreachable (NaN propagates)."""
    n_a, n_j, n_i, n_c = table.shape
    da = 2.0 * np.pi / n_a
    for p in numba.prange(az.size):
        fa = az[p] % (2.0 * np.pi) / da
        fj, fi = d[p] / dd, h[p] / dh
        if not (fj >= 0.0 and fj <= n_j - 1 and fi >= 0.0 and fi <= n_i - 1 and np.isfinite(fa)):
            for c in range(n_c):
                out[p, c] = np.nan
            continue
        a0 = int(fa) % n_a
        a1 = (a0 + 1) % n_a
        j0 = min(int(fj), n_j - 2)
        i0 = min(int(fi), n_i - 2)
        wa, wj, wi = fa - int(fa), fj - j0, fi - i0
        for c in range(n_c):
            acc = 0.0
            for ka in range(2):
                ia = a1 if ka else a0
                w1 = wa if ka else 1.0 - wa
                for kj in range(2):
                    w2 = w1 * (wj if kj else 1.0 - wj)
                    for ki in range(2):
                        w3 = w2 * (wi if ki else 1.0 - wi)
                        acc += w3 * table[ia, j0 + kj, i0 + ki, c]
            out[p, c] = acc


def _plane_axes(r: FloatArray, u_s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unit up, horizontal-away-from-the-site and cross-track (right) axes at ECEF points."""
    u = r / np.linalg.norm(r, axis=-1, keepdims=True)
    away = u * (u @ u_s)[..., None] - u_s
    away /= np.linalg.norm(away, axis=-1, keepdims=True)
    return u, away, np.cross(away, u)


def _fly_family(
    icp: Interceptor,
    site_lat: float,
    site_lon: float,
    az: FloatArray,
    pitch: FloatArray,
    cutoff: float,
    dt: float,
    model: EarthModel,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One energy level of the fan, compiled
    (:func:`openbmd.interceptors._kernels.fly_pitch_program`):
    ``(t (K,), r_ecef (N, K, 3), v_ecef (N, K, 3))`` as :func:`pitch_program_flight` returns."""

    m = vehicle(icp)
    b = stack([m])
    s0 = b.stage_start[0]
    s1 = s0 + b.burn_time[0]
    st = np.stack(
        [s0, s1, b.thrust[0], b.mass_flow[0], b.gross_mass[0], b.area[0], b.exit_area[0]],
        axis=-1,
    ).astype(float)
    t_burn, t_v = float(b.total_burn[0]), float(m.pitch_vertical_time)
    t = time_grid(t_burn, t_v, s1, cutoff, icp.max_flyout_time, 0.5, dt)
    p = np.zeros(fk.NP)
    p[fk.P_RV_MASS], p[fk.P_RV_BETA] = m.rv_mass, m.rv_beta
    p[fk.P_T_VERT] = t_v
    p[fk.P_T_TURN] = t_v + TURN_FRACTION * (t_burn - t_v)
    p[fk.P_T_BURN], p[fk.P_OMEGA] = t_burn, model.omega
    p[fk.P_J2], p[fk.P_ATMOS] = float(model.use_j2), float(model.atmosphere)
    p[fk.P_SPHERE], p[fk.P_CD] = float(model.shape == "sphere"), BOOST_CD
    p[fk.P_T_GROUND] = t_v + 1.0
    basis = earth.enu_basis(site_lat, site_lon)
    hor0 = np.sin(az)[:, None] * basis[0] + np.cos(az)[:, None] * basis[1]
    normal = np.ascontiguousarray(np.cross(basis[2], hor0))
    r0 = surface_point(site_lat, site_lon, 0.0, model)
    state0 = np.concatenate([r0, np.cross([0.0, 0.0, model.omega], r0)])
    out = np.empty((az.size, t.size, 6))
    fk.fly_pitch_program(
        t,
        state0,
        normal,
        np.ascontiguousarray(pitch, dtype=float),
        np.full(az.size, float(cutoff)),
        np.ascontiguousarray(st),
        p,
        ATM_LNRHO,
        ATM_SOUND,
        out,
    )
    tt = np.broadcast_to(t, out.shape[:-1])
    r_e, v_e = earth.eci2ecef_state(out[..., :3], out[..., 3:], tt, omega=model.omega)
    return t, r_e, v_e


def _family_curves(
    fan_axes: tuple[FloatArray, FloatArray, FloatArray],
    flight: tuple[FloatArray, FloatArray, FloatArray],
    cutoff: float,
    site: tuple[float, float],
    d_grid: FloatArray,
    model: EarthModel,
) -> FloatArray:
    """Altitude and the table columns of one flown family versus ground range, (A, K, J, 8)."""
    az, pitches, aa = fan_axes
    t, r_ecef, v_ecef = flight
    u_s, east, north = site_frame(*site)
    with np.errstate(invalid="ignore"):
        d, paz, h = polar(r_ecef, u_s, east, north, model)
        u, away, right = _plane_axes(r_ecef, u_s)
        v_up = np.einsum("ntc,ntc->nt", v_ecef, u)
        v_hor = np.einsum("ntc,ntc->nt", v_ecef, away)
        v_cross = np.einsum("ntc,ntc->nt", v_ecef, right)
        drift = np.mod(paz - aa[:, None] + np.pi, 2.0 * np.pi) - np.pi
    drift = np.where(d < 20e3, 0.0, drift)  # azimuth undefined just above the site
    pp = np.tile(pitches, az.size)
    fields = np.stack(
        [
            h,
            np.broadcast_to(t, d.shape),
            np.broadcast_to(pp[:, None], d.shape),
            v_hor,
            v_up,
            v_cross,
            drift,
            np.full(d.shape, cutoff),
        ],
        -1,
    )
    out = np.empty((d.shape[0], d_grid.size, N_COL + 1))
    fk.resample_by_range(np.ascontiguousarray(d), np.ascontiguousarray(fields), d_grid, out)
    return out.reshape(az.size, pitches.size, d_grid.size, N_COL + 1)


def pitch_grid(n: int) -> FloatArray:
    """``n`` final pitches [rad] from PITCH_MIN to PITCH_MAX, three times denser in the flat
    band PITCH_FLAT (where near-circular fly-outs change apogee fastest with pitch) than
    elsewhere."""
    lo, hi = PITCH_FLAT
    w = np.array([lo - PITCH_MIN, 3.0 * (hi - lo), PITCH_MAX - hi])  # weighted band widths
    u = np.linspace(0.0, 1.0, n) * w.sum()
    return np.interp(u, np.concatenate([[0.0], np.cumsum(w)]), [PITCH_MIN, lo, hi, PITCH_MAX])


def flyout_fan(
    icp: Interceptor,
    site_lat: float,
    site_lon: float,
    n_az: int = 16,
    n_pitch: int = 56,
    dt: float = 5.0,
    n_range: int = 321,
    n_alt: int = 201,
    model: EarthModel | None = None,
    store: str | os.PathLike[str] | None = None,
) -> FlyoutFan:
    """The fly-out fan of ``icp`` launched from ``(site_lat, site_lon)`` [rad] (cached).

    One fan is built and cached in memory (at most :data:`FAN_CACHE_SIZE`, least recently used
    first out; ≈ 58 MB each at the default grid) per vehicle as the fan sees it
    (:meth:`Interceptor.fan_key`: the kill-vehicle limits do not change a fan); the fan
    returned carries ``icp`` itself, limits included. See :func:`build_flyout_fan`.

    ``store``: a folder where fans are also kept on disk (compressed ``.npz``, named by a
    SHA-256 of everything the fan depends on, this module's kernels included), so a later
    process loads a fan instead of building it. A damaged file is rebuilt and replaced.
    """
    key = (icp.fan_key(), float(site_lat), float(site_lon), n_az, n_pitch, dt, n_range, n_alt,
           model or EarthModel())  # fmt: skip
    fan = _FANS.pop(key, None)
    if fan is None and store is not None:
        fan = _load_fan(Path(store), key)
    if fan is None:
        fan = build_flyout_fan(*key)
        if store is not None:
            _save_fan(Path(store), key, fan)
    _FANS[key] = fan  # most recently used last
    while len(_FANS) > FAN_CACHE_SIZE:
        _FANS.pop(next(iter(_FANS)))
    return fan if fan.interceptor == icp else dataclasses.replace(fan, interceptor=icp)


def fan_stored(
    icp: Interceptor, site_lat: float, site_lon: float, store: str | os.PathLike[str]
) -> bool:
    """Whether ``store`` holds the default-grid fan of ``icp`` at the site (not loaded)."""
    # The key of flyout_fan at its default grid.
    key = (icp.fan_key(), float(site_lat), float(site_lon), 16, 56, 5.0, 321, 201, EarthModel())
    return (Path(store) / _store_name(key)).is_file()


#: Fans kept in memory (each ≈ 58 MB at the default grid).
FAN_CACHE_SIZE = 24
_FANS: dict[tuple[object, ...], FlyoutFan] = {}


def _store_name(key: tuple[object, ...]) -> str:
    h = hashlib.sha256(repr(key).encode())
    here = Path(__file__).parent
    for path in sorted(here.glob("*.py")):  # any change to the interceptor code renames the file
        h.update(path.read_bytes())
    return f"fan-{h.hexdigest()[:32]}.npz"


def _save_fan(folder: Path, key: tuple[object, ...], fan: FlyoutFan) -> None:
    # Written under a temporary name and renamed: a reader never sees half a file.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, az=fan.az_grid, d=fan.d_grid, h=fan.h_grid, table=fan.table)
        os.replace(tmp, folder / _store_name(key))
    except OSError:
        return  # a read-only or full disk only costs the next run a rebuild


def _load_fan(folder: Path, key: tuple[object, ...]) -> FlyoutFan | None:
    path = folder / _store_name(key)
    try:
        with np.load(path) as z:
            arrays = {
                k: np.ascontiguousarray(z[k], dtype=np.float64) for k in ("az", "d", "h", "table")
            }
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    icp, lat, lon, model = key[0], key[1], key[2], key[-1]
    assert isinstance(icp, Interceptor) and isinstance(model, EarthModel)
    assert isinstance(lat, float) and isinstance(lon, float)
    a = arrays
    return FlyoutFan(icp, lat, lon, a["az"], a["d"], a["h"], a["table"], model)


def build_flyout_fan(
    icp: Interceptor,
    site_lat: float,
    site_lon: float,
    n_az: int = 16,
    n_pitch: int = 56,
    dt: float = 5.0,
    n_range: int = 321,
    n_alt: int = 201,
    model: EarthModel | None = None,
) -> FlyoutFan:
    """Build the fly-out fan of ``icp`` launched from ``(site_lat, site_lon)`` [rad].

    For every energy level of :func:`openbmd.interceptors.energy_levels` (full burn, and thrust
    cut-offs at the ladder of lower burnout speeds), ``n_az`` launch azimuths x ``n_pitch``
    final pitch angles (PITCH_MIN..PITCH_MAX) are flown for ``max_flyout_time`` (compiled
    kernel, coast steps ``dt``); the table keeps the earliest arrival over all of them. It spans
    ground range 0 .. 1.05 x the full burn's reach (≤ 1.05 ``max_range``) and altitude
    0 .. 1.05 x ``max_altitude``.
    """

    model = model or EarthModel()
    az = np.asarray(np.arange(n_az) * (2.0 * np.pi / n_az), dtype=np.float64)
    pitches = pitch_grid(n_pitch)
    aa, pp = np.repeat(az, n_pitch), np.tile(pitches, n_az)
    h_grid = np.linspace(0.0, 1.05 * icp.max_altitude, n_alt)
    table = np.full((n_az, n_range, n_alt, N_COL), np.nan)
    d_grid: FloatArray | None = None
    for _speed, cutoff in zip(*energy_levels(icp), strict=True):  # full burn first
        flight = _fly_family(icp, site_lat, site_lon, aa, pp, float(cutoff), dt, model)
        if d_grid is None:
            d, _, h = polar(flight[1], *site_frame(site_lat, site_lon), model)
            with np.errstate(invalid="ignore"):
                reach = float(np.nanmax(np.where(np.isfinite(h) & (h >= 0), d, np.nan)))
            d_grid = np.linspace(0.0, 1.05 * min(reach, icp.max_range * 1.05), n_range)
        curves = _family_curves(
            (az, pitches, aa), flight, float(cutoff), (site_lat, site_lon), d_grid, model
        )
        _earliest(np.ascontiguousarray(curves), h_grid, table)
    assert d_grid is not None
    return FlyoutFan(icp, float(site_lat), float(site_lon), az, d_grid, h_grid, table, model)


@numba.njit(cache=True, parallel=True)
def _earliest(curves: FloatArray, h_grid: FloatArray, out: FloatArray) -> None:  # pragma: no cover
    """Earliest crossing of each altitude node by the pitch family.

    ``curves`` (A, K, J, 7) — altitude, then the table columns, versus ground range per
    azimuth and final pitch; fills ``out`` (A, J, I, 6) with the fields of the earliest crossing
    (linear between neighbouring pitches) where it is earlier than what ``out`` holds (NaN =
    not reached yet), so several families merge by calling it once for each.
    """
    n_a, n_k, n_j, _ = curves.shape
    n_i = h_grid.size
    dh = h_grid[1] - h_grid[0]
    for a in numba.prange(n_a):
        for j in range(n_j):
            for k in range(n_k - 1):
                h0, h1 = curves[a, k, j, 0], curves[a, k + 1, j, 0]
                if not (np.isfinite(h0) and np.isfinite(h1)) or h0 == h1:
                    continue
                lo, hi = min(h0, h1), max(h0, h1)
                i_lo = max(int(np.ceil((lo - h_grid[0]) / dh)), 0)
                i_hi = min(int(np.floor((hi - h_grid[0]) / dh)), n_i - 1)
                for i in range(i_lo, i_hi + 1):
                    w = (h0 - h_grid[i]) / (h0 - h1)
                    t = curves[a, k, j, 1] + w * (curves[a, k + 1, j, 1] - curves[a, k, j, 1])
                    # (column c of the table is column c + 1 of the curves)
                    best = out[a, j, i, C_TIME]
                    if np.isfinite(best) and best <= t:
                        continue
                    out[a, j, i, C_TIME] = t
                    for c in range(1, N_COL):
                        v0, v1 = curves[a, k, j, c + 1], curves[a, k + 1, j, c + 1]
                        out[a, j, i, c] = v0 + w * (v1 - v0)
