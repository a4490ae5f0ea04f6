"""Solid motors without thrust-termination ports fly full burn (REFERENCES §10).

"Solid motors without thrust-termination ports cannot shorten range by cutting thrust: they
fly lofted or depressed shapes" (REFERENCES §10; the catalogue states the absence of ports
as an assumption in ``data/missiles.yaml``). Every min-energy aim solution for such a missile
must therefore burn to depletion (cut-off not before burnout) and still hit within the aim
tolerance; its kick is that of the full-burn branch nearest the minimum-energy shot.
"""

from __future__ import annotations

import numpy as np
import pytest

from openbmd import earth
from openbmd.catalog import load_missiles, missile
from openbmd.constants import DEG
from openbmd.targeting import aim

SOLIDS = [m.name for m in load_missiles() if m.propellant == "solid"]


def test_catalogue_flags_thrust_termination() -> None:
    for m in load_missiles():
        assert m.thrust_termination == (m.propellant == "liquid"), m.name
    assert SOLIDS


@pytest.mark.parametrize("name", SOLIDS)
def test_solid_min_energy_aim_burns_out_and_hits(name: str) -> None:
    m = missile(name)
    lat0, lon0 = 35.0 * DEG, 50.0 * DEG
    ranges = np.array([0.4, 0.7]) * m.nominal_range
    lat1, lon1, _ = earth.geodesic_direct(lat0, lon0, np.array([300.0, 20.0]) * DEG, ranges)
    sol = aim(m, lat0, lon0, lat1, lon1, shape="min-energy")
    assert np.all(sol.guidance.cutoff_time >= m.burn_time)  # no cut-off before burnout
    assert np.all(sol.miss < 200.0)
    lof = aim(m, lat0, lon0, lat1, lon1, shape="lofted")
    assert np.all(sol.trajectory.events.apogee_alt <= lof.trajectory.events.apogee_alt + 1.0)


def test_mixed_batch_keeps_energy_management_for_liquids() -> None:
    lat0, lon0 = 35.0 * DEG, 50.0 * DEG
    lat1, lon1, _ = earth.geodesic_direct(lat0, lon0, 300.0 * DEG, 900e3)
    sol = aim([missile("Shahab-3"), missile("Sejjil")], lat0, lon0, lat1, lon1)
    assert sol.guidance.cutoff_time[0] < missile("Shahab-3").burn_time  # liquid: cut-off
    assert sol.guidance.cutoff_time[1] >= missile("Sejjil").burn_time  # solid: full burn
    assert np.all(sol.miss < 200.0)
