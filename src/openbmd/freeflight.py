"""All free flight: closed form on a sphere (Bate, Mueller & White 1971, ch. 6) and numeric.

Both paths answer the same question — where and when does a body launched with a given
Earth-relative speed and flight-path angle come back down to a reentry altitude — so the
numeric propagator can be checked against Bate, Mueller & White's closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd import earth
from openbmd.constants import GM_EARTH, OMEGA_EARTH, R_EARTH_MEAN
from openbmd.errors import InputError
from openbmd.trajectory import (
    EarthModel,
    StepSizes,
    coast_forcing,
    propagate,
    surface_distance,
    surface_point,
)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FreeFlight:
    """Closed-form coast: range angle [rad], time of flight [s], apogee radius [m] (arrays)."""

    range_angle: FloatArray
    time_of_flight: FloatArray
    apogee_radius: FloatArray
    q: FloatArray


def kepler_free_flight(
    r0: Any, v: Any, gamma: Any, r1: Any = None, mu: float = GM_EARTH
) -> FreeFlight:
    """Free flight of a conic from burnout to a reentry radius, inertial, point-mass Earth.

    Parameters
    ----------
    r0 : array_like
        Burnout radius [m].
    v : array_like
        Inertial burnout speed [m/s].
    gamma : array_like
        Inertial flight-path angle above the local horizontal [rad], in (0, π/2).
    r1 : array_like, optional
        Reentry radius on the descending branch [m] (default ``r0``).

    Notes
    -----
    Bate, Mueller & White (1971), ch. 6: Q = v² r/μ; with r1 = r0 the range angle obeys
    tan(Ψ/2) = Q sinγ cosγ / (1 − Q cos²γ). Times of flight follow from Kepler's equation.
    """
    r0, v, gamma = (np.asarray(x, dtype=float) for x in (r0, v, gamma))
    r1 = r0 if r1 is None else np.asarray(r1, dtype=float)
    q = v * v * r0 / mu
    if np.any(q >= 2.0):
        raise InputError("speed: the body escapes the Earth (v² r / μ ≥ 2)")
    a = r0 / (2.0 - q)
    h = r0 * v * np.cos(gamma)
    p = h * h / mu
    e = np.sqrt(np.clip(1.0 - p / a, 0.0, None))
    nu0 = np.arctan2(v * np.sin(gamma) * h / mu, h * v * np.cos(gamma) / mu - 1.0)
    c1 = (p / r1 - 1.0) / e
    if np.any(np.abs(c1) > 1.0):
        raise InputError("reentry altitude: the body never climbs above it")
    nu1 = 2.0 * np.pi - np.arccos(c1)
    ecc0 = _eccentric(nu0, e)
    ecc1 = _eccentric(nu1, e)
    mean = (ecc1 - e * np.sin(ecc1)) - (ecc0 - e * np.sin(ecc0))
    tof = np.sqrt(a**3 / mu) * mean
    return FreeFlight(nu1 - nu0, tof, a * (1.0 + e), q)


def _eccentric(nu: FloatArray, e: FloatArray) -> FloatArray:
    """Eccentric anomaly in [0, 2π) for true anomaly ν ∈ [0, 2π)."""
    ecc = np.arctan2(np.sqrt(1.0 - e * e) * np.sin(nu), e + np.cos(nu))
    return np.mod(ecc, 2.0 * np.pi)


def min_energy_q(range_angle: Any) -> FloatArray:
    """Least burnout parameter Q reaching range angle Ψ: Q = 2 sin(Ψ/2) / (1 + sin(Ψ/2))."""
    s = np.sin(np.asarray(range_angle, dtype=float) / 2.0)
    return np.asarray(2.0 * s / (1.0 + s))


def min_energy_gamma(range_angle: Any) -> FloatArray:
    """Flight-path angle of the minimum-energy trajectory: γ* = 45° − Ψ/4 [rad]."""
    return np.asarray(np.pi / 4.0 - np.asarray(range_angle, dtype=float) / 4.0)


@dataclass(frozen=True)
class SurfaceFlight:
    """A coast over a spherical Earth seen from the ground (closed form, rotation allowed)."""

    range: FloatArray  # ground range start → reentry point [m]
    time_of_flight: FloatArray  # [s]
    apogee_alt: FloatArray  # [m] above the sphere
    impact_lat: FloatArray  # [rad]
    impact_lon: FloatArray  # [rad]


def free_flight(
    speed: Any,
    gamma: Any,
    alt0: Any = 0.0,
    alt1: Any = None,
    lat0: Any = 0.0,
    lon0: Any = 0.0,
    azimuth: Any = np.pi / 2,
    omega: float = 0.0,
    radius: float = R_EARTH_MEAN,
) -> SurfaceFlight:
    """Closed-form coast over a sphere of ``radius`` rotating at ``omega``, no drag.

    The burnout state is given relative to the Earth's surface (speed [m/s], flight-path angle
    ``gamma`` and ``azimuth`` [rad] in the local horizon at lat0, lon0, alt0). The inertial
    conic is solved with :func:`kepler_free_flight`; the reentry point is rotated back into
    the Earth-fixed frame by ω·t, which is exact for a spherical point-mass Earth.
    """
    alt1 = alt0 if alt1 is None else alt1
    args = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (speed, gamma, alt0, alt1, lat0, lon0, azimuth))
    )
    speed, gamma, alt0, alt1, lat0, lon0, azimuth = args
    rhat = np.stack([np.cos(lat0) * np.cos(lon0), np.cos(lat0) * np.sin(lon0), np.sin(lat0)], -1)
    east = np.stack([-np.sin(lon0), np.cos(lon0), np.zeros_like(lon0)], -1)
    north = np.cross(rhat, east)
    r0 = (radius + alt0)[..., None] * rhat
    hor = np.sin(azimuth)[..., None] * east + np.cos(azimuth)[..., None] * north
    v_rel = speed[..., None] * (np.cos(gamma)[..., None] * hor + np.sin(gamma)[..., None] * rhat)
    v_in = v_rel + np.cross(np.array([0.0, 0.0, omega]), r0)
    vi = np.linalg.norm(v_in, axis=-1)
    gi = np.arcsin(np.clip(np.einsum("...i,...i->...", v_in, rhat) / vi, -1.0, 1.0))
    ff = kepler_free_flight(radius + alt0, vi, gi, radius + alt1)
    hhat = np.cross(rhat, v_in)
    hhat /= np.linalg.norm(hhat, axis=-1, keepdims=True)
    that = np.cross(hhat, rhat)
    psi = ff.range_angle[..., None]
    r1 = np.cos(psi) * rhat + np.sin(psi) * that  # reentry direction, inertial
    r1 = earth.eci2ecef(r1, ff.time_of_flight, omega=omega)
    lat1 = np.arcsin(np.clip(r1[..., 2], -1.0, 1.0))
    lon1 = np.arctan2(r1[..., 1], r1[..., 0])
    dist = earth.sphere_inverse(lat0, lon0, lat1, lon1, radius=radius)[0]
    return SurfaceFlight(dist, ff.time_of_flight, ff.apogee_radius - radius, lat1, lon1)


# Fine steps: the numeric coast is a reference for the closed form (no drag to resolve).
COAST_STEPS = StepSizes(boost=1.0, reentry=1.0, upper=2.0, vacuum=4.0, max_time=30000.0)


def numeric_free_flight(
    speed: Any,
    gamma: Any,
    alt0: Any,
    alt1: Any,
    lat0: Any,
    lon0: Any,
    azimuth: Any,
    model: EarthModel,
    steps: StepSizes = COAST_STEPS,
) -> SurfaceFlight:
    """Coast (no drag) from burnout states (arrays (N,)) with the batch propagator."""
    speed, gamma, alt0, alt1, lat0, lon0, azimuth = (
        np.atleast_1d(np.asarray(x, dtype=float))
        for x in np.broadcast_arrays(speed, gamma, alt0, alt1, lat0, lon0, azimuth)
    )
    n = speed.size
    r0 = surface_point(lat0, lon0, alt0, model)
    # Local horizon of the burnout point on the model's surface.
    basis = earth.enu_basis(lat0, lon0)
    hor = np.sin(azimuth)[:, None] * basis[:, 0] + np.cos(azimuth)[:, None] * basis[:, 1]
    v_rel = speed[:, None] * (np.cos(gamma)[:, None] * hor + np.sin(gamma)[:, None] * basis[:, 2])
    r_eci, v_eci = earth.ecef2eci_state(r0, v_rel, np.zeros(n), omega=model.omega)
    no_drag = EarthModel(model.shape, model.rotation, model.j2, atmosphere=False)
    traj = propagate(
        r_eci,
        v_eci,
        np.zeros(n),
        coast_forcing(n),
        np.full((n, 1), np.inf),
        alt1,
        lat0,
        lon0,
        no_drag,
        steps,
        record=False,
    )
    ilat, ilon = traj.impact_geodetic()
    dist = surface_distance(lat0, lon0, ilat, ilon, model)[0]
    return SurfaceFlight(dist, traj.events.impact_time, traj.events.apogee_alt, ilat, ilon)


def coast(
    speed: float,
    gamma: float,
    alt0: float,
    alt1: float,
    lat0: float,
    lon0: float,
    azimuth: float,
    shape: str = "sphere",
    rotation: bool = True,
    numeric: bool = False,
) -> SurfaceFlight:
    """One coast: closed form when the Earth is a sphere (unless ``numeric``), else numeric.

    On ``wgs84`` the numeric propagator includes J2; on the sphere gravity is a point mass.
    """
    if shape == "sphere" and not numeric:
        omega = OMEGA_EARTH if rotation else 0.0
        ff = free_flight(speed, gamma, alt0, alt1, lat0, lon0, azimuth, omega=omega)
        return SurfaceFlight(
            *(
                np.asarray(x)
                for x in (ff.range, ff.time_of_flight, ff.apogee_alt, ff.impact_lat, ff.impact_lon)
            )
        )
    model = EarthModel(shape=shape, rotation=rotation, j2=True, atmosphere=False)
    res = numeric_free_flight(speed, gamma, alt0, alt1, lat0, lon0, azimuth, model)
    return SurfaceFlight(
        *(
            x[0]
            for x in (res.range, res.time_of_flight, res.apogee_alt, res.impact_lat, res.impact_lon)
        )
    )
