"""Batch ballistic-missile propagation on a rotating Earth: boost, midcourse, reentry.

One call flies N missiles at once. The state (position, velocity) is integrated in the
Earth-centred inertial frame (ECI) that coincides with ECEF at t = 0, with classical RK4 and
a step size chosen per missile and per flight phase; steps are clipped so that every
discontinuity of the forcing (end of the vertical rise, end of the pitch-over, staging,
thrust cut-off) falls on a step boundary, which keeps RK4 at full order across them.

Forces: point-mass gravity with optional J2 (``earth.gravity``); thrust along a pitch
program (vertical rise, a linear pitch-over to a *kick angle* in the launch azimuth plane,
then a gravity turn with thrust along the Earth-relative velocity); aerodynamic drag of the
boosting stack (Mach-dependent C_D) and of the coasting reentry vehicle (ballistic
coefficient), in the US-76 atmosphere that rotates with the Earth. Earth rotation, J2 and
the atmosphere are each switchable through :class:`EarthModel`.

Events per missile: staging, burnout (or cut-off), apogee and impact — the last two located
inside their step by cubic Hermite interpolation of the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd import earth
from openbmd import trajectory_kernel as kern
from openbmd.constants import OMEGA_EARTH, R_EARTH_MEAN, WGS84_A, WGS84_B
from openbmd.earth_jit import ATM_LNRHO, ATM_SOUND
from openbmd.missiles import MACH_GRID, MissileBatch

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_A2 = WGS84_A * WGS84_A
_B2 = WGS84_B * WGS84_B


@dataclass(frozen=True)
class EarthModel:
    """Which Earth the missiles fly over.

    Parameters
    ----------
    shape : {"wgs84", "sphere"}
        ``"wgs84"``: altitudes above the WGS-84 ellipsoid. ``"sphere"``: a sphere of the IUGG
        mean radius 6371.0088 km with point-mass gravity (``j2`` is then ignored).
    rotation : bool
        Earth rotation (ω⊕) on or off.
    j2 : bool
        J2 term of the gravity field.
    atmosphere : bool
        Aerodynamic drag in the US-76 atmosphere, and the nozzle back-pressure thrust loss
        ``F(h) = F_vac − A_e p(h)`` (off: vacuum thrust, no drag).
    """

    shape: str = "wgs84"
    rotation: bool = True
    j2: bool = True
    atmosphere: bool = True

    def __post_init__(self) -> None:
        if self.shape not in ("wgs84", "sphere"):
            raise ValueError(f"EarthModel.shape must be 'wgs84' or 'sphere', got {self.shape!r}")

    @property
    def omega(self) -> float:
        """Earth rotation rate used [rad/s]."""
        return OMEGA_EARTH if self.rotation else 0.0

    @property
    def use_j2(self) -> bool:
        return self.j2 and self.shape == "wgs84"


VACUUM = EarthModel(shape="sphere", rotation=False, j2=False, atmosphere=False)


@dataclass(frozen=True)
class StepSizes:
    """Integrator step per phase [s]; altitudes [m] separate the coasting regimes.

    The defaults keep impact points within ~35 m of a tight-tolerance reference for ICBM
    flights (``benchmarks/bench_trajectory.py`` measures it): RK4 stays fourth order because
    steps land on every forcing discontinuity, and the coast above 250 km is smooth enough
    for 30 s steps.
    """

    boost: float = 1.0
    reentry: float = 0.75
    upper: float = 5.0
    vacuum: float = 30.0
    reentry_alt: float = 100e3
    vacuum_alt: float = 250e3
    max_time: float = 8000.0


@dataclass(frozen=True)
class Guidance:
    """Per-missile steering, each an array of shape ``(N,)``.

    Parameters
    ----------
    azimuth : array
        Launch azimuth, clockwise from north in the launch site's horizon [rad].
    kick_angle : array
        Tilt of the thrust from the vertical reached at the end of the pitch-over [rad];
        small = lofted, large = depressed.
    cutoff_time : array
        Thrust cut-off after launch [s]; ``inf`` burns every stage to depletion.
    """

    azimuth: FloatArray
    kick_angle: FloatArray
    cutoff_time: FloatArray

    @staticmethod
    def of(n: int, azimuth: Any, kick_angle: Any, cutoff_time: Any = np.inf) -> Guidance:
        """Broadcast scalars or arrays to a batch of ``n``."""

        def arr(x: Any) -> FloatArray:
            return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()

        return Guidance(arr(azimuth), arr(kick_angle), arr(cutoff_time))


@dataclass(frozen=True)
class Events:
    """Event times [s after launch] and states of a batch; NaN where an event did not occur."""

    staging_time: FloatArray  # (N, S) burnout time of each stage (NaN past the cut-off)
    burnout_time: FloatArray  # (N,) end of powered flight
    burnout_r_eci: FloatArray  # (N, 3)
    burnout_v_eci: FloatArray  # (N, 3)
    apogee_time: FloatArray  # (N,)
    apogee_alt: FloatArray  # (N,) [m]
    impact_time: FloatArray  # (N,)
    impact_r_eci: FloatArray  # (N, 3)
    impact_v_eci: FloatArray  # (N, 3)


@dataclass(frozen=True)
class TrajectorySample:
    """A batch resampled at common times ``t`` (T,); arrays (N, T[, 3]); NaN outside flight."""

    t: FloatArray
    r_ecef: FloatArray
    v_ecef: FloatArray
    alt: FloatArray
    thrusting: BoolArray


@dataclass(frozen=True)
class Trajectory:
    """Result of :func:`fly`: per-step states of N missiles, NaN-padded after impact.

    ``t`` (N, K) [s]; ``r_eci``, ``v_eci`` (N, K, 3) [m, m/s]; ``thrusting`` (N, K).
    ECEF and geodetic views are derived on demand. ``launch_lat``/``launch_lon`` [rad] (N,).
    """

    t: FloatArray
    r_eci: FloatArray
    v_eci: FloatArray
    thrusting: BoolArray
    events: Events
    launch_lat: FloatArray
    launch_lon: FloatArray
    earth_model: EarthModel
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return int(self.launch_lat.shape[0])

    def _ecef(self) -> tuple[FloatArray, FloatArray]:
        if "ecef" not in self._cache:
            self._cache["ecef"] = earth.eci2ecef_state(
                self.r_eci, self.v_eci, self.t, omega=self.earth_model.omega
            )
        return self._cache["ecef"]

    @property
    def r_ecef(self) -> FloatArray:
        """Positions in ECEF [m], (N, K, 3)."""
        return self._ecef()[0]

    @property
    def v_ecef(self) -> FloatArray:
        """Earth-relative velocities in ECEF [m/s], (N, K, 3)."""
        return self._ecef()[1]

    @property
    def geodetic(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(lat [rad], lon [rad], alt [m]) of every step, each (N, K)."""
        if "geo" not in self._cache:
            self._cache["geo"] = surface_geodetic(self.r_ecef, self.earth_model)
        return self._cache["geo"]

    def impact_geodetic(self) -> tuple[FloatArray, FloatArray]:
        """Impact point (lat, lon) [rad], each (N,); NaN if the missile did not come down."""
        ev = self.events
        r = earth.eci2ecef(ev.impact_r_eci, ev.impact_time, omega=self.earth_model.omega)
        lat, lon, _ = surface_geodetic(r, self.earth_model)
        return lat, lon

    def ground_range(self) -> FloatArray:
        """Ground range launch → impact on the model's surface [m], (N,)."""
        lat, lon = self.impact_geodetic()
        return surface_distance(self.launch_lat, self.launch_lon, lat, lon, self.earth_model)[0]

    def sample(self, times: Any) -> TrajectorySample:
        """Resample every missile at common times (s after launch) by cubic Hermite."""
        tq = np.atleast_1d(np.asarray(times, dtype=float))
        n, k = self.t.shape
        tt = np.where(np.isnan(self.t), np.inf, self.t)
        # Search all rows at once: offset each row so the flattened times stay sorted.
        span = np.nanmax(self.t) + 1.0 if np.isfinite(np.nanmax(self.t)) else 1.0
        off = (np.arange(n) * 2.0 * (span + tq.max() + 1.0))[:, None]
        flat = np.minimum(tt, span) + off
        q = tq[None, :] + off
        idx = np.searchsorted(flat.ravel(), q.ravel(), side="right").reshape(n, -1) - 1
        idx = idx - (np.arange(n) * k)[:, None]
        last = np.sum(np.isfinite(tt), axis=1) - 1
        valid = (idx >= 0) & (tq[None, :] <= self.t[np.arange(n), last][:, None])
        i0 = np.clip(idx, 0, np.maximum(last - 1, 0)[:, None])
        i1 = np.minimum(i0 + 1, last[:, None])
        rows = np.arange(n)[:, None]
        t0, t1 = self.t[rows, i0], self.t[rows, i1]
        h = np.where(t1 > t0, t1 - t0, 1.0)
        s = np.clip((tq[None, :] - t0) / h, 0.0, 1.0)
        r, v = hermite(
            self.r_eci[rows, i0],
            self.v_eci[rows, i0],
            self.r_eci[rows, i1],
            self.v_eci[rows, i1],
            h,
            s,
        )
        tb = np.broadcast_to(tq, r.shape[:-1])
        r_e, v_e = earth.eci2ecef_state(r, v, tb, omega=self.earth_model.omega)
        alt = surface_geodetic(r_e, self.earth_model)[2]
        burn = self.events.burnout_time[:, None]
        thrusting = valid & (tq[None, :] < burn)
        nan = ~valid
        r_e[nan] = np.nan
        v_e[nan] = np.nan
        alt = np.where(nan, np.nan, alt)
        return TrajectorySample(tq, r_e, v_e, alt, thrusting)

    def to_xarray(self) -> Any:
        """The batch as an ``xarray.Dataset`` (dims ``missile``, ``step``; SI units in attrs)."""
        import xarray as xr

        lat, lon, alt = self.geodetic
        units = {"t": "s", "r_ecef": "m", "v_ecef": "m/s", "lat": "rad", "lon": "rad", "alt": "m"}
        ds = xr.Dataset(
            {
                "t": (("missile", "step"), self.t),
                "r_ecef": (("missile", "step", "xyz"), self.r_ecef),
                "v_ecef": (("missile", "step", "xyz"), self.v_ecef),
                "lat": (("missile", "step"), lat),
                "lon": (("missile", "step"), lon),
                "alt": (("missile", "step"), alt),
                "thrusting": (("missile", "step"), self.thrusting),
                "burnout_time": (("missile",), self.events.burnout_time),
                "apogee_alt": (("missile",), self.events.apogee_alt),
                "impact_time": (("missile",), self.events.impact_time),
            },
            coords={"xyz": ["x", "y", "z"]},
        )
        for name, unit in {
            **units,
            "burnout_time": "s",
            "apogee_alt": "m",
            "impact_time": "s",
        }.items():
            ds[name].attrs["units"] = unit
        ds.attrs["frame"] = "ECEF (WGS-84); time in s after launch"
        return ds


