"""The radar equations against the worked examples of MATLAB's Radar Toolbox documentation.

MATLAB prints five significant figures (``format short``), so each documented value is known
only to ±half a unit in its last printed digit. Each test checks (a) that our value rounds to
the printed one at the printed precision and (b) agreement to 1e-4 relative. MATLAB's
``physconst('LightSpeed')`` is the exact SI value, as is ours; its Earth radius (6371 km)
differs from our IUGG mean radius by 1.4 ppm, far below the printed precision.

Sources (MathWorks documentation, Radar Toolbox, pages "since R2021a"):

* radareqrng — https://www.mathworks.com/help/radar/ref/radareqrng.html
* radareqpow — https://www.mathworks.com/help/radar/ref/radareqpow.html
* radareqsearchpap — https://www.mathworks.com/help/radar/ref/radareqsearchpap.html
* radareqsearchrng — https://www.mathworks.com/help/radar/ref/radareqsearchrng.html
* radareqsearchsnr — https://www.mathworks.com/help/radar/ref/radareqsearchsnr.html
* solidangle — https://www.mathworks.com/help/radar/ref/solidangle.html
* effearthradius (radarScenario) —
  https://www.mathworks.com/help/radar/ref/radarscenario.effearthradius.html
* horizonrange — https://www.mathworks.com/help/phased/ref/horizonrange.html
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from openbmd import radar as r
from openbmd.constants import SPEED_OF_LIGHT

DEG = math.pi / 180.0


def matches_printed(value: float, printed: float, sig: int = 5) -> None:
    """``value`` rounds to ``printed`` at ``sig`` significant figures, and is within 1e-4."""
    exp = math.floor(math.log10(abs(printed)))
    unit = 10.0 ** (exp - sig + 1)
    assert abs(value - printed) <= 0.5 * unit * (1 + 1e-9), (value, printed)
    assert value == pytest.approx(printed, rel=1e-4)


def test_radareqrng_default_options() -> None:
    # radareqrng example 1: 10 GHz, SNR 6 dB, tau 10 us, Pt 1 MW; defaults gain 20 dB,
    # Ts 290 K, RCS 1 m², loss 0 dB -> maxrng = 4.1057e+04
    lam = SPEED_OF_LIGHT / 10e9
    matches_printed(float(r.radar_range(lam, 6.0, 1e6, 10e-6)), 4.1057e4)


def test_radareqrng_gain_rcs_loss() -> None:
    # radareqrng example 2: as above with Gain 40 dB, RCS 0.1 m², Loss 3 dB -> 1.9426e+05
    lam = SPEED_OF_LIGHT / 10e9
    got = r.radar_range(lam, 6.0, 1e6, 10e-6, gain_db=40.0, rcs=0.1, loss_db=3.0)
    matches_printed(float(got), 1.9426e5)


def test_radareqpow_default_options() -> None:
    # radareqpow "Compute Required Transmit Power": 1 GHz, 50 km, SNR 6 dB, tau 1 us
    # -> Pt = 2.1996e+05
    lam = SPEED_OF_LIGHT / 1e9
    matches_printed(float(r.radar_peak_power(lam, 50e3, 6.0, 1e-6)), 2.1996e5)


def test_radareqpow_system_temperature() -> None:
    # radareqpow "... at Specified System Temperature": 10 GHz, 50 km, SNR 10 dB, tau 1 us,
    # RCS 0.5 m², gain 30 dB, Ts 300 K, loss 3 dB -> Pt = 2.2809e+06
    lam = SPEED_OF_LIGHT / 10e9
    got = r.radar_peak_power(lam, 50e3, 10.0, 1e-6, gain_db=30.0, rcs=0.5, noise_temp=300.0,
                             loss_db=3.0)  # fmt: skip
    matches_printed(float(got), 2.2809e6)


def test_radareqsearchpap() -> None:
    # radareqsearchpap example: 111 km, 12.5 rpm (tsearch = 4.8 s), SNR 13 dB, Ts 487 K,
    # loss 20 dB, az [-180, 180], el [0, 45], RCS 1 m² -> 2.3689e+04 W m²
    omega = r.solid_angle(360.0 * DEG, 0.0, 45.0 * DEG)
    got = r.search_power_aperture(111e3, 13.0, omega, 60.0 / 12.5, noise_temp=487.0,
                                  loss_db=20.0)  # fmt: skip
    matches_printed(float(got), 2.3689e4)


def test_radareqsearchrng() -> None:
    # radareqsearchrng example: 2.5 GHz, Pav 2.1 kW, gain 34 dB -> Ae by gain2aperture;
    # az [-180, 180], el [0, 40], 12.5 rpm, Ts 487 K, loss 20 dB, SNR 13 dB -> R = 80.7673 km
    lam = SPEED_OF_LIGHT / 2.5e9
    pap = 2100.0 * r.gain_to_aperture(34.0, lam)
    omega = r.solid_angle(360.0 * DEG, 0.0, 40.0 * DEG)
    got = r.search_range(13.0, pap, omega, 60.0 / 12.5, noise_temp=487.0, loss_db=20.0) / 1e3
    matches_printed(float(got), 80.7673, sig=6)


def test_radareqsearchsnr() -> None:
    # radareqsearchsnr example: 1000 km, pap 3e6 W m², 10 s, RCS -10 dBsm, Ts 487 K, loss 6 dB,
    # az [0, 30], el [0, 45] -> 13.8182 dB
    omega = r.solid_angle(30.0 * DEG, 0.0, 45.0 * DEG)
    got = r.search_snr_db(1000e3, 3e6, omega, 10.0, rcs=float(r.db2pow(-10.0)), noise_temp=487.0,
                          loss_db=6.0)  # fmt: skip
    matches_printed(float(got), 13.8182, sig=6)


def test_solidangle() -> None:
    # solidangle example: az [0; 65], el columns [-15 5], [20 30], [15 80]
    # -> 0.3925 0.1792 0.8236 (four significant figures printed)
    got = r.solid_angle(65.0 * DEG, np.array([-15.0, 20.0, 15.0]) * DEG,
                        np.array([5.0, 30.0, 80.0]) * DEG)  # fmt: skip
    for g, want in zip(got, [0.3925, 0.1792, 0.8236], strict=True):
        assert abs(g - want) <= 0.5e-4 * (1 + 1e-9)


def test_effearthradius_default() -> None:
    # effearthradius (radarScenario "EffectiveEarth" atmosphere, default gradient -39e-9 /m)
    # -> Re = 8.4774e+06
    matches_printed(float(r.effective_earth_radius()), 8.4774e6)


def test_horizonrange_30_m() -> None:
    # horizonrange example: antenna 30 m high, default effective radius -> Rh = 2.2553e+04
    matches_printed(float(r.horizon_range(30.0)), 2.2553e4)


def test_range_and_power_are_inverse_at_the_documented_point() -> None:
    lam = SPEED_OF_LIGHT / 10e9
    rng = r.radar_range(lam, 6.0, 1e6, 10e-6, gain_db=40.0, rcs=0.1, loss_db=3.0)
    pt = r.radar_peak_power(lam, rng, 6.0, 10e-6, gain_db=40.0, rcs=0.1, loss_db=3.0)
    assert pt == pytest.approx(1e6, rel=1e-12)
    snr = r.radar_snr_db(lam, rng, 1e6, 10e-6, gain_db=40.0, rcs=0.1, loss_db=3.0)
    assert snr == pytest.approx(6.0, abs=1e-10)
