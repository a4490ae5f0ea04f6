"""Refraction of rays to targets in space against the standard astronomical refraction.

References (REFERENCES §10):

* Bennett, G. G., "The calculation of astronomical refraction in marine navigation",
  *Journal of Navigation* 35 (1982) 255–259: ``R = 1 / tan(h_a + 7.31 / (h_a + 4.4))`` arcmin
  on the apparent elevation ``h_a`` [deg], standard atmosphere 1010 hPa, 10 °C; his table
  (and the Nautical Almanac's) gives 34.5′ at 0°, 24.3′ at 1°, 14.4′ at 3°, 5.3′ at 10°,
  1.0′ at 45°.
* Saemundsson, Th., *Sky & Telescope* 72 (1986) 70 — the inverse formula on the true
  elevation, used by the model; Bennett's table is the independent check.
* The lowest visible altitude over a sphere (REFERENCES §6) with the true radius and the
  minimum *true* elevation ``−R(0)``: ``h_min = R (cos e / cos(d/R + e) − 1)``.

The radar is on the equator and the target along it, so the WGS-84 geometry is exactly that of
a circle of radius ``a`` (the equatorial radius) and the closed form applies without fudge.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from openbmd import earth
from openbmd.constants import WGS84_A
from openbmd.sensors import Radar, astronomical_refraction

DEG = np.pi / 180.0
ARCMIN = DEG / 60.0

# Bennett (1982) table: apparent elevation [deg] -> refraction [arcmin]
BENNETT_TABLE = [(0.0, 34.5), (1.0, 24.3), (3.0, 14.4), (10.0, 5.3), (45.0, 1.0)]


def bennett_arcmin(h_app_deg: float) -> float:
    return 1.0 / np.tan(np.radians(h_app_deg + 7.31 / (h_app_deg + 4.4)))


def radar(min_elevation: float = -1.0 * DEG) -> Radar:
    return Radar(name="R", lat=0.0, lon=0.0, alt=0.0, min_elevation=min_elevation,
                 el_min=-1.0 * DEG)  # fmt: skip


@pytest.mark.parametrize(("h_app_deg", "r_table"), BENNETT_TABLE)
def test_bending_of_a_ray_to_a_space_target_matches_bennett(
    h_app_deg: float, r_table: float
) -> None:
    """A target 1,000 km up at the geometric elevation whose apparent one is ``h_app``."""
    r_bennett = bennett_arcmin(h_app_deg)
    assert r_bennett == pytest.approx(r_table, abs=0.1)  # the formula reproduces its table
    el_geo = (h_app_deg - r_bennett / 60.0) * DEG
    rad = radar()
    # slant range to 1,000 km altitude along that elevation (sphere of the local radius a)
    a, h = WGS84_A, 1000e3
    s = -a * np.sin(el_geo) + np.sqrt((a * np.sin(el_geo)) ** 2 + (2 * a + h) * h)
    tgt = earth.aer2ecef(np.pi / 2, el_geo, s, 0.0, 0.0, 0.0)
    _, el, el_app, _, view = rad.geometry(tgt[None])
    assert float(el[0]) == pytest.approx(el_geo, abs=1e-9)
    bending = float(el_app[0] - el[0])
    assert bending / ARCMIN == pytest.approx(r_table, abs=0.5)  # arcmin
    assert bool(view[0]) or h_app_deg == 0.0  # the apparent horizon itself is marginal
    assert float(astronomical_refraction(el_geo)) / ARCMIN == pytest.approx(r_bennett, abs=0.2)


def test_lowest_visible_altitude_at_2000_km_is_geometric_horizon_plus_refraction() -> None:
    rad = radar(min_elevation=0.0)
    d = 2000e3
    theta = d / WGS84_A  # along the equator

    def visible(h: float) -> float:
        r = (WGS84_A + h) * np.array([np.cos(theta), np.sin(theta), 0.0])
        assert earth.ecef2geodetic(r)[2] == pytest.approx(h, abs=1e-3)
        return 0.5 if bool(rad.geometry(r[None])[4][0]) else -0.5

    h_model = brentq(visible, 100e3, 600e3, xtol=10.0)
    e = -bennett_arcmin(0.0) * ARCMIN  # true elevation of the apparent horizon
    h_ref = WGS84_A * (np.cos(e) / np.cos(theta + e) - 1.0)
    h_geo = WGS84_A * (1.0 / np.cos(theta) - 1.0)
    assert h_model == pytest.approx(h_ref, abs=1.5e3)  # ≈ 306 km
    assert 15e3 < h_geo - h_model < 30e3  # refraction lowers the horizon by ≈ 21 km, not ≈ 90
