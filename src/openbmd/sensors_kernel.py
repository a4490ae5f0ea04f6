"""Compiled sensor geometry (:mod:`openbmd.sensors`): what a radar and a space IR layer see.

* :func:`radar_view` — azimuth, elevation, range and the in-view mask of a ground radar for a
  batch of target positions, refraction included (the rules are stated in
  :mod:`openbmd.sensors`: 4/3-Earth bending inside the troposphere, the astronomical bending of
  :func:`refraction` above it);
* :func:`best_satellite` — which satellite of a space IR layer reports each sample: the one
  nearest the target's zenith among those whose line of sight clears the Earth's sphere.

Each is one pass over the samples instead of a dozen NumPy temporaries of the batch's size (the
sensors were the costliest part of the engagement chain). A NaN position (after impact) is in
nobody's view.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["best_satellite", "radar_view", "refraction", "refraction_many"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@numba.njit(cache=True, nogil=True)
def best_satellite(
    r: FloatArray, sats: FloatArray, radius: float, score: FloatArray, which: IntArray
) -> None:  # pragma: no cover
    """For each target position ``r`` (M, 3) [m, ECEF], the satellite of ``sats`` (S, 3) that
    sees it nearest its zenith, into ``which`` (M,) (−1: none), and the cosine of that
    satellite's zenith angle seen from the target into ``score`` (M,) (−inf: none).

    A line of sight is clear when its closest approach to the Earth's centre (the segment's
    nearest point) is at least ``radius`` [m]; a NaN position (after impact) sees nothing.
    Ties go to the first satellite.
    """
    m, n_s = r.shape[0], sats.shape[0]
    for i in range(m):
        x, y, z = r[i, 0], r[i, 1], r[i, 2]
        best, k = -np.inf, -1
        rn = math.sqrt(x * x + y * y + z * z)
        for s in range(n_s):
            sx, sy, sz = sats[s, 0], sats[s, 1], sats[s, 2]
            dx, dy, dz = x - sx, y - sy, z - sz
            dd = dx * dx + dy * dy + dz * dz
            u = min(max(-(sx * dx + sy * dy + sz * dz) / dd, 0.0), 1.0)
            px, py, pz = sx + u * dx, sy + u * dy, sz + u * dz
            if not math.sqrt(px * px + py * py + pz * pz) >= radius:
                continue
            c = -(dx * x + dy * y + dz * z) / (math.sqrt(dd) * rn)
            if c > best:
                best, k = c, s
        score[i] = best
        which[i] = k


@numba.njit(cache=True, nogil=True)
def refraction(el_geo: float) -> float:  # pragma: no cover
    """Total bending [rad] of a ray that leaves the atmosphere, from the geometric elevation
    [rad] (Saemundsson's formula; see :func:`openbmd.sensors.astronomical_refraction`)."""
    h = math.degrees(min(max(el_geo, math.radians(-1.0)), 0.5 * math.pi))
    r_arcmin = 1.02 / math.tan(math.radians(h + 10.3 / (h + 5.11)))
    return math.radians(max(r_arcmin, 0.0) / 60.0)


@numba.njit(cache=True, nogil=True)
def refraction_many(el_geo: FloatArray, out: FloatArray) -> None:  # pragma: no cover
    """:func:`refraction` of each element of ``el_geo`` (flat) into ``out``."""
    for i in range(el_geo.shape[0]):
        out[i] = refraction(el_geo[i]) if el_geo[i] == el_geo[i] else np.nan


@numba.njit(cache=True, nogil=True, inline="always")
def _sphere_elevation(
    theta: float, a: float, h_s: float, h_t: float
) -> tuple[float, bool]:  # pragma: no cover
    """Elevation of a target at central angle ``theta`` over a sphere of radius ``a``, and
    whether the straight ray between them dips below the sphere (blocked)."""
    ra, rt = a + h_s, a + h_t
    el = math.atan2(rt * math.cos(theta) - ra, rt * math.sin(theta))
    # a descending ray reaches its lowest point, ra cos(el), a central angle -el ahead
    return el, (el < 0.0) and (ra * math.cos(el) < a) and (-el < theta)


@numba.njit(cache=True, nogil=True)
def radar_view(
    r: FloatArray,
    h_t: FloatArray,
    site: FloatArray,
    site_geo: FloatArray,
    limits: FloatArray,
    refr: FloatArray,
    az: FloatArray,
    el: FloatArray,
    el_app: FloatArray,
    rng: FloatArray,
    view: NDArray[np.bool_],
) -> None:  # pragma: no cover
    """Geometry of a ground radar for targets ``r`` (M, 3) [m, ECEF] at geodetic heights
    ``h_t`` (M,) [m], into ``az`` (from north, [0, 2π)), ``el`` (geometric), ``el_app``
    (apparent, refracted), ``rng`` (slant) and ``view`` (M,).

    ``site`` (3,): the radar's ECEF position [m]; ``site_geo``: its latitude, longitude [rad]
    and height [m]; ``limits``: boresight azimuth, azimuth span, lowest and highest apparent
    elevation [rad], maximum range [m]; ``refr``: mean Earth radius, effective (4/3) radius,
    troposphere top [m] and the grazing elevation of the effective sphere [rad].
    """
    sl, cl = math.sin(site_geo[0]), math.cos(site_geo[0])
    so, co = math.sin(site_geo[1]), math.cos(site_geo[1])
    h_s = site_geo[2]
    bore, span, el_lo, el_hi, r_max = limits[0], limits[1], limits[2], limits[3], limits[4]
    big_r, a_eff, top, grazing = refr[0], refr[1], refr[2], refr[3]
    two_pi = 2.0 * math.pi
    site_n = math.sqrt(site[0] ** 2 + site[1] ** 2 + site[2] ** 2)
    for i in range(r.shape[0]):
        x, y, z = r[i, 0], r[i, 1], r[i, 2]
        dx, dy, dz = x - site[0], y - site[1], z - site[2]
        t = co * dx + so * dy
        e, n, u = -so * dx + co * dy, -sl * t + cl * dz, cl * t + sl * dz
        hz = math.hypot(e, n)
        a_i = math.atan2(e, n) % two_pi
        if a_i >= two_pi:
            a_i = 0.0
        el_i = math.atan2(u, hz)
        rng_i = math.hypot(hz, u)
        az[i], el[i], rng[i] = a_i, el_i, rng_i
        cos_t = (x * site[0] + y * site[1] + z * site[2]) / (
            math.sqrt(x * x + y * y + z * z) * site_n
        )
        theta = math.acos(min(max(cos_t, -1.0), 1.0))
        if h_t[i] <= top:  # inside the troposphere: 4/3-Earth bending and horizon
            el_k, blocked = _sphere_elevation(theta * big_r / a_eff, a_eff, h_s, h_t[i])
            el_1, _ = _sphere_elevation(theta, big_r, h_s, h_t[i])
            app = el_i + (el_k - el_1)
        else:  # the ray leaves the atmosphere: astronomical bending
            app = el_i + refraction(el_i)
            blocked = app < grazing
        el_app[i] = app
        off = abs((a_i - bore + math.pi) % two_pi - math.pi)
        in_for = (off <= span / 2.0) or (span >= two_pi)
        view[i] = (app >= el_lo) and (app <= el_hi) and in_for and not blocked and rng_i <= r_max
