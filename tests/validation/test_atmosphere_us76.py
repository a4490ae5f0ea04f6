"""Validation of openbmd.earth.atmosphere against the U.S. Standard Atmosphere, 1976.

Source: NOAA/NASA/USAF, *U.S. Standard Atmosphere, 1976*, NOAA-S/T 76-1562, U.S. Government
Printing Office, Washington D.C., 1976: Table I (geometric altitude; temperature, pressure,
density) and Table III (speed of sound). The standard prints 5-6 significant figures (T to
0.001 K below 86 km, speed of sound to 0.01 m/s), so the tolerances are half a unit of the last
printed digit, rounded up: |dT| <= 0.006 K, |da| <= 0.006 m/s, and 1e-4 relative for pressure
and density (printed 5-figure values carry up to 5e-5 relative rounding; e.g. 26499.9 Pa prints
as 2.6500E+04).
"""

from __future__ import annotations

import numpy as np
import pytest

from openbmd.earth import atmosphere, density_and_sound_speed

# geometric altitude [km]: (T [K], p [Pa], rho [kg/m³]) from Table I
TABLE_I = {
    0.0: (288.150, 1.01325e5, 1.2250),
    0.5: (284.900, 9.5461e4, 1.1673),
    1.0: (281.651, 8.9876e4, 1.1117),
    5.0: (255.676, 5.4048e4, None),
    10.0: (223.252, 2.6500e4, 4.1351e-1),
    15.0: (216.650, 1.2112e4, None),
    20.0: (216.650, 5.5293e3, None),
    25.0: (221.552, 2.5492e3, None),
    30.0: (226.509, 1.1970e3, None),
    77.0: (204.493, 1.7286, 2.9448e-5),
    86.0: (186.87, 3.7338e-1, 6.958e-6),
}
# geometric altitude [km]: speed of sound [m/s] from Table III
TABLE_III = {0.0: 340.29, 0.5: 338.37, 10.0: 299.53, 24.0: 297.72, 41.0: 318.94, 50.0: 329.80,
             67.0: 302.57, 85.0: 275.52}  # fmt: skip
# Table I densities above 86 km [kg/m³] at altitudes that are *not* knots of the exponential
# extension: the piecewise-exponential fit is within 1 % below 100 km and 5 % above.
TABLE_I_HIGH = {92.0: (2.393e-6, 0.01), 175.0: (6.339e-10, 0.05), 230.0: (1.029e-10, 0.05)}
# Table I densities at knots of the extension: reproduced to the printed figures.
TABLE_I_KNOTS = {
    100.0: 5.604e-7,
    150.0: 2.076e-9,
    200.0: 2.541e-10,
    500.0: 5.215e-13,
    1000.0: 3.561e-15,
}


@pytest.mark.parametrize("z_km", sorted(TABLE_I))
def test_table_i(z_km):
    t, p, rho = TABLE_I[z_km]
    atm = atmosphere(z_km * 1e3)
    assert atm.temperature == pytest.approx(t, abs=0.006)  # 86 km printed to 0.01 K: still inside
    p_tol = 1e-4 if z_km != 0.0 else 1e-12
    assert atm.pressure == pytest.approx(p, rel=p_tol)
    if rho is not None:
        assert atm.density == pytest.approx(rho, rel=1e-4)


@pytest.mark.parametrize("z_km", sorted(TABLE_III))
def test_table_iii_speed_of_sound(z_km):
    assert atmosphere(z_km * 1e3).speed_of_sound == pytest.approx(TABLE_III[z_km], abs=0.006)
    assert density_and_sound_speed(z_km * 1e3)[1] == pytest.approx(TABLE_III[z_km], abs=0.006)


@pytest.mark.parametrize("z_km", sorted(TABLE_I_KNOTS))
def test_density_knots_above_86km(z_km):
    assert atmosphere(z_km * 1e3).density == pytest.approx(TABLE_I_KNOTS[z_km], rel=1e-12)


@pytest.mark.parametrize("z_km", sorted(TABLE_I_HIGH))
def test_density_between_knots_above_86km(z_km):
    rho, rel = TABLE_I_HIGH[z_km]
    assert atmosphere(z_km * 1e3).density == pytest.approx(rho, rel=rel)


def test_layer_bases_are_continuous():
    # layer bases in geopotential height (Table 4), converted to geometric height, plus 86 km
    r0 = 6356766.0
    h = np.array([11e3, 20e3, 32e3, 47e3, 51e3, 71e3])
    z = np.concatenate([r0 * h / (r0 - h), [80e3, 86e3]])
    eps = 1e-4  # [m]
    below, above = atmosphere(z - eps), atmosphere(z + eps)
    for name in ("temperature", "pressure", "density", "speed_of_sound"):
        np.testing.assert_allclose(
            getattr(below, name), getattr(above, name), rtol=1e-7, err_msg=name
        )
    # base temperatures of Table 4 (molecular-scale = kinetic below 80 km)
    np.testing.assert_allclose(
        atmosphere(z[:-2]).temperature, [216.65, 216.65, 228.65, 270.65, 270.65, 214.65], atol=1e-9
    )


def test_density_decreases_monotonically_to_1000km_and_beyond():
    z = np.linspace(-5e3, 1.5e6, 300001)
    rho, a = density_and_sound_speed(z)
    assert np.all(np.diff(rho) < 0.0)
    assert np.all(rho > 0.0) and np.all(np.isfinite(a))


def test_fast_path_equals_full_model():
    z = np.linspace(-10e3, 2e6, 20001)
    atm = atmosphere(z)
    rho, a = density_and_sound_speed(z)
    np.testing.assert_array_equal(rho, atm.density)
    np.testing.assert_array_equal(a, atm.speed_of_sound)
    rho_low, _ = density_and_sound_speed(z[z < 80e3])  # the branch without upper points
    np.testing.assert_array_equal(rho_low, atm.density[z < 80e3])


def test_below_ground_extension_and_clamp():
    atm = atmosphere([-5e3, -6e3, -50e3])
    # first layer extended: Tm = 288.15 + 6.5 K/km × 5.0039 km (geopotential of −5 km geometric)
    h = 6356766.0 * -5e3 / (6356766.0 - 5e3)
    assert atm.temperature[0] == pytest.approx(288.15 - 6.5e-3 * h, abs=1e-9)
    assert atm.temperature[0] == pytest.approx(320.676, abs=0.001)  # Table I prints 320.676 K
    assert atm.pressure[0] == pytest.approx(1.7776e5, rel=1e-4)  # Table I prints 1.7776E+05
    np.testing.assert_array_equal(atm.density[1:], atm.density[0])


def test_scalar_in_scalar_out_and_temperature_above_86km():
    atm = atmosphere(5.0)
    assert np.ndim(atm.density) == 0 and np.ndim(density_and_sound_speed(5.0)[0]) == 0
    high = atmosphere(np.array([90e3, 500e3, 3e6]))
    np.testing.assert_allclose(high.temperature, 186.867, atol=1e-3)
    np.testing.assert_allclose(high.speed_of_sound, 274.096, atol=1e-3)
