"""Architectures: validation, to_dict, the bundled catalogue and the one engagement chain."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from _helpers import RULE_KEYS, threats

from openbmd import catalog
from openbmd.architecture import Architecture, Battery, CommandRules, SensorRole, single_battery
from openbmd.catalog.architectures import architecture, load_architectures
from openbmd.catalog.interceptors import interceptor, load_interceptors
from openbmd.catalog.sensors import load_sensors, rcs_for, sensor
from openbmd.constants import DEG
from openbmd.engagement import detection_times, engage, engage_architecture, flyout_fans
from openbmd.errors import InputError, UnknownNameError

SITE = ("Redzikowo", 54.48 * DEG, 17.10 * DEG)
MED = ("Eastern Mediterranean", 34.50 * DEG, 28.00 * DEG)
NAMES = [
    "none",
    "third-site-2007",
    "third-site-2007-russian-radars",
    "joint-2009",
    "epaa-phase-1",
    "epaa-phase-2",
    "epaa-phase-3",
]


def role(name: str, r: str, **kw) -> SensorRole:
    s = sensor(name)
    return SensorRole(s.model, r, rcs=rcs_for(s, None), **kw)


def gbi(**kw) -> Architecture:
    sens = (role("EMR", "fire-control"), role("TPY-2", "fire-control"), role("SpaceIR", "cue-only"))
    rules = CommandRules(**{"fire_control_needs_cue": False, **kw})
    return single_battery(*SITE, interceptor("GBI-2").model, sens, rules)


# --- validation and to_dict -------------------------------------------------------------------


def test_validation_names_the_field():
    icp = interceptor("GBI-2").model
    with pytest.raises(InputError, match="inventory"):
        Battery("X", 0.9, 0.3, icp, inventory=0)
    with pytest.raises(InputError, match="doctrine"):
        Battery("X", 0.9, 0.3, icp, doctrine="hope")
    with pytest.raises(InputError, match="lat"):
        Battery("X", 2.0, 0.3, icp)
    with pytest.raises(InputError, match="role"):
        role("EMR", "boss")
    with pytest.raises(InputError, match="role"):
        role("SpaceIR", "fire-control")
    with pytest.raises(InputError, match="latency"):
        role("EMR", "fire-control", latency=-1.0)
    with pytest.raises(InputError, match="commit"):
        CommandRules(commit="always")
    with pytest.raises(InputError, match="kill_assessment"):
        CommandRules(kill_assessment=float("nan"))
    with pytest.raises(InputError, match="source"):
        Architecture("a", "2007", "  ")
    with pytest.raises(InputError, match="twice"):
        Architecture("a", "2007", "s", (), (role("EMR", "fire-control"),) * 2)


def test_to_dict_carries_every_rule_value():
    d = architecture("third-site-2007-russian-radars").to_dict()
    assert d["exchange_latency_s"] == 60.0
    assert set(d["rules"]) == RULE_KEYS
    (b,) = d["batteries"]
    assert b["interceptor"] == "GBI-2" and b["inventory"] == 10 and b["decision_delay_s"] > 0
    gab = next(s for s in d["sensors"] if s["name"] == "Gabala")
    assert gab["owner"] == "Russia" and gab["via_exchange"]
    assert gab["total_latency_s"] == gab["latency_s"] + 60.0


# --- catalogue --------------------------------------------------------------------------------


def test_catalogue_loads_all_with_sources_and_known_parts():
    archs = load_architectures()
    assert [a.name for a in archs] == NAMES
    sites = {s.name for s in catalog.load_sites()}
    sensors = {s.name for s in load_sensors()}
    icps = {i.name for i in load_interceptors()}
    for a in archs:
        assert a.source.strip() and a.era.strip()
        assert {b.site for b in a.batteries} <= sites
        assert {b.interceptor.name for b in a.batteries} <= icps
        assert {s.name for s in a.sensors} <= sensors
    # The library names the field path; the CLI maps it to --architecture (test_cli_architecture).
    with pytest.raises(UnknownNameError, match="unknown architecture 'atlantis'") as info:
        architecture("atlantis")
    assert info.value.field == "architecture"


def test_no_era_mixing():
    for name in ("third-site-2007", "third-site-2007-russian-radars", "joint-2009"):
        a = architecture(name)
        assert "TPY-2" not in {s.name for s in a.sensors}
        assert all(b.site != "Kurecik" for b in a.batteries)
        assert all(not b.interceptor.name.startswith("SM-3") for b in a.batteries)
        emr = next(s for s in a.sensors if s.name == "EMR")
        assert emr.role == "fire-control" and emr.needs_cue
        assert a.rules.commit == "fire-control-track" and a.rules.fire_control_needs_cue
        assert next(s for s in a.sensors if s.name == "SpaceIR").role == "cue-only"
    for name in ("epaa-phase-1", "epaa-phase-2", "epaa-phase-3"):
        a = architecture(name)
        assert "EMR" not in {s.name for s in a.sensors}
        assert all(b.interceptor.name.startswith("SM-3") for b in a.batteries)
    assert [len(architecture(f"epaa-phase-{k}").batteries) for k in (1, 2, 3)] == [1, 2, 3]
    assert architecture("none").batteries == ()


# --- the engagement chain ---------------------------------------------------------------------


def test_single_battery_equals_the_old_chain():
    """detection → (fire-control track | early-warning cue) → decision delay → engage."""
    smp, tr = threats()
    sens = (
        role("EMR", "fire-control"),
        role("TPY-2", "fire-control"),
        role("SpaceIR", "early-warning"),
    )
    # An unlimited divert makes the PIP-error rule pass (a space-IR cue has no midcourse
    # state: its PIP error is unbounded); the other kill-vehicle limits apply on both sides.
    a = single_battery(
        *SITE, interceptor("GBI-2").model.with_kill_vehicle(divert=math.inf), sens,
        CommandRules("early-warning", fire_control_needs_cue=False),
    )  # fmt: skip
    (fan,) = flyout_fans(a)
    res = engage_architecture(smp, a, burnout_time=tr.events.burnout_time)
    det = detection_times(smp, [s.sensor for s in sens], [s.rcs for s in sens])
    cue = np.fmin(np.fmin(det[:, 0], det[:, 1]) + 60.0, det[:, 2] + 60.0)
    old = engage(smp, tr.events.burnout_time, fan, cue + fan.interceptor.decision_delay, 60.0)
    np.testing.assert_array_equal(res.feasible, old.feasible)
    np.testing.assert_array_equal(res.slack, old.slack)
    np.testing.assert_array_equal(res.first_launch, old.first_launch)
    np.testing.assert_array_equal(res.intercept_time, old.first.time)
    np.testing.assert_array_equal(res.shots, old.shot_opportunities)
    assert res.feasible.any()
    assert np.all(res.battery[res.feasible] == 0)


def test_two_batteries_pick_the_earliest_feasible_intercept():
    smp, tr = threats()
    a = gbi(commit="early-warning")
    ship = Battery(*MED, interceptor("SM-3-IA").model)
    for order in ((a.batteries[0], ship), (ship, a.batteries[0])):
        two = replace(a, batteries=order)
        res = engage_architecture(smp, two, burnout_time=tr.events.burnout_time)
        t = np.stack([np.where(r.feasible, r.first.time, np.inf) for r in res.per_battery])
        best = np.argmin(t, axis=0)
        ok = res.feasible
        assert ok.any()
        np.testing.assert_array_equal(res.battery[ok], best[ok])
        np.testing.assert_array_equal(res.intercept_time[ok], t.min(0)[ok])
        assert np.all(res.battery[~ok] == -1)


def test_cue_only_cannot_commit():
    smp, tr = threats()
    only_ir = single_battery(
        *SITE, interceptor("GBI-2").model, (role("SpaceIR", "cue-only"),),
        CommandRules("early-warning"),
    )  # fmt: skip
    res = engage_architecture(smp, only_ir, burnout_time=tr.events.burnout_time)
    assert np.isfinite(res.detection).all()  # seen in boost, but may only cue
    assert not res.feasible.any() and np.all(res.cue_sensor == -1)
    ew = replace(only_ir, sensors=(role("SpaceIR", "early-warning"),))
    res2 = engage_architecture(smp, ew, burnout_time=tr.events.burnout_time)
    # committed on the IR cue, but a boost-phase sensor gives no midcourse state: the PIP
    # error is unbounded: outside any finite seeker field of view, and only an unlimited
    # divert would remove it
    assert np.all(res2.cue_sensor == 0) and not res2.feasible.any()
    assert set(res2.reason_text) == {"outside seeker field of view"}
    wide = ew.with_overrides(seeker_fov=math.pi)
    res_w = engage_architecture(smp, wide, burnout_time=tr.events.burnout_time)
    assert set(res_w.reason_text) == {"PIP error too large"}
    res3 = engage_architecture(
        smp, wide.with_overrides(divert=math.inf), burnout_time=tr.events.burnout_time
    )
    assert res3.feasible.any()


def test_fire_control_radar_needing_a_cue_waits_for_it():
    smp, tr = threats()
    emr = role("EMR", "fire-control", needs_cue=True)
    alone = single_battery(*SITE, interceptor("GBI-2").model, (emr,), CommandRules())
    res = engage_architecture(smp, alone, burnout_time=tr.events.burnout_time)
    assert not res.feasible.any()  # never cued: never tracked
    cued = replace(alone, sensors=(emr, role("SpaceIR", "cue-only")))
    res2 = engage_architecture(smp, cued, burnout_time=tr.events.burnout_time)
    ok = np.isfinite(res2.cue_time)
    assert np.all(res2.cue_sensor[ok] == 0)  # the commit is on the EMR's track
    assert np.all(res2.cue_time[ok] >= res2.detection[ok, 1] + 60.0)


@pytest.mark.parametrize("latency", [0.0, 45.0])
def test_exchange_latency_delays_the_cue_by_exactly_that(latency):
    smp, tr = threats()
    fy = role("Fylingdales", "early-warning", via_exchange=True)
    base = single_battery(
        *SITE, interceptor("GBI-2").model, (fy,), CommandRules("early-warning"),
    )  # fmt: skip
    r0 = engage_architecture(smp, base, burnout_time=tr.events.burnout_time)
    r1 = engage_architecture(
        smp, replace(base, exchange_latency=latency), burnout_time=tr.events.burnout_time
    )
    ok = np.isfinite(r0.cue_time)
    assert ok.any()
    np.testing.assert_allclose(r1.cue_time[ok] - r0.cue_time[ok], latency, rtol=0, atol=1e-9)


def test_no_battery_defends_nothing():
    smp, _ = threats()
    res = engage_architecture(smp, architecture("none"))
    assert not res.feasible.any() and np.all(res.battery == -1)


def test_inventory_caps_the_shots():
    smp, tr = threats()
    a = gbi(commit="early-warning")
    one = replace(a, batteries=(replace(a.batteries[0], inventory=1),))
    res = engage_architecture(smp, one, burnout_time=tr.events.burnout_time)
    assert res.feasible.any() and res.shots.max() == 1


def test_with_overrides_is_pure_and_names_its_fields():
    a = architecture("third-site-2007")
    b = a.with_overrides(
        burnout_speed=8300.0, divert=400.0, min_closing_speed=4e3, rcs=0.02,
        decision_delay=90.0, exchange_latency=12.0, seeker_range=None,
    )  # fmt: skip
    assert a == architecture("third-site-2007")  # unchanged
    icp = b.batteries[0].interceptor
    assert (icp.burnout_speed, icp.divert, icp.min_closing_speed) == (8300.0, 400.0, 4e3)
    assert icp.seeker_range == a.batteries[0].interceptor.seeker_range
    assert {s.rcs for s in b.sensors if s.name != "SpaceIR"} == {0.02}
    assert b.rules.decision_delay == 90.0 and b.exchange_latency == 12.0
    with pytest.raises(InputError) as err:
        a.with_overrides(warp=1.0)
    assert err.value.field == "warp"
    with pytest.raises(InputError) as err:
        a.with_overrides(max_crossing_angle=4.0)
    assert err.value.field == "interceptor.max_crossing_angle"