# --------------------------------------------------------------------------- geometry helpers


def altitude(r: FloatArray, model: EarthModel) -> FloatArray:
    """Altitude above the model surface [m] from a position (ECI or ECEF, (..., 3)).

    For WGS-84 this is the distance above the ellipsoid point at the same geocentric
    latitude: exactly zero on the surface and within a metre of the geodetic height below
    ~300 km, at a fraction of the cost — it only sets air density and locates the impact.
    """
    rr = np.sqrt(np.einsum("...i,...i->...", r, r))
    if model.shape == "sphere":
        return rr - R_EARTH_MEAN
    z2 = r[..., 2] ** 2
    p2 = rr * rr - z2
    # Ellipsoid radius along the same direction: 1/R² = cos²/a² + sin²/b².
    inv = (p2 / _A2 + z2 / _B2) / (rr * rr)
    return rr - 1.0 / np.sqrt(inv)


def surface_geodetic(
    r_ecef: FloatArray, model: EarthModel
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(lat, lon, alt) on the model's surface: geodetic on WGS-84, spherical on the sphere."""
    if model.shape == "sphere":
        rr = np.linalg.norm(r_ecef, axis=-1)
        lat = np.arcsin(np.clip(r_ecef[..., 2] / rr, -1.0, 1.0))
        lon = np.arctan2(r_ecef[..., 1], r_ecef[..., 0])
        return lat, lon, rr - R_EARTH_MEAN
    return earth.ecef2geodetic(r_ecef)


def surface_point(lat: Any, lon: Any, alt: Any, model: EarthModel) -> FloatArray:
    """ECEF position [m] of (lat, lon [rad], alt [m]) on the model's surface, (..., 3)."""
    lat, lon, alt = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (lat, lon, alt)))
    if model.shape == "sphere":
        rr = R_EARTH_MEAN + alt
        return np.stack(
            [rr * np.cos(lat) * np.cos(lon), rr * np.cos(lat) * np.sin(lon), rr * np.sin(lat)],
            axis=-1,
        )
    return earth.geodetic2ecef(lat, lon, alt)


