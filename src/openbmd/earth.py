"""Earth geometry and physics: frames, geodesics, gravity and the standard atmosphere.

SI units and radians everywhere. Every function broadcasts over leading (batch) dimensions;
vectors are arrays of shape ``(..., 3)`` with the components last.

Frames
------
ECEF
    WGS-84 Earth-centred, Earth-fixed (NGA TR8350.2). The world frame for positions.
ECI
    Earth-centred inertial frame coinciding with ECEF at the scenario epoch ``t = 0``; z is the
    spin axis, so ECEF is ECI rotated about z by ``omega * t``.
ENU
    Local east, north, up axes at a geodetic origin ``(lat0, lon0, alt0)``.

Geodetic ⇄ ECEF ⇄ ENU/AER is our own vectorised code, chosen by measurement against pymap3d
(``benchmarks/bench_earth.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from openbmd.constants import (
    GM_EARTH,
    J2_EARTH,
    OMEGA_EARTH,
    R_EARTH_MEAN,
    WGS84_A,
    WGS84_B,
    WGS84_E2,
)

__all__ = [
    "Atmosphere",
    "aer2ecef",
    "atmosphere",
    "density_and_sound_speed",
    "ecef2aer",
    "ecef2eci",
    "ecef2eci_state",
    "ecef2enu",
    "ecef2geodetic",
    "eci2ecef",
    "eci2ecef_state",
    "enu2ecef",
    "enu_basis",
    "geodesic_direct",
    "geodesic_inverse",
    "geodetic2ecef",
    "gravity",
    "sphere_direct",
    "sphere_inverse",
]

Array = NDArray[np.float64]
_TWO_PI = 2.0 * np.pi
_EP2 = WGS84_E2 / (1.0 - WGS84_E2)  # second eccentricity squared [-]
_GEOD = pyproj.Geod(ellps="WGS84")
_BOWRING_ITERATIONS = 2  # a third update changes nothing at 1e-8 m (measured to 40 000 km)


def _f(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


# --------------------------------------------------------------------------------------------------
# Geodetic ⇄ ECEF ⇄ ENU / AER
# --------------------------------------------------------------------------------------------------


def geodetic2ecef(lat: ArrayLike, lon: ArrayLike, alt: ArrayLike) -> Array:
    """WGS-84 geodetic latitude, longitude [rad] and ellipsoidal height [m] to ECEF position.

    Returns
    -------
    ndarray, shape (..., 3)
        ECEF position [m]; ``...`` is the broadcast shape of the inputs.
    """
    lat, lon, alt = _f(lat), _f(lon), _f(alt)
    sl, cl = np.sin(lat), np.cos(lat)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sl * sl)  # prime-vertical radius of curvature
    rc = (n + alt) * cl
    z = (n * (1.0 - WGS84_E2) + alt) * sl
    return np.stack(np.broadcast_arrays(rc * np.cos(lon), rc * np.sin(lon), z), axis=-1)


def ecef2geodetic(r_ecef: ArrayLike) -> tuple[Array, Array, Array]:
    """ECEF position (..., 3) [m] to WGS-84 geodetic latitude, longitude [rad] and height [m].

    Bowring's iteration on the parametric latitude with a fixed two updates: error below 0.1 µm
    from −5 km to beyond geostationary height (round trip in the tests), exact at the poles, and
    finite everywhere including the centre of the Earth.

    Returns
    -------
    lat, lon, alt : ndarray, shape (...)
        Latitude in [−π/2, π/2], longitude in (−π, π] [rad], height above the ellipsoid [m].
    """
    r = _f(r_ecef)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    p = np.hypot(x, y)
    b_over_a = WGS84_B / WGS84_A
    # parametric latitude beta as an unnormalised (cos, sin) pair; tan(beta) = (b/a) tan(lat)
    cb, sb = b_over_a * p, z
    for _ in range(_BOWRING_ITERATIONS):
        inv = 1.0 / (np.hypot(cb, sb) + 1e-300)  # the tiny term keeps the centre finite
        cb, sb = cb * inv, sb * inv
        num = z + (_EP2 * WGS84_B) * (sb * sb * sb)
        # negative only within ~43 km of the centre, where the latitude is ambiguous anyway
        den = np.maximum(p - (WGS84_E2 * WGS84_A) * (cb * cb * cb), 0.0)
        cb, sb = den, b_over_a * num
    lat = np.arctan2(num, den)
    inv = 1.0 / (np.hypot(num, den) + 1e-300)
    sl, cl = num * inv, den * inv
    alt = p * cl + z * sl - WGS84_A * np.sqrt(1.0 - WGS84_E2 * sl * sl)
    return lat, np.arctan2(y, x), alt


def enu_basis(lat: ArrayLike, lon: ArrayLike) -> Array:
    """Local east, north, up unit vectors in ECEF at geodetic ``lat``, ``lon`` [rad].

    Returns
    -------
    ndarray, shape (..., 3, 3)
        Rows are east, north, up (ECEF components): ``basis @ v_ecef`` is ``v`` in ENU.
    """
    lat, lon = np.broadcast_arrays(_f(lat), _f(lon))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    east = np.stack([-so, co, np.zeros_like(sl)], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return np.stack([east, north, up], axis=-2)


def _ecef2enu_vec(d: Array, lat0: Array, lon0: Array) -> tuple[Array, Array, Array]:
    sl, cl, so, co = np.sin(lat0), np.cos(lat0), np.sin(lon0), np.cos(lon0)
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    t = co * dx + so * dy
    return -so * dx + co * dy, -sl * t + cl * dz, cl * t + sl * dz


def _enu2ecef_xyz(e: Array, n: Array, u: Array, lat0: Array, lon0: Array, alt0: Array) -> Array:
    sl, cl, so, co = np.sin(lat0), np.cos(lat0), np.sin(lon0), np.cos(lon0)
    t = cl * u - sl * n
    d = np.stack(np.broadcast_arrays(co * t - so * e, so * t + co * e, sl * u + cl * n), axis=-1)
    return d + geodetic2ecef(lat0, lon0, alt0)


def ecef2enu(r_ecef: ArrayLike, lat0: ArrayLike, lon0: ArrayLike, alt0: ArrayLike) -> Array:
    """ECEF position (..., 3) [m] to east, north, up (..., 3) [m] about a geodetic origin.

    ``lat0``, ``lon0`` [rad] and ``alt0`` [m] broadcast against ``r_ecef[..., 0]``.
    """
    d = _f(r_ecef) - geodetic2ecef(lat0, lon0, alt0)
    return np.stack(_ecef2enu_vec(d, _f(lat0), _f(lon0)), axis=-1)


def enu2ecef(enu: ArrayLike, lat0: ArrayLike, lon0: ArrayLike, alt0: ArrayLike) -> Array:
    """East, north, up (..., 3) [m] about a geodetic origin [rad, rad, m] to ECEF (..., 3) [m]."""
    v = _f(enu)
    return _enu2ecef_xyz(v[..., 0], v[..., 1], v[..., 2], _f(lat0), _f(lon0), _f(alt0))


def ecef2aer(
    r_ecef: ArrayLike, lat0: ArrayLike, lon0: ArrayLike, alt0: ArrayLike
) -> tuple[Array, Array, Array]:
    """ECEF position (..., 3) [m] to azimuth, elevation, slant range from a geodetic origin.

    Returns
    -------
    az, el, rng : ndarray, shape (...)
        Azimuth from north clockwise in [0, 2π) [rad]; elevation above the plane normal to the
        ellipsoid normal [rad]; slant range [m].
    """
    lat0, lon0 = _f(lat0), _f(lon0)
    e, n, u = _ecef2enu_vec(_f(r_ecef) - geodetic2ecef(lat0, lon0, alt0), lat0, lon0)
    h = np.hypot(e, n)
    return _wrap_az(np.arctan2(e, n)), np.arctan2(u, h), np.hypot(h, u)


def aer2ecef(
    az: ArrayLike, el: ArrayLike, rng: ArrayLike, lat0: ArrayLike, lon0: ArrayLike, alt0: ArrayLike
) -> Array:
    """Azimuth, elevation [rad] and slant range [m] from a geodetic origin to ECEF (..., 3) [m]."""
    az, el, rng = _f(az), _f(el), _f(rng)
    h = rng * np.cos(el)
    e, n, u = h * np.sin(az), h * np.cos(az), rng * np.sin(el)
    return _enu2ecef_xyz(e, n, u, _f(lat0), _f(lon0), _f(alt0))


# --------------------------------------------------------------------------------------------------
# ECI ⇄ ECEF (rotation about z since the epoch)
# --------------------------------------------------------------------------------------------------


def _rotz(v: Array, c: Array, s: Array) -> Array:
    """Components of ``v`` in a frame rotated by +angle about z (passive rotation)."""
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return np.stack(np.broadcast_arrays(c * x + s * y, c * y - s * x, z), axis=-1)


def _w_cross(r: Array, omega: float) -> Array:
    return np.stack(np.broadcast_arrays(-omega * r[..., 1], omega * r[..., 0], 0.0), axis=-1)


def eci2ecef(r_eci: ArrayLike, t: ArrayLike, omega: float = OMEGA_EARTH) -> Array:
    """ECI vector (..., 3) to ECEF: rotation about z by ``omega * t``.

    Parameters
    ----------
    r_eci : array_like, shape (..., 3)
        Vector in ECI (any unit; the same unit is returned).
    t : array_like, shape (...)
        Time since the epoch [s], broadcast against ``r_eci[..., 0]``.
    omega : float
        Earth rotation rate [rad/s].
    """
    th = omega * _f(t)
    return _rotz(_f(r_eci), np.cos(th), np.sin(th))


def ecef2eci(r_ecef: ArrayLike, t: ArrayLike, omega: float = OMEGA_EARTH) -> Array:
    """ECEF vector (..., 3) to ECI: rotation about z by ``-omega * t`` (see :func:`eci2ecef`)."""
    th = omega * _f(t)
    return _rotz(_f(r_ecef), np.cos(th), -np.sin(th))


def eci2ecef_state(
    r_eci: ArrayLike, v_eci: ArrayLike, t: ArrayLike, omega: float = OMEGA_EARTH
) -> tuple[Array, Array]:
    """ECI position [m] and inertial velocity [m/s] to ECEF position and Earth-relative velocity.

    ``v_ecef = R(t) v_eci − ω × r_ecef``, ``ω = (0, 0, omega)``; shapes (..., 3), ``t`` [s] (...).
    """
    r = eci2ecef(r_eci, t, omega)
    return r, eci2ecef(v_eci, t, omega) - _w_cross(r, omega)


def ecef2eci_state(
    r_ecef: ArrayLike, v_ecef: ArrayLike, t: ArrayLike, omega: float = OMEGA_EARTH
) -> tuple[Array, Array]:
    """ECEF position [m] and Earth-relative velocity [m/s] to ECI position and inertial velocity.

    ``v_eci = R(t)ᵀ (v_ecef + ω × r_ecef)``: the inverse of :func:`eci2ecef_state`.
    """
    r = _f(r_ecef)
    return ecef2eci(r, t, omega), ecef2eci(_f(v_ecef) + _w_cross(r, omega), t, omega)


# --------------------------------------------------------------------------------------------------
# Geodesics
# --------------------------------------------------------------------------------------------------


def _wrap_az(az: Array) -> Array:
    """Angle to [0, 2π) (``mod`` of a tiny negative number can round to 2π itself)."""
    az = np.mod(az, _TWO_PI)
    return np.where(az >= _TWO_PI, 0.0, az)


def _flat(*args: ArrayLike) -> tuple[tuple[int, ...], list[Array]]:
    arrays = np.broadcast_arrays(*(_f(a) for a in args))
    return arrays[0].shape, [np.ascontiguousarray(a).ravel().copy() for a in arrays]


def geodesic_inverse(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> tuple[Array, Array, Array]:
    """Shortest WGS-84 geodesic between two points [rad] (Karney's algorithm, ``pyproj.Geod``).

    Returns
    -------
    dist_m : ndarray
        Geodesic length [m].
    az12 : ndarray
        Azimuth at point 1 towards point 2, from north clockwise, in [0, 2π) [rad].
    az21 : ndarray
        Back azimuth: at point 2 towards point 1, in [0, 2π) [rad] (the direction of travel on
        arrival is ``az21 + π``).
    """
    shape, (a1, o1, a2, o2) = _flat(lat1, lon1, lat2, lon2)
    f12, b21, d = _GEOD.inv(o1, a1, o2, a2, radians=True)
    return _f(d).reshape(shape), _wrap_az(_f(f12)).reshape(shape), _wrap_az(_f(b21)).reshape(shape)


def geodesic_direct(
    lat1: ArrayLike, lon1: ArrayLike, az12: ArrayLike, dist_m: ArrayLike
) -> tuple[Array, Array, Array]:
    """End of the WGS-84 geodesic of ``dist_m`` [m] from ``lat1``, ``lon1`` at ``az12`` [rad].

    Returns
    -------
    lat2, lon2 : ndarray
        End point [rad], longitude in [−π, π].
    az21 : ndarray
        Back azimuth at the end point (towards the start), in [0, 2π) [rad].
    """
    shape, (a1, o1, z12, d) = _flat(lat1, lon1, az12, dist_m)
    o2, a2, b21 = _GEOD.fwd(o1, a1, z12, d, radians=True)
    return _f(a2).reshape(shape), _f(o2).reshape(shape), _wrap_az(_f(b21)).reshape(shape)


def sphere_inverse(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, radius: float = R_EARTH_MEAN
) -> tuple[Array, Array]:
    """Great-circle distance [m] and initial azimuth in [0, 2π) [rad] on a sphere of ``radius`` [m].

    Haversine with ``atan2`` (accurate for coincident and antipodal points); inputs in [rad].
    """
    p1, l1, p2, l2 = _f(lat1), _f(lon1), _f(lat2), _f(lon2)
    dl = l2 - l1
    c1, c2, s1, s2 = np.cos(p1), np.cos(p2), np.sin(p1), np.sin(p2)
    h = np.clip(np.sin(0.5 * (p2 - p1)) ** 2 + c1 * c2 * np.sin(0.5 * dl) ** 2, 0.0, 1.0)
    dist = 2.0 * radius * np.arctan2(np.sqrt(h), np.sqrt(1.0 - h))
    return dist, _wrap_az(np.arctan2(np.sin(dl) * c2, c1 * s2 - s1 * c2 * np.cos(dl)))


def sphere_direct(
    lat1: ArrayLike,
    lon1: ArrayLike,
    az12: ArrayLike,
    dist_m: ArrayLike,
    radius: float = R_EARTH_MEAN,
) -> tuple[Array, Array]:
    """End point [rad] of the great-circle arc from ``lat1``, ``lon1`` at azimuth ``az12`` [rad].

    ``dist_m`` [m] on a sphere of ``radius`` [m]; the returned longitude is wrapped to [−π, π).
    """
    p1, az = _f(lat1), _f(az12)
    delta = _f(dist_m) / radius
    s1, c1, sd, cd = np.sin(p1), np.cos(p1), np.sin(delta), np.cos(delta)
    # end point as a unit vector: x towards the start meridian, y east, z the pole
    z = s1 * cd + c1 * sd * np.cos(az)
    x = c1 * cd - s1 * sd * np.cos(az)
    y = sd * np.sin(az)
    lon2 = np.mod(_f(lon1) + np.arctan2(y, x) + np.pi, _TWO_PI) - np.pi
    return np.arctan2(z, np.hypot(x, y)), lon2


# --------------------------------------------------------------------------------------------------
# Gravity
# --------------------------------------------------------------------------------------------------


def gravity(r: ArrayLike, j2: bool = True) -> Array:
    """Gravitational acceleration [m/s²] of a point mass plus (optionally) the J2 zonal term.

    The gradient of ``U = (μ/r) [1 − J2 (a/r)² P2(z/r)]``, ``P2(s) = (3s² − 1)/2``, μ = GM⊕,
    a = WGS-84 equatorial radius. No centrifugal term.

    Parameters
    ----------
    r : array_like, shape (..., 3)
        Position [m] in any Earth-centred frame whose z axis is the spin axis (ECI or ECEF).
    j2 : bool
        Include the J2 term.

    Returns
    -------
    ndarray, shape (..., 3)
        Acceleration [m/s²] in the frame of ``r``.
    """
    r = _f(r)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    r2 = x * x + y * y + z * z
    k = -GM_EARTH / (r2 * np.sqrt(r2))
    if not j2:
        return k[..., None] * r
    q = 1.5 * J2_EARTH * WGS84_A**2 / r2
    zz = 5.0 * z * z / r2
    kxy = k * (1.0 + q * (1.0 - zz))
    kz = k * (1.0 + q * (3.0 - zz))
    return np.stack([kxy * x, kxy * y, kz * z], axis=-1)


# --------------------------------------------------------------------------------------------------
# US Standard Atmosphere 1976 (NOAA-S/T 76-1562)
# --------------------------------------------------------------------------------------------------

_R_STAR = 8.31432  # US76 universal gas constant [J/(mol K)] (the standard's value, not CODATA)
_M0 = 28.9644e-3  # sea-level mean molar mass of air [kg/mol]
_R0_US76 = 6356766.0  # effective Earth radius for geopotential height [m]
_R_AIR = _R_STAR / _M0  # [J/(kg K)]
_GAMMA_R = 1.4 * _R_AIR  # gamma R for the speed of sound [J/(kg K)]
_GMR = 9.80665 * _M0 / _R_STAR  # g0 M0 / R* [K/m]
_Z_TOP, _Z_BOTTOM = 86000.0, -5000.0  # geometric [m]; 86 km is geopotential 84852.05 m
# Layer bases: geopotential height [m], molecular-scale temperature gradient [K/m] (US76 table 4).
_HB = np.array([0.0, 11e3, 20e3, 32e3, 47e3, 51e3, 71e3])
_LB = np.array([-6.5, 0.0, 1.0, 2.8, 0.0, -2.8, -2.0]) * 1e-3
_TB = 288.15 + np.concatenate([[0.0], np.cumsum(_LB[:-1] * np.diff(_HB))])
_ISO = _LB == 0.0
_LSAFE = np.where(_ISO, 1.0, _LB)


def _lnp_rise(i: NDArray[np.intp], dh: Array) -> tuple[Array, Array]:
    """Tm and ln(P/Pb) at ``dh`` [m] above the base of layer(s) ``i``."""
    tb = _TB[i]
    tm = tb + _LB[i] * dh
    return tm, np.where(_ISO[i], -_GMR * dh / tb, (_GMR / _LSAFE[i]) * np.log(tb / tm))


_LNPB = np.log(101325.0) + np.concatenate(
    [[0.0], np.cumsum(_lnp_rise(np.arange(6), np.diff(_HB))[1])]
)
# M/M0 for 80-86 km in 0.5 km steps (US76 table 8): only the kinetic temperature T = Tm M/M0 uses
# it; density and speed of sound follow from Tm and M0.
_MRATIO_Z = np.arange(80e3, 86e3 + 1.0, 500.0)
_MRATIO = np.array(
    [1.0, 0.999996, 0.999989, 0.999971, 0.999941, 0.999909, 0.999870, 0.999829, 0.999786, 0.999741,
     0.999694, 0.999641, 0.999579]
)  # fmt: skip


def _lower(z: Array) -> tuple[Array, Array, Array]:
    """Tm [K], P [Pa] and rho [kg/m³] of the seven layers at geometric ``z`` in [-5, 86] km."""
    h = _R0_US76 * z / (_R0_US76 + z)
    i = np.clip(np.searchsorted(_HB, h, side="right") - 1, 0, 6)
    tm, dlnp = _lnp_rise(i, h - _HB[i])
    p = np.exp(_LNPB[i] + dlnp)
    return tm, p, p / (_R_AIR * tm)


# Above 86 km: piecewise-exponential density through the US76 tabulated densities (NOAA-S/T 76-1562,
# table I) at these geometric altitudes [km]; the 86 km knot is the layer model's own value
# (6.9578e-6 vs the printed 6.958e-6) so the profile is continuous. Segment scale heights
# dz / ln(rho_i / rho_i+1): 5.6 km (86-90 km), 5.5 (90-100), 5.7 (100-110), 6.8 (110-120),
# 10.0 (120-130), 19.2 (150-160), 34.9 (200-250), 54.5 (350-400), 61.0 (450-500), 100.6 (700-800),
# 208 km (900-1000 km, also used above 1000 km).
_UP_Z = 1e3 * np.array(
    [86, 90, 100, 110, 120, 130, 140, 150, 160, 180, 200, 250, 300, 350, 400, 450, 500, 600, 700,
     800, 900, 1000], dtype=np.float64
)  # fmt: skip
_UP_LNRHO = np.log(
    [float(_lower(np.array(_Z_TOP))[2]), 3.416e-6, 5.604e-7, 9.708e-8, 2.222e-8, 8.152e-9,
     3.831e-9, 2.076e-9, 1.233e-9, 5.194e-10, 2.541e-10, 6.073e-11, 1.916e-11, 7.014e-12,
     2.803e-12, 1.184e-12, 5.215e-13, 1.137e-13, 3.070e-14, 1.136e-14, 5.759e-15, 3.561e-15]
)  # fmt: skip
_UP_SLOPE = np.diff(_UP_LNRHO) / np.diff(_UP_Z)  # d ln(rho)/dz = -1/scale height [1/m]
_TM_TOP = float(_lower(np.array(_Z_TOP))[0])  # 186.946 K
_T_TOP = _TM_TOP * float(_MRATIO[-1])  # kinetic temperature at 86 km, 186.867 K


def _upper_density(z: Array) -> Array:
    j = np.clip(np.searchsorted(_UP_Z, z, side="right") - 1, 0, _UP_Z.size - 2)
    return np.exp(_UP_LNRHO[j] + _UP_SLOPE[j] * (z - _UP_Z[j]))


@dataclass(frozen=True)
class Atmosphere:
    """Atmospheric state at a batch of altitudes (arrays shaped like the altitudes).

    Attributes
    ----------
    temperature : ndarray
        Kinetic temperature [K].
    pressure : ndarray
        Pressure [Pa].
    density : ndarray
        Mass density [kg/m³].
    speed_of_sound : ndarray
        Speed of sound [m/s].
    """

    temperature: Array
    pressure: Array
    density: Array
    speed_of_sound: Array


def atmosphere(alt: ArrayLike) -> Atmosphere:
    """US Standard Atmosphere 1976 (NOAA-S/T 76-1562) at geometric altitudes.

    0–86 km: the standard's seven layers in geopotential height ``H = r0 z / (r0 + z)``,
    r0 = 6356.766 km, with its R* = 8.31432 J/(mol K) and M0 = 28.9644 g/mol; the kinetic
    temperature includes the M/M0 correction of 80–86 km. The first layer is extended down to
    −5 km; values are held constant below. Above 86 km the density is piecewise exponential
    through the standard's tabulated densities up to 1000 km (scale heights in the source
    comments), continued above with the 900–1000 km scale height; temperature and speed of sound
    are held at their 86 km values (186.87 K, 274.10 m/s) and the pressure is ``rho R* Tm / M0``
    (so above 86 km only the density follows the standard).

    Parameters
    ----------
    alt : array_like
        Geometric altitude above the ellipsoid [m].

    Returns
    -------
    Atmosphere
        Temperature [K], pressure [Pa], density [kg/m³], speed of sound [m/s], shaped like ``alt``.
    """
    z = np.maximum(np.atleast_1d(_f(alt)), _Z_BOTTOM)
    zc = np.minimum(z, _Z_TOP)
    tm, p, rho = _lower(zc)
    t = tm * np.interp(zc, _MRATIO_Z, _MRATIO)
    high = z > _Z_TOP
    if high.any():
        rho[high] = _upper_density(z[high])
        p[high] = rho[high] * _R_AIR * _TM_TOP
        t[high] = _T_TOP
    shape = np.shape(alt)
    a = np.sqrt(_GAMMA_R * tm)
    return Atmosphere(t.reshape(shape), p.reshape(shape), rho.reshape(shape), a.reshape(shape))


def density_and_sound_speed(alt: ArrayLike) -> tuple[Array, Array]:
    """Density [kg/m³] and speed of sound [m/s] of :func:`atmosphere` (the integrator's fast path).

    Parameters
    ----------
    alt : array_like
        Geometric altitude above the ellipsoid [m].

    Returns
    -------
    rho, a : ndarray
        Density [kg/m³] and speed of sound [m/s], shaped like ``alt``.
    """
    z = np.maximum(np.atleast_1d(_f(alt)), _Z_BOTTOM)
    high = z > _Z_TOP
    any_high = bool(high.any())
    tm, _, rho = _lower(np.minimum(z, _Z_TOP) if any_high else z)
    if any_high:
        rho[high] = _upper_density(z[high])
    shape = np.shape(alt)
    return rho.reshape(shape), np.sqrt(_GAMMA_R * tm).reshape(shape)
