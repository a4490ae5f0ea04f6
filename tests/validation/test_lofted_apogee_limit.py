"""The apogee-constrained lofted solver against its own physical limit, the full burn.

A lofted shot to a given range with a prescribed apogee wastes energy by cutting thrust; the
highest apogee that still lands on the aimpoint is reached when no energy is wasted — the
full-burn lofted trajectory (REFERENCES §2: for a fixed burnout energy the two flight-path
angles that reach a range bracket the minimum-energy one; the steeper climbs highest). The
reference value is therefore the apogee of ``aim(shape="lofted")`` without an apogee (full
burn), flown by the same propagator; the solver must quote that limit (within 1 %) and must
converge for every apogee up to it. Ranges 933 and 1,000 km are those where the liquid ICBM
used to fail (issue 8); 2,000 km is a longer control.

The full-burn shot to a short range is nearly vertical: on its ≈ 2,500 s flight the Earth
turns under it by over 1,000 km, so the kick that lands it may point away from the target
(1,000 km west of Tehran: a kick of ≈ 0.1° to the east-south-east). The solver must find it in
every direction, not only eastward where the unsteered kick brackets the range.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from openbmd import earth
from openbmd.catalog import missile
from openbmd.constants import DEG
from openbmd.errors import OutOfRangeError
from openbmd.targeting import aim


@pytest.mark.parametrize("range_km", [933.0, 1000.0, 2000.0])
def test_lofted_apogee_limit_is_the_full_burn_and_targets_up_to_it_converge(
    range_km: float,
) -> None:
    m = missile("ICBM-liquid")
    lat0, lon0 = 40.0 * DEG, 45.0 * DEG
    lat1, lon1, _ = earth.geodesic_direct(lat0, lon0, 60.0 * DEG, range_km * 1e3)
    full = aim(m, lat0, lon0, lat1, lon1, shape="lofted")
    assert full.miss[0] < 1000.0
    limit = float(full.trajectory.events.apogee_alt[0])
    assert limit > 3.5e6  # a full burn lofts a liquid ICBM above 3,500 km at these ranges

    with pytest.raises(OutOfRangeError, match="full-burn lofted apogee") as info:
        aim(m, lat0, lon0, lat1, lon1, shape="lofted", apogee=1.05 * limit)
    quoted = float(re.search(r"-(\d+) km", str(info.value)).group(1)) * 1e3  # type: ignore[union-attr]
    assert quoted == pytest.approx(limit, rel=0.01)

    for frac in (0.5, 0.8, 0.95, 0.99, 1.0):
        sol = aim(m, lat0, lon0, lat1, lon1, shape="lofted", apogee=frac * limit)
        assert sol.miss[0] < 1000.0, frac
        assert sol.trajectory.events.apogee_alt[0] == pytest.approx(frac * limit, abs=5e3), frac
        assert sol.guidance.cutoff_time[0] <= m.burn_time + 1e-9
    assert np.isfinite(limit)


@pytest.mark.parametrize("az_deg", [0.0, 90.0, 180.0, 270.0])
def test_short_lofted_shots_converge_in_every_direction(az_deg: float) -> None:
    m = missile("ICBM-liquid")
    lat0, lon0 = 35.7 * DEG, 51.4 * DEG  # Tehran
    lat1, lon1, _ = earth.geodesic_direct(lat0, lon0, az_deg * DEG, 1000e3)
    full = aim(m, lat0, lon0, lat1, lon1, shape="lofted")
    assert full.miss[0] < 1000.0
    limit = float(full.trajectory.events.apogee_alt[0])
    assert 3.5e6 < limit < 4.6e6  # a full burn: 4,150-4,210 km from Tehran at 1,000 km
    for frac in (0.5, 0.95, 1.0):
        sol = aim(m, lat0, lon0, lat1, lon1, shape="lofted", apogee=frac * limit)
        assert sol.miss[0] < 1000.0, frac
        assert sol.trajectory.events.apogee_alt[0] == pytest.approx(frac * limit, abs=5e3), frac


def test_shorter_full_burn_lofted_shots_climb_higher() -> None:
    """At full burn the energy is fixed, so the nearer aimpoint takes the steeper, higher path."""
    m = missile("ICBM-liquid")
    lat0, lon0 = 35.7 * DEG, 51.4 * DEG
    apogees = []
    for rng_km in (1000.0, 2000.0, 4000.0):
        lat1, lon1, _ = earth.geodesic_direct(lat0, lon0, 0.0, rng_km * 1e3)
        sol = aim(m, lat0, lon0, lat1, lon1, shape="lofted")
        assert sol.miss[0] < 1000.0
        apogees.append(float(sol.trajectory.events.apogee_alt[0]))
    assert apogees[0] > apogees[1] > apogees[2]
