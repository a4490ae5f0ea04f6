"""Thrust in air: ``F(h) = F_vac − A_e p(h)`` with the US-76 pressure (missile kernel).

References: the rocket thrust equation ``F = ṁ v_e + (p_e − p_a) A_e`` (Sutton & Biblarz,
*Rocket Propulsion Elements*, ch. 2), whose vacuum value ``F_vac`` is the catalogued thrust, so
``F(h) = F_vac − A_e p_a(h)``; U.S. Standard Atmosphere 1976 (NOAA/NASA/USAF) pressures
101,325 Pa at sea level, 22,632 Pa at 11 km, 5,474.9 Pa at 20 km, 868.02 Pa at 32 km,
110.91 Pa at 47 km (geopotential heights of its table 4 base levels).
"""

from __future__ import annotations

import numpy as np
import pytest

from openbmd import earth_jit
from openbmd.catalog import missile
from openbmd.constants import GM_EARTH, R_EARTH_MEAN
from openbmd.missiles import stack
from openbmd.trajectory import EarthModel, Guidance, fly

US76 = [(0.0, 101_325.0), (11_000.0, 22_632.0), (20_000.0, 5_474.9), (32_000.0, 868.02),
        (47_000.0, 110.91)]  # fmt: skip


@pytest.mark.parametrize(("h_geopot", "p_ref"), US76)
def test_compiled_pressure_matches_us76(h_geopot: float, p_ref: float) -> None:
    r0 = 6_356_766.0  # US-76 effective Earth radius for geopotential height
    h = r0 * h_geopot / (r0 - h_geopot)  # geometric altitude
    rho, a = earth_jit.air(h, earth_jit.ATM_LNRHO, earth_jit.ATM_SOUND)
    assert earth_jit.pressure(rho, a) == pytest.approx(p_ref, rel=2e-3)


def test_liftoff_acceleration_uses_the_sea_level_thrust() -> None:
    """Vertical rise for 2 s from sea level: Δv = ∫ (F_vac − A_e p0)/m(t) dt − g t (no drag
    worth counting at ≤ 40 m/s); the vacuum thrust would give a visibly faster climb."""
    m = missile("Shahab-3")
    st = m.stages[0]
    b = stack([m])
    model = EarthModel(shape="sphere", rotation=False)
    traj = fly(b, 0.0, 0.0, Guidance.of(1, 0.0, 0.1), model, record=True)
    t = 2.0
    s = traj.sample(np.array([t]))
    v = float(np.linalg.norm(s.v_ecef[0, 0]))
    m0 = m.launch_mass
    mdot = st.mass_flow
    g = GM_EARTH / R_EARTH_MEAN**2  # point-mass gravity of the sphere model
    p0 = 101_325.0

    def dv(thrust: float) -> float:
        return thrust / mdot * np.log(m0 / (m0 - mdot * t)) - g * t

    expect = dv(st.thrust_n - st.exit_area_m2 * p0)
    assert v == pytest.approx(expect, rel=0.01)
    assert dv(st.thrust_n) > 1.1 * expect  # the vacuum thrust would climb > 10 % faster
