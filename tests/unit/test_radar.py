"""Unit tests of openbmd.radar: inverses, scaling laws, dB helpers, broadcasting."""

from __future__ import annotations

import numpy as np
import pytest

from openbmd import radar as r
from openbmd.constants import BOLTZMANN, SPEED_OF_LIGHT

DEG = np.pi / 180.0


def test_db_helpers_round_trip() -> None:
    x = np.array([1e-3, 0.5, 1.0, 2.0, 1e6])
    np.testing.assert_allclose(r.db2pow(r.pow2db(x)), x, rtol=1e-14)
    assert float(r.db2pow(10.0)) == pytest.approx(10.0)
    assert float(r.pow2db(100.0)) == pytest.approx(20.0)
    assert float(r.pow2db(0.0)) == -np.inf
    assert float(r.frequency_to_wavelength(SPEED_OF_LIGHT)) == 1.0


def test_radar_equation_by_hand() -> None:
    # SNR = Pt τ G² λ² σ / ((4π)³ k Ts L R⁴), written out once
    pt, tau, g, lam, sigma, ts, loss, rng = 1e6, 1e-4, 1e3, 0.1, 2.0, 400.0, 2.0, 300e3
    snr = pt * tau * g**2 * lam**2 * sigma / ((4 * np.pi) ** 3 * BOLTZMANN * ts * loss * rng**4)
    got = r.radar_snr_db(lam, rng, pt, tau, 30.0, sigma, ts, 10 * np.log10(loss))
    assert float(got) == pytest.approx(10 * np.log10(snr), abs=1e-12)


def test_fourth_root_scaling() -> None:
    base = r.radar_range(0.03, 13.0, 1e5, 1e-3)
    assert float(r.radar_range(0.03, 13.0, 16e5, 1e-3)) == pytest.approx(2 * float(base))
    assert float(r.radar_range(0.03, 13.0, 1e5, 1e-3, rcs=1e-4)) == pytest.approx(base / 10)
    # +12 dB of required SNR halves the range (up to 10^(1.2/4) vs 2)
    assert float(r.radar_range(0.03, 13.0 + 40 * np.log10(2), 1e5, 1e-3)) == pytest.approx(base / 2)


def test_search_equations_are_mutually_inverse() -> None:
    omega = r.solid_angle(np.pi / 2, 0.0, 30 * DEG)
    pap = r.search_power_aperture(2000e3, 15.0, omega, 10.0, rcs=0.05, noise_temp=500, loss_db=8)
    rng = r.search_range(15.0, pap, omega, 10.0, rcs=0.05, noise_temp=500, loss_db=8)
    snr = r.search_snr_db(2000e3, pap, omega, 10.0, rcs=0.05, noise_temp=500, loss_db=8)
    assert float(rng) == pytest.approx(2000e3, rel=1e-12)
    assert float(snr) == pytest.approx(15.0, abs=1e-10)


def test_solid_angle_of_the_sphere_and_hemisphere() -> None:
    assert float(r.solid_angle(2 * np.pi, -np.pi / 2, np.pi / 2)) == pytest.approx(4 * np.pi)
    assert float(r.solid_angle(2 * np.pi, 0.0, np.pi / 2)) == pytest.approx(2 * np.pi)


def test_gain_to_aperture() -> None:
    # G = 4π Ae / λ²
    ae = float(r.gain_to_aperture(40.0, 0.1))
    assert 4 * np.pi * ae / 0.01 == pytest.approx(1e4)


def test_horizon_range_default_uses_four_thirds_earth() -> None:
    re = float(r.effective_earth_radius())
    assert float(r.horizon_range(1000.0)) == pytest.approx(np.sqrt(2 * re * 1000 + 1e6))
    assert float(r.horizon_range(0.0)) == 0.0


def test_horizon_ground_range_cases() -> None:
    assert float(r.horizon_ground_range(0.0, 0.0)) == 0.0
    # a target lower than the antenna with a positive minimum elevation is never in view
    assert float(r.horizon_ground_range(1000.0, 10.0, 1 * DEG)) == 0.0
    # a higher minimum elevation shortens the range; a bigger k lengthens it
    d0 = float(r.horizon_ground_range(0.0, 500e3, 0.0))
    assert float(r.horizon_ground_range(0.0, 500e3, 5 * DEG)) < d0
    assert float(r.horizon_ground_range(0.0, 500e3, 0.0, k=2.0)) > d0
    # grazing from a tower reaches further than a horizontal ray
    assert float(r.horizon_ground_range(500.0, 1e3)) > float(r.horizon_ground_range(500.0, 1e3, 0))


def test_min_visible_altitude_beyond_quarter_turn_is_infinite() -> None:
    a = 4.0 / 3.0 * 6371008.8
    assert float(r.min_visible_altitude(a * np.pi / 2 + 1.0)) == np.inf
    assert float(r.min_visible_altitude(0.0)) == pytest.approx(0.0, abs=1e-6)


def test_extra_leading_batch_dimensions_pass_through() -> None:
    freq = np.linspace(1e9, 1e10, 12).reshape(2, 3, 2)
    lam = r.frequency_to_wavelength(freq)
    rng = r.radar_range(lam, 13.0, 1e6, 1e-3)
    assert rng.shape == (2, 3, 2)
    for idx in np.ndindex(rng.shape):
        assert rng[idx] == pytest.approx(float(r.radar_range(lam[idx], 13.0, 1e6, 1e-3)))
    pt = r.radar_peak_power(lam, rng, 13.0, 1e-3)
    np.testing.assert_allclose(pt, 1e6, rtol=1e-12)
    d = np.linspace(1e5, 2e6, 24).reshape(4, 3, 2)
    h = r.min_visible_altitude(d, np.array([0.0, 1 * DEG]))
    assert h.shape == (4, 3, 2)
    np.testing.assert_allclose(r.horizon_ground_range(0.0, h, np.array([0.0, DEG])), d, rtol=1e-9)