def surface_distance(
    lat1: Any, lon1: Any, lat2: Any, lon2: Any, model: EarthModel
) -> tuple[FloatArray, FloatArray]:
    """(distance [m], forward azimuth [rad]) on the model's surface."""
    if model.shape == "sphere":
        return earth.sphere_inverse(lat1, lon1, lat2, lon2)
    d, az, _ = earth.geodesic_inverse(lat1, lon1, lat2, lon2)
    return d, az


def surface_normal(lat: Any, lon: Any) -> FloatArray:
    """Unit 'up' vector (ellipsoid normal for geodetic latitude) in ECEF, (..., 3)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def hermite(
    r0: FloatArray, v0: FloatArray, r1: FloatArray, v1: FloatArray, h: Any, s: Any
) -> tuple[FloatArray, FloatArray]:
    """Cubic Hermite position and velocity at fraction ``s`` of a step of length ``h``."""
    s = np.asarray(s, dtype=float)[..., None]
    h = np.asarray(h, dtype=float)[..., None]
    s2, s3 = s * s, s * s * s
    h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
    r = h00 * r0 + h10 * h * v0 + h01 * r1 + h11 * h * v1
    d00, d10, d01, d11 = 6 * s2 - 6 * s, 3 * s2 - 4 * s + 1, -6 * s2 + 6 * s, 3 * s2 - 2 * s
    v = (d00 * r0 + d01 * r1) / h + d10 * v0 + d11 * v1
    return r, v


# --------------------------------------------------------------------------- dynamics


@dataclass(frozen=True)
class _Forcing:
    """Everything the right-hand side needs, as (N, ...) arrays for the active subset."""

    up0: FloatArray  # (N,3) launch-site vertical, ECEF
    hor0: FloatArray  # (N,3) launch-site horizontal along the azimuth, ECEF
    kick: FloatArray  # (N,) kick angle [rad]
    t_vert: FloatArray  # (N,) end of vertical rise [s]
    t_kick: FloatArray  # (N,) end of pitch-over [s]
    t_off: FloatArray  # (N,) end of powered flight [s] (min of cut-off and total burn)
    stage_start: FloatArray  # (N,S)
    stage_end: FloatArray  # (N,S)
    thrust: FloatArray  # (N,S)
    mdot: FloatArray  # (N,S)
    gross: FloatArray  # (N,S)
    area: FloatArray  # (N,S)
    exit_area: FloatArray  # (N,S) nozzle exit area [m²]
    cd: FloatArray  # (N,M)
    rv_mass: FloatArray  # (N,)
    rv_beta: FloatArray  # (N,)


# --------------------------------------------------------------------------- propagator


def _forcing(
    missiles: MissileBatch, lat: FloatArray, lon: FloatArray, guidance: Guidance
) -> _Forcing:
    basis = earth.enu_basis(lat, lon)  # rows east, north, up
    east, north, up = basis[:, 0], basis[:, 1], basis[:, 2]
    az = guidance.azimuth[:, None]
    hor = np.sin(az) * east + np.cos(az) * north
    t_off = np.minimum(guidance.cutoff_time, missiles.total_burn)
    return _Forcing(
        up0=up,
        hor0=hor,
        kick=guidance.kick_angle,
        t_vert=missiles.vertical_time,
        t_kick=missiles.vertical_time + missiles.kick_time,
        t_off=t_off,
        stage_start=missiles.stage_start,
        stage_end=missiles.stage_start + missiles.burn_time,
        thrust=missiles.thrust,
        mdot=missiles.mass_flow,
        gross=missiles.gross_mass,
        area=missiles.area,
        exit_area=missiles.exit_area,
        cd=missiles.drag_cd,
        rv_mass=missiles.rv_mass,
        rv_beta=missiles.rv_beta,
    )


def fly(
    missiles: MissileBatch,
    launch_lat: Any,
    launch_lon: Any,
    guidance: Guidance,
    model: EarthModel | None = None,
    steps: StepSizes | None = None,
    record: bool = True,
) -> Trajectory:
    """Fly a batch of N missiles from launch to impact.

    Parameters
    ----------
    missiles : MissileBatch
        The N vehicles (:func:`openbmd.missiles.stack`).
    launch_lat, launch_lon : array_like, shape (N,) or scalar
        Launch points, geodetic [rad]; launch from the surface at rest relative to the Earth.
    guidance : Guidance
        Azimuth, kick angle and cut-off time per missile.
    model : EarthModel, optional
        Earth model (default: WGS-84, rotating, J2, atmosphere).
    steps : StepSizes, optional
        Integrator steps.
    record : bool
        Keep every step (True) or only the events (False: memory O(N)).

    Returns
    -------
    Trajectory
    """
    model = model or EarthModel()
    n = missiles.n
    lat = np.broadcast_to(np.asarray(launch_lat, dtype=float), (n,)).copy()
    lon = np.broadcast_to(np.asarray(launch_lon, dtype=float), (n,)).copy()
    forcing = _forcing(missiles, lat, lon, guidance)
    r0 = surface_point(lat, lon, np.zeros(n), model)
    omega = model.omega
    v0 = np.stack([-omega * r0[:, 1], omega * r0[:, 0], np.zeros(n)], axis=-1)
    # Times where the forcing jumps: steps are clipped to land on them.
    breaks = np.concatenate(
        [
            forcing.t_vert[:, None],
            forcing.t_kick[:, None],
            forcing.stage_end,
            forcing.t_off[:, None],
        ],
        axis=1,
    )
    breaks = np.where(breaks <= forcing.t_off[:, None], breaks, np.inf)
    stop_alt = np.zeros(n)
    return propagate(
        r0,
        v0,
        np.zeros(n),
        forcing,
        breaks,
        stop_alt,
        lat,
        lon,
        model,
        steps or StepSizes(),
        record,
        n_stages=missiles.burn_time.shape[1],
    )


def coast_forcing(n: int, rv_beta: Any = np.inf) -> _Forcing:
    """Forcing of unpowered bodies (drag from the ballistic coefficient only)."""
    z1, z3 = np.zeros((n, 1)), np.zeros((n, 3))
    zero = np.zeros(n)
    return _Forcing(
        up0=z3,
        hor0=z3,
        kick=zero,
        t_vert=zero,
        t_kick=zero,
        t_off=np.full(n, -np.inf),
        stage_start=z1,
        stage_end=z1,
        thrust=z1,
        mdot=z1,
        gross=z1,
        area=z1,
        exit_area=z1,
        cd=np.zeros((n, MACH_GRID.size)),
        rv_mass=np.ones(n),
        rv_beta=np.broadcast_to(np.asarray(rv_beta, dtype=float), (n,)).copy(),
    )


def propagate(
    r0: FloatArray,
    v0: FloatArray,
    t0: FloatArray,
    forcing: _Forcing,
    breaks: FloatArray,
    stop_alt: FloatArray,
    launch_lat: FloatArray,
    launch_lon: FloatArray,
    model: EarthModel,
    steps: StepSizes,
    record: bool = True,
    n_stages: int = 1,
) -> Trajectory:
    """Integrate ECI states (N,3) from times ``t0`` (N,) until each falls to ``stop_alt`` (N,).

    ``breaks`` (N, B) are forcing discontinuities that steps land on exactly; the last step of
    each body ends at its crossing of ``stop_alt`` on the way down (Hermite-interpolated
    inside the step). The work is done by :func:`openbmd.trajectory_kernel.integrate`.
    """
    n = r0.shape[0]
    f = forcing
    table = np.empty((n, kern.NF))
    table[:, kern.UP : kern.UP + 3] = f.up0
    table[:, kern.HOR : kern.HOR + 3] = f.hor0
    table[:, kern.KICK] = f.kick
    table[:, kern.T_VERT] = f.t_vert
    table[:, kern.T_KICK] = f.t_kick
    table[:, kern.T_OFF] = f.t_off
    table[:, kern.RV_MASS] = f.rv_mass
    table[:, kern.RV_BETA] = f.rv_beta
    table[:, kern.STOP_ALT] = stop_alt
    # Surface impact counts only once a body is on its way (after the vertical rise).
    table[:, kern.ARM] = f.t_vert + 1.0
    stages = np.stack(
        [f.stage_start, f.stage_end, f.thrust, f.mdot, f.gross, f.area, f.exit_area], axis=-1
    )
    params = np.array(
        [
            model.shape == "sphere",
            model.omega,
            model.use_j2,
            model.atmosphere,
            steps.boost,
            steps.reentry,
            steps.upper,
            steps.vacuum,
            steps.reentry_alt,
            steps.vacuum_alt,
            steps.max_time,
        ],
        dtype=float,
    )
    args = (
        np.ascontiguousarray(r0, dtype=float),
        np.ascontiguousarray(v0, dtype=float),
        np.ascontiguousarray(t0, dtype=float),
        table,
        np.ascontiguousarray(stages),
        np.ascontiguousarray(f.cd),
        MACH_GRID,
        np.ascontiguousarray(breaks, dtype=float),
        params,
        ATM_LNRHO,
        ATM_SOUND,
    )
    ev = np.empty((n, kern.NE))
    count = np.zeros(n, dtype=np.int64)
    dummy_t, dummy_r = np.empty((n, 1)), np.empty((n, 1, 3))
    kern.integrate(*args, False, dummy_t, dummy_r, dummy_r, ev, count)
    if record:
        # Second pass with storage sized by the first (recording is for small batches).
        k = int(count.max())
        tt, rr, vv = np.full((n, k), np.nan), np.full((n, k, 3), np.nan), np.full((n, k, 3), np.nan)
        kern.integrate(*args, True, tt, rr, vv, ev, count)
    else:
        tt = np.stack([t0, np.full(n, np.nan)], axis=1)
        rr = np.stack([r0, np.full((n, 3), np.nan)], axis=1)
        vv = np.stack([v0, np.full((n, 3), np.nan)], axis=1)
    staging = np.where(f.stage_end <= f.t_off[:, None], f.stage_end, np.nan)
    staging = np.where(f.thrust > 0.0, staging, np.nan)[:, :n_stages]
    events = Events(
        staging_time=staging,
        burnout_time=ev[:, kern.E_BO_T],
        burnout_r_eci=ev[:, kern.E_BO_R : kern.E_BO_R + 3],
        burnout_v_eci=ev[:, kern.E_BO_V : kern.E_BO_V + 3],
        apogee_time=ev[:, kern.E_AP_T],
        apogee_alt=ev[:, kern.E_AP_H],
        impact_time=ev[:, kern.E_IM_T],
        impact_r_eci=ev[:, kern.E_IM_R : kern.E_IM_R + 3],
        impact_v_eci=ev[:, kern.E_IM_V : kern.E_IM_V + 3],
    )
    thrusting = tt < events.burnout_time[:, None]
    return Trajectory(tt, rr, vv, thrusting, events, launch_lat, launch_lon, model)
