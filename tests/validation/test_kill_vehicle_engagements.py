"""Engagements a physicist would sign: the kill-vehicle rules against the debate's cases.

References (docs/engagement.md, openbmd REFERENCES §4, §10):

* MDA (2008): the Polish two-stage interceptors are "not fast enough to catch a Russian
  land-based ICBM in a tail-chase"; the issue-8 review found the kinematic chain crediting such
  tail chases at 0.9-2 km/s closing speed thousands of km from the site. A closing speed below
  ~2.9 km/s carries less kinetic energy per kg than TNT's chemical energy (4.2 MJ/kg); the
  published GMD test plans closed at 5.4-6.7 km/s (July 2000 plan; New Scientist, J. Hecht,
  2001).
* MDA / Postol (2007): Iranian ICBMs are engageable from Poland at the two-stage GBI's
  speeds, on a fire-control (EMR) track.
* REFERENCES §6, §10: Gabala is an early-warning radar (VHF, milliradian angles), no fire
  control; a launch on its cue alone must leave the kill vehicle a PIP error it can divert out.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from openbmd import catalog
from openbmd.catalog.architectures import architecture
from openbmd.cli import main
from openbmd.constants import DEG
from openbmd.engagement import REASONS, engage_architecture
from openbmd.targeting import aim

MDA_SPEED = 6300.0  # m/s, the MDA figure as quoted by Postol (REFERENCES §4)
NO_KV_LIMITS = {
    "min_closing_speed": 0.0,
    "max_crossing_angle": math.pi,
    "kv_endurance": math.inf,
    "divert": math.inf,
    "seeker_fov": math.pi,
}


def _threat(missile: str, launch: str, target: str):
    a, b = catalog.site(launch), catalog.site(target)
    tr = aim(
        catalog.missile(missile), a.lat_deg * DEG, a.lon_deg * DEG, b.lat_deg * DEG, b.lon_deg * DEG
    ).trajectory
    return tr.sample(np.arange(0.0, tr.events.impact_time[0] + 2.0, 2.0)), tr


def test_russian_icbm_tail_chase_is_rejected_for_closing_speed():
    smp, tr = _threat("Topol-M", "Tatishchevo", "New York")
    arch = architecture("third-site-2007").with_overrides(burnout_speed=MDA_SPEED)
    kinematic = engage_architecture(
        smp, arch.with_overrides(**NO_KV_LIMITS), burnout_time=tr.events.burnout_time
    )
    # what the kinematic chain credited: a stern chase, slowly closing, far from the site
    assert kinematic.feasible[0]
    assert 1.0e3 <= kinematic.closing_speed[0] <= 2.0e3
    assert kinematic.crossing_angle[0] < 30.0 * DEG
    assert kinematic.per_battery[0].first.ground_range[0] > 2000e3
    res = engage_architecture(smp, arch, burnout_time=tr.events.burnout_time)
    assert not res.feasible[0]
    assert res.reason_text[0] == "closing too slow"
    # the judgement holds over the threshold's documented range (2-5.4 km/s), not at a tuned
    # value: at the lenient end it still fails for closing speed
    lenient = engage_architecture(
        smp, arch.with_overrides(min_closing_speed=2.0e3), burnout_time=tr.events.burnout_time
    )
    assert lenient.reason_text[0] == "closing too slow"


def test_iranian_icbm_head_on_over_europe_stays_feasible():
    smp, tr = _threat("ICBM-liquid", "Tehran", "London")
    arch = architecture("third-site-2007").with_overrides(burnout_speed=MDA_SPEED)
    res = engage_architecture(smp, arch, burnout_time=tr.events.burnout_time)
    assert res.feasible[0] and res.reason_text[0] == "engageable"
    assert arch.sensors[res.cue_sensor[0]].name == "EMR"  # a fire-control track
    gbi = arch.batteries[0].interceptor
    assert res.closing_speed[0] >= 2.0 * gbi.min_closing_speed
    assert math.pi - res.crossing_angle[0] < 90.0 * DEG  # nearer head-on than broadside
    assert 0.0 < res.pip_error_acquisition[0] <= res.pip_error_commit[0] < 10e3
    assert 0.0 < res.divert_required[0] < 0.1 * res.divert_budget[0]
    # closed form: the terminal part is the miss at acquisition over the seeker's time-to-go
    t_go = gbi.seeker_range / res.closing_speed[0]
    assert res.time_to_go[0] == pytest.approx(t_go, rel=1e-9)
    assert res.divert_required[0] >= res.pip_error_acquisition[0] / t_go


def _engage_json(capsys, *extra: str) -> dict:
    code = main(
        [
            "engage", "--missile", "ICBM-liquid", "--launch", "Tehran", "--target",
            "Washington", "--sensors", "Gabala", "--json", *extra,
        ]
    )  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == 0
    return dict(json.loads(out))


def _gabala_alone(**overrides: float):
    from dataclasses import replace

    from openbmd.architecture import CommandRules, SensorRole
    from openbmd.catalog.sensors import rcs_for, sensor

    g = sensor("Gabala")
    arch = architecture("third-site-2007")
    arch = replace(
        arch,
        sensors=(SensorRole(g.model, "early-warning", rcs=rcs_for(g, None)),),
        rules=replace(arch.rules, commit="early-warning"),
    )
    assert isinstance(arch.rules, CommandRules)
    smp, tr = _threat("ICBM-liquid", "Tehran", "Washington")
    return engage_architecture(
        smp, arch.with_overrides(**overrides), burnout_time=tr.events.burnout_time
    )


def test_gabala_cue_alone_needs_a_commit_rule_and_a_seeker_that_sees_its_error(capsys):
    # Gabala alone is early warning: under the default commit rule nothing commits
    d = _engage_json(capsys)
    assert not d["feasible"] and d["reason"] == "never tracked" and d["cue_sensor"] is None
    # a cue-only commit is allowed, but the cue's PIP error (tens of km, 5 mrad beams) lies
    # outside the catalogue seeker's 1° field of view at acquisition (500 km × tan 0.5° ≈ 4 km)
    d = _engage_json(capsys, "--commit", "early-warning")
    assert not d["feasible"] and d["reason"] == "outside seeker field of view"
    assert d["cue_sensor"] == "Gabala"
    # ... and the catalogue divert could not remove it either
    wide = _gabala_alone(seeker_fov=math.pi)
    assert not wide.feasible[0] and wide.reason_text[0] == "PIP error too large"
    # a kill vehicle with a wide seeker and enough divert can
    res = _gabala_alone(seeker_fov=math.pi, divert=5000.0)
    assert res.feasible[0]
    pip_c, pip_a = res.pip_error_commit[0], res.pip_error_acquisition[0]
    assert pip_c > 20e3  # tens of km: an early-warning fire solution
    # no fire-control sensor: no in-flight update, the seeker meets the whole commit error
    assert pip_a == pytest.approx(pip_c)
    assert res.divert_required[0] == pytest.approx(pip_a / res.time_to_go[0], rel=1e-9)
    assert 1000.0 < res.divert_required[0] <= 5000.0


def test_reasons_are_named_in_order():
    assert REASONS[0] == "engageable"
    assert REASONS.index("never tracked") < REASONS.index("out of battle space")
    assert REASONS.index("closing too slow") < REASONS.index("PIP error too large")
