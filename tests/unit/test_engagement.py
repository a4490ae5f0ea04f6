"""Engagement windows and shot opportunities: rules, batching, monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import threats

from openbmd.architecture import Architecture, CommandRules, SensorRole
from openbmd.catalog.interceptors import interceptor
from openbmd.constants import DEG
from openbmd.engagement import commit_times, engage
from openbmd.errors import InputError
from openbmd.interceptors import flyout_fan

SITE = (54.48 * DEG, 17.10 * DEG)


def _arch(commit: str) -> Architecture:
    """Two fire-control radars and one early-warning sensor, no latency, no cue needed."""
    radar = catalog_sensor("EMR")
    roles = (
        SensorRole(radar, "fire-control"),
        SensorRole(catalog_sensor("TPY-2"), "fire-control"),
        SensorRole(catalog_sensor("Fylingdales"), "early-warning"),
    )
    rules = CommandRules(commit, False, decision_delay=10, track_delay=60, cue_delay=30)
    return Architecture("t", "test", "test", (), roles, rules)


def catalog_sensor(name: str):
    from openbmd.catalog.sensors import sensor

    return sensor(name).model


def test_launch_time_rules():
    det = np.array([[100.0, np.nan, 50.0], [np.nan, np.nan, 80.0], [300.0, 200.0, np.nan]])
    own, who_own = commit_times(det, _arch("fire-control-track"))
    ewr, who_ew = commit_times(det, _arch("early-warning"))
    np.testing.assert_allclose(own + 10, [170.0, np.nan, 270.0])
    np.testing.assert_allclose(ewr + 10, [90.0, 120.0, 270.0])
    np.testing.assert_array_equal(who_own, [0, -1, 1])
    np.testing.assert_array_equal(who_ew, [2, 2, 1])
    with pytest.raises(InputError):
        CommandRules("radar")


def test_engagement_feasible_and_consistent():
    smp, tr = threats()
    fan = flyout_fan(interceptor("GBI-2").model, *SITE)
    res = engage(smp, tr.events.burnout_time, fan, np.full(3, 200.0))
    assert res.feasible.all()
    assert np.all(res.first_launch <= res.last_launch)
    f = res.first
    np.testing.assert_allclose(f.launch_time, 200.0, atol=1.0)
    assert np.all(f.time > tr.events.burnout_time)
    assert np.all((f.altitude >= 100e3) & (f.altitude <= 2000e3))
    np.testing.assert_allclose(f.launch_time + f.flyout_time, f.time, atol=1e-6)
    assert np.all(res.shot_opportunities >= 1)
    # shoot-look-shoot: each shot leaves after the previous intercept + kill assessment
    if len(res.shots) > 1:
        two = np.isfinite(res.shots[1].time)
        assert np.all(res.shots[1].launch_time[two] >= res.shots[0].time[two] + 60.0 - 1.0)


def test_batch_equals_one_by_one():
    smp, tr = threats()
    fan = flyout_fan(interceptor("GBI-2").model, *SITE)
    l0 = np.array([150.0, 250.0, 400.0])
    full = engage(smp, tr.events.burnout_time, fan, l0)
    for i in range(3):
        from openbmd.trajectory import TrajectorySample

        one = TrajectorySample(
            smp.t,
            smp.r_ecef[i : i + 1],
            smp.v_ecef[i : i + 1],
            smp.alt[i : i + 1],
            smp.thrusting[i : i + 1],
        )
        r = engage(one, tr.events.burnout_time[i : i + 1], fan, l0[i : i + 1])
        assert r.feasible[0] == full.feasible[i]
        assert r.last_launch[0] == pytest.approx(full.last_launch[i], nan_ok=True)
        assert r.shot_opportunities[0] == full.shot_opportunities[i]


@pytest.mark.parametrize("delay", [0.0, 100.0, 300.0])
def test_earlier_cueing_never_shrinks_the_window(delay):
    smp, tr = threats()
    fan = flyout_fan(interceptor("GBI-2").model, *SITE)
    early = engage(smp, tr.events.burnout_time, fan, np.full(3, 150.0))
    late = engage(smp, tr.events.burnout_time, fan, np.full(3, 150.0 + delay))
    assert np.all(early.feasible >= late.feasible)
    ok = late.feasible
    assert np.all(early.first_launch[ok] <= late.first_launch[ok])
    assert np.all(early.last_launch[ok] >= late.last_launch[ok] - 1e-9)
    assert np.all(early.shot_opportunities >= late.shot_opportunities)


def test_faster_interceptor_never_shrinks_the_window():
    smp, tr = threats()
    slow = flyout_fan(interceptor("GBI-2").model, *SITE)
    fast = flyout_fan(interceptor("GBI-2").model.with_burnout_speed(8300.0), *SITE)
    l0 = np.array([150.0, 300.0, 450.0])
    a = engage(smp, tr.events.burnout_time, slow, l0)
    b = engage(smp, tr.events.burnout_time, fast, l0)
    assert np.all(b.feasible >= a.feasible)
    ok = a.feasible
    assert np.all(b.last_launch[ok] >= a.last_launch[ok] - 1.0)  # 1 s: fan interpolation
    assert np.all(b.slack >= a.slack - 1.0)


def test_never_cued_is_infeasible():
    smp, tr = threats()
    fan = flyout_fan(interceptor("GBI-2").model, *SITE)
    res = engage(smp, tr.events.burnout_time, fan, np.full(3, np.nan))
    assert not res.feasible.any()
    assert np.all(res.shot_opportunities == 0)
    assert np.all(np.isnan(res.first.time))
