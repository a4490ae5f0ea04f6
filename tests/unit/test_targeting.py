"""Aiming: shapes, out-of-range errors, batches."""

from __future__ import annotations

import numpy as np
import pytest

from openbmd.catalog import missile, site
from openbmd.constants import DEG
from openbmd.errors import InputError, OutOfRangeError
from openbmd.targeting import aim


def _ll(name: str) -> tuple[float, float]:
    s = site(name)
    return s.lat_deg * DEG, s.lon_deg * DEG


def test_shahab_tabriz_to_ankara_within_1_km() -> None:
    lat0, lon0 = _ll("Tabriz")
    lat1, lon1 = _ll("Ankara")
    sol = aim(missile("Shahab-3"), lat0, lon0, lat1, lon1)
    assert sol.miss[0] < 1000.0
    assert 0.0 < sol.guidance.cutoff_time[0] <= missile("Shahab-3").burn_time


def test_out_of_range_names_the_maximum() -> None:
    lat0, lon0 = _ll("Tabriz")
    lat1, lon1 = _ll("Warsaw")
    with pytest.raises(OutOfRangeError, match=r"maximum range of Shahab-3 .*\(1\d{3} km\)"):
        aim(missile("Shahab-3"), lat0, lon0, lat1, lon1)


def test_shapes_order_apogees() -> None:
    """Lofted climbs higher and depressed stays lower than minimum energy; all hit."""
    lat0, lon0 = _ll("Tabriz")
    lat1, lon1 = _ll("Ankara")
    m = missile("Shahab-3")  # can cut thrust (a solid's min-energy shot is lofted or depressed)
    apogee = {}
    for shape in ("min-energy", "lofted", "depressed"):
        sol = aim(m, lat0, lon0, lat1, lon1, shape=shape)
        assert sol.miss[0] < 1000.0, shape
        apogee[shape] = sol.trajectory.events.apogee_alt[0]
    assert apogee["lofted"] > apogee["min-energy"] > apogee["depressed"]


def test_lofted_with_apogee() -> None:
    lat0, lon0 = _ll("Tabriz")
    lat1, lon1 = _ll("Ankara")
    sol = aim(missile("Shahab-3"), lat0, lon0, lat1, lon1, shape="lofted", apogee=400e3)
    assert sol.miss[0] < 1000.0
    assert sol.trajectory.events.apogee_alt[0] == pytest.approx(400e3, abs=5e3)
    with pytest.raises(InputError, match="cannot cut thrust"):
        aim(missile("Sejjil"), lat0, lon0, lat1, lon1, shape="lofted", apogee=600e3)


def test_batch_of_aimpoints() -> None:
    lat0, lon0 = _ll("Tehran")
    targets = [_ll(n) for n in ("Ankara", "Bucharest", "Athens")]
    sol = aim(
        [missile("Sejjil"), missile("IRBM"), missile("IRBM")],
        lat0,
        lon0,
        [t[0] for t in targets],
        [t[1] for t in targets],
    )
    assert sol.miss.shape == (3,)
    assert np.all(sol.miss < 1000.0)


def test_bad_shape() -> None:
    with pytest.raises(InputError, match="shape"):
        aim(missile("IRBM"), 0.0, 0.0, 0.1, 0.1, shape="sideways")


def test_a_solve_that_settles_far_off_raises_instead_of_returning() -> None:
    """A depressed ICBM shot 9,000 km north-east of Tehran: Newton's tangent-plane offset is
    also small at the aimpoint's antipode, where it settled (a 20,000 km miss came back as a
    solution). Whatever the solver does, it must never return such a shot."""
    from openbmd import earth
    from openbmd.errors import ConvergenceError
    from openbmd.targeting import MISS_MAX

    lat0, lon0 = np.radians(35.7), np.radians(51.4)
    lat1, lon1, _ = earth.geodesic_direct(lat0, lon0, np.radians(60.0), 9.0e6)
    try:
        sol = aim(missile("ICBM-liquid"), lat0, lon0, lat1, lon1, shape="depressed")
    except ConvergenceError:
        return
    assert sol.miss[0] < MISS_MAX
