"""Sanity envelope of full trajectories against public context numbers.

REFERENCES §2: "an ICBM flight of 10,000 km takes about 30-35 minutes in all"; the issue
asks for 28-36 min for a 10,000 km ICBM. MRBM apogees of a few hundred km and a 1,300 km
flight of ~10 min are in line with the open literature on the Shahab-3 class.
"""

from __future__ import annotations

import numpy as np

from openbmd import earth
from openbmd.catalog import missile
from openbmd.constants import DEG
from openbmd.targeting import aim


def _aimpoint(lat: float, lon: float, az: float, dist: float) -> tuple[float, float]:
    lat2, lon2, _ = earth.geodesic_direct(lat, lon, az, dist)
    return float(lat2), float(lon2)


def test_10000_km_icbm_flies_28_to_36_minutes() -> None:
    """The 30–35 min of REFERENCES §2 is a minimum-energy flight: the liquid ICBM cuts thrust."""
    lat0, lon0 = 40 * DEG, 45 * DEG
    lat1, lon1 = _aimpoint(lat0, lon0, 90 * DEG, 10_000e3)
    sol = aim(missile("ICBM-liquid"), lat0, lon0, lat1, lon1)
    assert sol.miss[0] < 1000.0
    minutes = sol.trajectory.events.impact_time[0] / 60.0
    assert 28.0 <= minutes <= 36.0
    apogee_km = sol.trajectory.events.apogee_alt[0] / 1e3
    assert 900.0 < apogee_km < 1500.0


def test_10000_km_solid_icbm_without_cutoff_flies_a_longer_lofted_path() -> None:
    """A solid ICBM sized for 13,000 km that cannot cut thrust (REFERENCES §10) must loft or
    depress its full burn to fly 10,000 km; the branch nearest minimum energy is lofted, so it
    climbs higher and flies longer than the 30–35 min minimum-energy figure."""
    lat0, lon0 = 40 * DEG, 45 * DEG
    lat1, lon1 = _aimpoint(lat0, lon0, 90 * DEG, 10_000e3)
    m = missile("ICBM-solid")
    sol = aim(m, lat0, lon0, lat1, lon1)
    assert sol.miss[0] < 1000.0
    assert sol.guidance.cutoff_time[0] >= m.burn_time
    assert sol.trajectory.events.impact_time[0] / 60.0 > 36.0
    assert sol.trajectory.events.apogee_alt[0] > 1500e3


def test_mrbm_flight() -> None:
    lat0, lon0 = 35 * DEG, 50 * DEG
    lat1, lon1 = _aimpoint(lat0, lon0, 300 * DEG, 1200e3)
    sol = aim(missile("Shahab-3"), lat0, lon0, lat1, lon1)
    ev = sol.trajectory.events
    assert 8.0 < ev.impact_time[0] / 60 < 12.0
    assert 200.0 < ev.apogee_alt[0] / 1e3 < 400.0
    assert np.isfinite(ev.burnout_time[0])
