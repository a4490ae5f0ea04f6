"""Unit tests of openbmd.earth: frames, geodesics, gravity (closed-form checks).

Reference values are derived in the tests from WGS-84 (NGA TR8350.2) and the J2 potential
U = (μ/r) [1 − J2 (a/r)² P2(sin φ)].
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbmd import earth
from openbmd.constants import GM_EARTH, J2_EARTH, OMEGA_EARTH, WGS84_A, WGS84_B

MM = 1e-3  # [m]
HALF_PI = 0.5 * np.pi


def _arc_error(lat1, lon1, lat2, lon2, radius=WGS84_A):
    """Horizontal distance [m] between two (nearby) geodetic positions, safe at the poles."""
    return earth.sphere_inverse(lat1, lon1, lat2, lon2, radius)[0]


# --- geodetic ⇄ ECEF -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "alt"),
    [
        (HALF_PI, 0.0, 0.0),  # north pole
        (-HALF_PI, 1.0, 0.0),  # south pole
        (HALF_PI, 0.0, 1.0e6),
        (-HALF_PI, 0.0, -5.0e3),
        (0.0, 0.0, 0.0),  # equator
        (0.0, 0.5 * np.pi, 1.0e3),
        (0.3, np.pi, 100.0),  # date line
        (-0.3, -np.pi + 1e-12, 100.0),
        (0.7, 2.0, 3.6e7),  # beyond geostationary
        (0.7, -2.0, -5.0e3),  # 5 km below the ellipsoid
        (1.0e-9, 0.0, 0.0),
    ],
)
def test_geodetic_round_trip_special_points(lat, lon, alt):
    r = earth.geodetic2ecef(lat, lon, alt)
    lat2, lon2, alt2 = earth.ecef2geodetic(r)
    assert abs(alt2 - alt) < MM
    assert _arc_error(lat, lon, lat2, lon2, WGS84_A + alt) < MM
    assert np.allclose(earth.geodetic2ecef(lat2, lon2, alt2), r, rtol=0.0, atol=MM)


def test_geodetic_poles_and_centre_are_exact_and_finite():
    lat, lon, alt = earth.ecef2geodetic([[0.0, 0.0, WGS84_B], [0.0, 0.0, -WGS84_B - 10.0]])
    np.testing.assert_allclose(lat, [HALF_PI, -HALF_PI], atol=1e-15)
    np.testing.assert_allclose(alt, [0.0, 10.0], atol=1e-8)
    lat, lon, alt = earth.ecef2geodetic([[0.0, 0.0, 0.0], [1e-9, 0.0, 1e-9], [1.0, 2.0, 3.0]])
    assert np.all(np.isfinite(lat)) and np.all(np.isfinite(lon)) and np.all(np.isfinite(alt))
    assert np.all(np.abs(lat) <= HALF_PI)


def test_geodetic_equator_radius():
    np.testing.assert_allclose(earth.geodetic2ecef(0.0, 0.0, 0.0), [WGS84_A, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(earth.geodetic2ecef(HALF_PI, 0.0, 0.0)[2], WGS84_B, atol=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-HALF_PI, HALF_PI),
    lon=st.floats(-np.pi, np.pi),
    alt=st.floats(-5.0e3, 4.0e7),
)
def test_geodetic_round_trip_property(lat, lon, alt):
    lat2, lon2, alt2 = earth.ecef2geodetic(earth.geodetic2ecef(lat, lon, alt))
    assert abs(alt2 - alt) < MM
    assert _arc_error(lat, lon, lat2, lon2, WGS84_A + alt) < MM


def test_batch_dimensions_pass_through():
    rng = np.random.default_rng(7)
    shape = (2, 3, 4)
    lat = rng.uniform(-1.5, 1.5, shape)
    lon = rng.uniform(-3, 3, shape)
    alt = rng.uniform(0, 1e6, shape)
    r = earth.geodetic2ecef(lat, lon, alt)
    assert r.shape == (*shape, 3)
    assert all(a.shape == shape for a in earth.ecef2geodetic(r))
    assert earth.enu_basis(lat, lon).shape == (*shape, 3, 3)
    lat0, lon0, alt0 = 0.5, 0.2, 10.0  # scalar origin broadcasts
    assert earth.ecef2enu(r, lat0, lon0, alt0).shape == (*shape, 3)
    assert earth.enu2ecef(r, lat0, lon0, alt0).shape == (*shape, 3)
    assert all(a.shape == shape for a in earth.ecef2aer(r, lat0, lon0, alt0))
    assert earth.aer2ecef(lat, lon, alt, lat0, lon0, alt0).shape == (*shape, 3)
    t = rng.uniform(0, 1e3, shape)
    assert earth.eci2ecef(r, t).shape == (*shape, 3)
    assert all(a.shape == (*shape, 3) for a in earth.eci2ecef_state(r, r, t))
    assert earth.gravity(r).shape == (*shape, 3)
    assert earth.gravity(r, j2=False).shape == (*shape, 3)
    atm = earth.atmosphere(alt)
    assert atm.density.shape == shape and atm.temperature.shape == shape
    assert all(a.shape == shape for a in earth.density_and_sound_speed(alt))
    assert all(a.shape == shape for a in earth.geodesic_inverse(lat, lon, 0.1, 0.2))
    assert all(a.shape == shape for a in earth.geodesic_direct(lat, lon, 0.3, alt))
    assert all(a.shape == shape for a in earth.sphere_inverse(lat, lon, 0.1, 0.2))
    assert all(a.shape == shape for a in earth.sphere_direct(lat, lon, 0.3, alt))


# --- ENU / AER -----------------------------------------------------------------------------------


def test_enu_basis_orthonormal_and_up_is_ellipsoid_normal():
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-HALF_PI, HALF_PI, 50), rng.uniform(-np.pi, np.pi, 50)
    b = earth.enu_basis(lat, lon)
    np.testing.assert_allclose(
        b @ np.swapaxes(b, -1, -2), np.broadcast_to(np.eye(3), b.shape), atol=1e-15
    )
    np.testing.assert_allclose(np.linalg.det(b), 1.0, atol=1e-14)  # right-handed
    # up is the direction of increasing height at fixed lat, lon
    up = earth.geodetic2ecef(lat, lon, 1.0) - earth.geodetic2ecef(lat, lon, 0.0)
    np.testing.assert_allclose(b[..., 2, :], up, atol=1e-9)


def test_enu_and_aer_round_trips():
    rng = np.random.default_rng(2)
    n = 1000
    lat0, lon0, alt0 = (
        rng.uniform(-1.5, 1.5, n),
        rng.uniform(-np.pi, np.pi, n),
        rng.uniform(-5e3, 5e3, n),
    )
    r = earth.geodetic2ecef(
        rng.uniform(-1.5, 1.5, n), rng.uniform(-np.pi, np.pi, n), rng.uniform(0, 2e6, n)
    )
    enu = earth.ecef2enu(r, lat0, lon0, alt0)
    np.testing.assert_allclose(earth.enu2ecef(enu, lat0, lon0, alt0), r, rtol=0.0, atol=MM)
    np.testing.assert_allclose(
        np.linalg.norm(enu, axis=-1),
        np.linalg.norm(r - earth.geodetic2ecef(lat0, lon0, alt0), axis=-1),
        rtol=1e-12,
    )
    az, el, rng_m = earth.ecef2aer(r, lat0, lon0, alt0)
    assert np.all((az >= 0.0) & (az < 2 * np.pi)) and np.all(np.abs(el) <= HALF_PI)
    np.testing.assert_allclose(
        earth.aer2ecef(az, el, rng_m, lat0, lon0, alt0), r, rtol=0.0, atol=MM
    )


def test_aer_cardinal_directions():
    lat0, lon0 = 0.4, 0.1
    for az_expected, enu in [
        (0.0, [0, 1, 0]),
        (HALF_PI, [1, 0, 0]),
        (np.pi, [0, -1, 0]),
        (1.5 * np.pi, [-1, 0, 0]),
    ]:
        r = earth.enu2ecef(1e4 * np.array(enu, dtype=float), lat0, lon0, 0.0)
        az, el, rng = earth.ecef2aer(r, lat0, lon0, 0.0)
        assert 0.0 <= az < 2 * np.pi
        assert np.cos(az - az_expected) == pytest.approx(1.0, abs=1e-15)  # 0 and 2π - ε agree
        assert el == pytest.approx(0.0, abs=1e-12)
        assert rng == pytest.approx(1e4, abs=1e-8)
    az, el, _ = earth.ecef2aer(earth.enu2ecef([0.0, 0.0, 5e3], lat0, lon0, 0.0), lat0, lon0, 0.0)
    assert el == pytest.approx(HALF_PI, abs=1e-12)  # ECEF round-off ~1e-9 m over 5 km


# --- ECI ⇄ ECEF ----------------------------------------------------------------------------------


def test_eci_ecef_round_trip_and_rotation_sense():
    rng = np.random.default_rng(3)
    r = rng.normal(size=(100, 3)) * 7e6
    v = rng.normal(size=(100, 3)) * 7e3
    t = rng.uniform(0, 86400, 100)
    np.testing.assert_allclose(earth.ecef2eci(earth.eci2ecef(r, t), t), r, atol=1e-6)
    r_e, v_e = earth.eci2ecef_state(r, v, t)
    r_i, v_i = earth.ecef2eci_state(r_e, v_e, t)
    np.testing.assert_allclose(r_i, r, atol=1e-6)
    np.testing.assert_allclose(v_i, v, atol=1e-9)
    # after a quarter sidereal turn a point fixed in inertial space on +x is seen at −y in ECEF
    t_q = HALF_PI / OMEGA_EARTH
    np.testing.assert_allclose(
        earth.eci2ecef([WGS84_A, 0.0, 0.0], t_q), [0.0, -WGS84_A, 0.0], atol=1e-6
    )
    np.testing.assert_allclose(earth.eci2ecef(r, 0.0), r)


def test_point_on_earth_has_zero_ecef_velocity():
    r_ecef0 = earth.geodetic2ecef(0.9, 0.4, 120.0)
    t = np.linspace(0.0, 3600.0, 7)
    r_eci = earth.ecef2eci(r_ecef0, t)
    v_eci = np.cross([0.0, 0.0, OMEGA_EARTH], r_eci)  # ω × r
    r_ecef, v_ecef = earth.eci2ecef_state(r_eci, v_eci, t)
    np.testing.assert_allclose(r_ecef, np.broadcast_to(r_ecef0, r_ecef.shape), atol=1e-6)
    np.testing.assert_allclose(v_ecef, 0.0, atol=1e-9)
    _, v_back = earth.ecef2eci_state(r_ecef, np.zeros_like(r_ecef), t)
    np.testing.assert_allclose(v_back, v_eci, atol=1e-9)


# --- gravity -------------------------------------------------------------------------------------


def test_gravity_point_mass_magnitudes():
    g_a = np.linalg.norm(earth.gravity([WGS84_A, 0.0, 0.0], j2=False))
    assert g_a == pytest.approx(GM_EARTH / WGS84_A**2, rel=1e-14)
    assert g_a == pytest.approx(9.7983, abs=1e-4)  # μ/a² = 9.79829 m/s²
    np.testing.assert_allclose(
        earth.gravity([0.0, 0.0, -WGS84_B], j2=False), [0, 0, GM_EARTH / WGS84_B**2], rtol=1e-14
    )


def test_gravity_j2_equator_and_pole():
    # From U: g_r = −μ/r² [1 + (3/2) J2 (a/r)² (3 sin²φ − 1)]  (radial), g_φ ∝ sinφ cosφ.
    # Equator (φ = 0, r = a): |g| = μ/a² (1 + 1.5 J2): J2 adds 1.5 J2 μ/a² = 0.0159 m/s².
    # Pole (φ = 90°, r = b): |g| = μ/b² (1 − 3 J2 a²/b²): J2 removes 3 J2 μ a²/b⁴ = 0.0323 m/s².
    g_eq = earth.gravity([WGS84_A, 0.0, 0.0])
    g_pole = earth.gravity([0.0, 0.0, WGS84_B])
    np.testing.assert_allclose(
        g_eq, [-GM_EARTH / WGS84_A**2 * (1 + 1.5 * J2_EARTH), 0, 0], rtol=1e-14
    )
    expected = GM_EARTH / WGS84_B**2 * (1 - 3 * J2_EARTH * WGS84_A**2 / WGS84_B**2)
    np.testing.assert_allclose(g_pole, [0, 0, -expected], rtol=1e-14)
    assert np.linalg.norm(g_eq) - GM_EARTH / WGS84_A**2 == pytest.approx(0.015912, abs=1e-6)
    assert GM_EARTH / WGS84_B**2 - expected == pytest.approx(0.032254, abs=1e-6)


def _potential(r):
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    rr = np.sqrt(x * x + y * y + z * z)
    s2 = (z / rr) ** 2
    return GM_EARTH / rr * (1.0 - J2_EARTH * (WGS84_A / rr) ** 2 * 0.5 * (3.0 * s2 - 1.0))


def test_gravity_is_gradient_of_j2_potential():
    rng = np.random.default_rng(4)
    r = rng.normal(size=(200, 3))
    r *= (rng.uniform(6.4e6, 4.2e7, 200) / np.linalg.norm(r, axis=-1))[:, None]
    h = 1.0  # [m]; central difference error ~ h² |∂³U| ≈ 1e-12 m/s², round-off ≈ 1e-10 m/s²
    grad = np.stack(
        [(_potential(r + h * e) - _potential(r - h * e)) / (2 * h) for e in np.eye(3)], axis=-1
    )
    np.testing.assert_allclose(earth.gravity(r), grad, rtol=0.0, atol=1e-7)  # 1e-7 m/s²


# --- geodesics -----------------------------------------------------------------------------------


def test_geodesic_inverse_direct_round_trip():
    rng = np.random.default_rng(5)
    n = 500
    lat1, lon1 = rng.uniform(-1.5, 1.5, n), rng.uniform(-np.pi, np.pi, n)
    lat2, lon2 = rng.uniform(-1.5, 1.5, n), rng.uniform(-np.pi, np.pi, n)
    d, az12, az21 = earth.geodesic_inverse(lat1, lon1, lat2, lon2)
    assert np.all((az12 >= 0) & (az12 < 2 * np.pi) & (az21 >= 0) & (az21 < 2 * np.pi))
    lat3, lon3, az21b = earth.geodesic_direct(lat1, lon1, az12, d)
    assert np.all(_arc_error(lat2, lon2, lat3, lon3) < MM)
    np.testing.assert_allclose(np.cos(az21b - az21), 1.0, atol=1e-12)


def test_geodesic_known_value():
    # a quarter meridian of WGS-84: 10 001 965.729 m (Karney 2013, and pyproj)
    d, az12, az21 = earth.geodesic_inverse(0.0, 0.0, HALF_PI, 0.0)
    assert d == pytest.approx(10001965.729, abs=MM)
    assert az12 == pytest.approx(0.0, abs=1e-12)
    # along the equator the geodesic length is a × Δλ
    d, az12, az21 = earth.geodesic_inverse(0.0, 0.0, 0.0, 1.0)
    assert d == pytest.approx(WGS84_A, abs=MM)
    assert az12 == pytest.approx(HALF_PI) and az21 == pytest.approx(1.5 * np.pi)


def test_sphere_inverse_direct_round_trip_and_edge_cases():
    rng = np.random.default_rng(6)
    n = 1000
    lat1, lon1 = rng.uniform(-HALF_PI, HALF_PI, n), rng.uniform(-np.pi, np.pi, n)
    lat2, lon2 = rng.uniform(-HALF_PI, HALF_PI, n), rng.uniform(-np.pi, np.pi, n)
    d, az = earth.sphere_inverse(lat1, lon1, lat2, lon2)
    lat3, lon3 = earth.sphere_direct(lat1, lon1, az, d)
    assert np.all(earth.sphere_inverse(lat2, lon2, lat3, lon3)[0] < MM)
    assert np.all((lon3 >= -np.pi) & (lon3 < np.pi))
    r = 6371008.8
    assert earth.sphere_inverse(0.3, 0.2, 0.3, 0.2)[0] == 0.0
    assert earth.sphere_inverse(0.0, 0.0, 0.0, np.pi)[0] == pytest.approx(np.pi * r, abs=MM)
    assert earth.sphere_inverse(0.0, 0.0, 1e-9, 0.0)[0] == pytest.approx(1e-9 * r, rel=1e-9)
    lat, lon = earth.sphere_direct(0.0, 0.0, HALF_PI, 0.25 * np.pi * r)
    assert lat == pytest.approx(0.0, abs=1e-15) and lon == pytest.approx(0.25 * np.pi)
    # the sphere and the ellipsoid agree to ~0.5 % in distance
    d_s = earth.sphere_inverse(lat1, lon1, lat2, lon2)[0]
    d_e = earth.geodesic_inverse(lat1, lon1, lat2, lon2)[0]
    assert np.all(np.abs(d_s - d_e) <= 6e-3 * d_e + 1.0)
