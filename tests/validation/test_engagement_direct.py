"""A feasible engagement is confirmed by flying the interceptor to the computed point.

The threat (an aimed trajectory of the compiled propagator) is engaged from Redzikowo; the
interceptor is then flown directly (openbmd.interceptors.fan.pitch_program_flight,
0.1 s boost / 0.5 s
coast steps) with the launch azimuth, final pitch and thrust cut-off the fan gives, from the
computed launch time. Stated tolerance: at the computed intercept instant the interceptor is
within 25 km of the threat (≈ 0.5 % of the fly-out range, well inside a kill vehicle's divert:
1 km/s over the last minute of homing covers 60 km), and it passes the intercept point within
5 s of the computed time.
"""

from __future__ import annotations

import numpy as np
import pytest

from openbmd import catalog
from openbmd.catalog.interceptors import interceptor
from openbmd.constants import DEG
from openbmd.engagement import engage
from openbmd.interceptors import flyout_fan, pitch_program_flight
from openbmd.targeting import aim

SITE = catalog.site("Redzikowo")


@pytest.mark.parametrize(
    ("missile", "launch", "target", "speed"),
    [
        ("ICBM-liquid", "Tehran", "Washington", 6300.0),
        ("IRBM", "Tabriz", "Berlin", 6300.0),
        ("Topol-M", "Kozelsk", "Washington", 8300.0),
    ],
)
def test_intercept_confirmed_by_direct_flight(missile, launch, target, speed):
    lat, lon = SITE.lat_deg * DEG, SITE.lon_deg * DEG
    icp = interceptor("GBI-2").model.with_burnout_speed(speed)
    fan = flyout_fan(icp, lat, lon)
    a, b = catalog.site(launch), catalog.site(target)
    tr = aim(
        catalog.missile(missile), a.lat_deg * DEG, a.lon_deg * DEG, b.lat_deg * DEG, b.lon_deg * DEG
    ).trajectory
    smp = tr.sample(np.arange(0.0, tr.events.impact_time[0] + 2.0, 2.0))
    res = engage(smp, tr.events.burnout_time, fan, np.array([200.0]))
    assert res.feasible[0]
    for shot in (res.first, res.last):
        t_i, t_l = float(shot.time[0]), float(shot.launch_time[0])
        t, r, _ = pitch_program_flight(
            icp,
            lat,
            lon,
            shot.azimuth,
            shot.pitch,
            t_i - t_l + 30.0,
            dt_boost=0.1,
            dt_coast=0.5,
            cutoff=shot.cutoff,
        )
        threat = tr.sample(np.array([t_i])).r_ecef[0, 0]
        at = np.array([np.interp(t_i - t_l, t, r[0, :, c]) for c in range(3)])
        assert np.linalg.norm(at - threat) < 25e3
        closest = np.nanargmin(np.linalg.norm(r[0] - shot.r_ecef[0], axis=-1))
        assert abs(t[closest] - (t_i - t_l)) < 5.0
