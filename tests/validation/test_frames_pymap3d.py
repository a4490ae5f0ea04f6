"""Validation of openbmd.earth frame conversions against pymap3d (radians, WGS-84).

Source: pymap3d (M. Hirsch, "pymap3d: Python 3-D coordinate conversions for Python",
J. Open Source Software 3(23), 580, 2018; https://github.com/geospace-code/pymap3d), whose forward
conversions follow the closed forms of NGA TR8350.2. Tolerance: 1 mm on positions, 1 mm of arc on
angles at the relevant range.

pymap3d's ``ecef2geodetic`` is itself an approximation whose error grows with height (about 1 µm
at 100 km, ~1 cm at 1000 km, ~100 m at 40 000 km), so the inverse is compared only from −5 km to
100 km; above, openbmd's own inverse is checked by round trip in tests/unit/test_earth.py.
"""

from __future__ import annotations

import numpy as np
import pymap3d as pm
import pytest

from openbmd import earth

MM = 1e-3
N = 20000


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(20240611)
    lat = np.arcsin(rng.uniform(-1.0, 1.0, N))
    lon = rng.uniform(-np.pi, np.pi, N)
    alt = rng.uniform(-5e3, 2e6, N)
    lat0 = np.arcsin(rng.uniform(-1.0, 1.0, N))
    lon0 = rng.uniform(-np.pi, np.pi, N)
    alt0 = rng.uniform(-5e3, 5e3, N)
    return lat, lon, alt, lat0, lon0, alt0


def test_geodetic2ecef(points):
    lat, lon, alt, *_ = points
    x, y, z = pm.geodetic2ecef(lat, lon, alt, deg=False)
    np.testing.assert_allclose(
        earth.geodetic2ecef(lat, lon, alt), np.stack([x, y, z], -1), atol=MM, rtol=0
    )


def test_ecef2geodetic_up_to_100km(points):
    lat, lon, alt, *_ = points
    alt = np.clip(alt, -5e3, 1e5)
    r = earth.geodetic2ecef(lat, lon, alt)
    lat_p, lon_p, alt_p = pm.ecef2geodetic(r[:, 0], r[:, 1], r[:, 2], deg=False)
    lat_o, lon_o, alt_o = earth.ecef2geodetic(r)
    np.testing.assert_allclose(alt_o, alt_p, atol=MM, rtol=0)
    arc = earth.sphere_inverse(lat_o, lon_o, lat_p, lon_p, 6.5e6)[0]
    assert arc.max() < MM


def test_ecef2enu_and_back(points):
    lat, lon, alt, lat0, lon0, alt0 = points
    r = earth.geodetic2ecef(lat, lon, alt)
    e, n, u = pm.ecef2enu(r[:, 0], r[:, 1], r[:, 2], lat0, lon0, alt0, deg=False)
    enu = earth.ecef2enu(r, lat0, lon0, alt0)
    np.testing.assert_allclose(enu, np.stack([e, n, u], -1), atol=MM, rtol=0)
    x, y, z = pm.enu2ecef(e, n, u, lat0, lon0, alt0, deg=False)
    np.testing.assert_allclose(
        earth.enu2ecef(enu, lat0, lon0, alt0), np.stack([x, y, z], -1), atol=MM, rtol=0
    )


def test_ecef2aer_and_back(points):
    lat, lon, alt, lat0, lon0, alt0 = points
    r = earth.geodetic2ecef(lat, lon, alt)
    az_p, el_p, rng_p = pm.ecef2aer(r[:, 0], r[:, 1], r[:, 2], lat0, lon0, alt0, deg=False)
    az, el, rng = earth.ecef2aer(r, lat0, lon0, alt0)
    np.testing.assert_allclose(rng, rng_p, atol=MM, rtol=0)
    # angles compared as arc length at the slant range (az wraps at 2π)
    assert np.max(np.abs(np.angle(np.exp(1j * (az - az_p)))) * rng * np.cos(el)) < MM
    assert np.max(np.abs(el - el_p) * rng) < MM
    x, y, z = pm.aer2ecef(az_p, el_p, rng_p, lat0, lon0, alt0, deg=False)
    np.testing.assert_allclose(
        earth.aer2ecef(az, el, rng, lat0, lon0, alt0), np.stack([x, y, z], -1), atol=MM, rtol=0
    )
