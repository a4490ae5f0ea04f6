"""Interceptor catalogue, burnout-speed calibration and the fly-out fan (fast checks)."""

from __future__ import annotations

import numpy as np
import pytest

from openbmd.catalog.interceptors import interceptor, load_interceptors
from openbmd.constants import DEG
from openbmd.errors import InputError, UnknownNameError
from openbmd.interceptors import flyout_fan, reference_burnout_speed, vehicle

SITE = (54.48 * DEG, 17.10 * DEG)


def test_catalogue_has_the_debated_interceptors():
    names = {c.name for c in load_interceptors()}
    assert {"GBI-2", "GBI-3", "SM-3-IA", "SM-3-IB", "SM-3-IIA", "THAAD"} <= names
    gbi = interceptor("gbi-poland")  # alias, case-insensitive
    assert gbi.name == "GBI-2"
    speeds = sorted(v / 1e3 for v, _ in gbi.model.disputed_speeds)
    assert speeds == [5.4, 6.3, 7.7, 8.3, 9.0]
    assert gbi.model.speed_range == (5400.0, 9000.0)
    assert all(c.citations for c in load_interceptors())


def test_unknown_interceptor_lists_valid_names():
    with pytest.raises(UnknownNameError, match="valid: GBI-2"):
        interceptor("Patriot")


@pytest.mark.parametrize("name", ["GBI-2", "SM-3-IIA", "THAAD"])
def test_burnout_speed_is_met(name):
    icp = interceptor(name).model
    v = reference_burnout_speed([vehicle(icp)])[0]
    assert v == pytest.approx(icp.burnout_speed, abs=1.0)


def test_speed_is_a_parameter():
    icp = interceptor("GBI-2").model
    fast = icp.with_burnout_speed(8300.0)
    assert reference_burnout_speed([vehicle(fast)])[0] == pytest.approx(8300.0, abs=1.0)
    with pytest.raises(InputError):
        icp.with_burnout_speed(0.0)
    with pytest.raises(InputError):
        icp.with_burnout_speed(-1.0)


def test_fan_query_shapes_broadcast():
    fan = flyout_fan(interceptor("GBI-2").model, *SITE)
    from openbmd import earth

    r = earth.geodetic2ecef(np.full((2, 3), 50 * DEG), np.full((2, 3), 25 * DEG), 500e3)
    q = fan.query(r)
    assert q.time.shape == (2, 3) and q.v_ecef.shape == (2, 3, 3)
    assert np.all(np.isfinite(q.time))
    # a point below the ground or beyond reach is unreachable
    far = earth.geodetic2ecef(-60 * DEG, -120 * DEG, 500e3)
    assert np.isnan(fan.query(far).time)


def test_faster_interceptor_arrives_no_later():
    """Monotonicity: where both reach a point, a faster interceptor arrives no later.

    With energy management (thrust cut-off rungs, openbmd.interceptors.energy_levels) the
    faster fan also reaches (almost) every point the slower one does."""
    from openbmd import earth

    slow = flyout_fan(interceptor("GBI-2").model, *SITE)
    fast = flyout_fan(interceptor("GBI-2").model.with_burnout_speed(8300.0), *SITE)
    lat, lon, alt = np.meshgrid(
        np.linspace(35, 70, 15) * DEG,
        np.linspace(-10, 45, 15) * DEG,
        np.array([150e3, 400e3, 900e3]),
        indexing="ij",
    )
    r = earth.geodetic2ecef(lat, lon, alt)
    ts, tf = slow.query(r).time, fast.query(r).time
    both = np.isfinite(ts) & np.isfinite(tf)
    assert np.all(tf[both] <= ts[both] + 1.0)  # 1 s: table interpolation
    assert both.sum() > 100
    assert np.isfinite(tf[np.isfinite(ts)]).mean() > 0.99
