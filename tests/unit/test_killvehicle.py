"""Kill-vehicle limits: the divert closed form on a track's information, the rules in the chain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import threats

from openbmd.catalog.interceptors import interceptor, load_interceptors
from openbmd.constants import DEG
from openbmd.engagement import REASONS, engage
from openbmd.errors import InputError
from openbmd.firecontrol import FireControlInfo
from openbmd.interceptors import KV_LIMITS, flyout_fan
from openbmd.killvehicle import K95, divert_check, in_seeker_view

SITE = (54.48 * DEG, 17.10 * DEG)


def _straight_line_info(t, looks_c, looks_fc, w_c, w_fc):
    """Information of straight-line (force-free) tracks: Φ rows ``[I, t I]``, isotropic looks
    of weight ``w`` [1/m²] per axis; cumulative over the sample times."""
    n = looks_c.shape[0]
    a = np.zeros((n, t.size, 3, 6))
    a[..., :3] = np.eye(3)
    a[..., 3:] = t[None, :, None, None] * np.eye(3)
    per = np.einsum("ntki,ntkj->ntij", a, a)

    def cum(looks, w):
        return np.cumsum(np.where(looks[..., None, None], w * per, 0.0), axis=1)

    fc = cum(looks_fc, w_fc)
    has = fc[..., 0, 0] > 0
    first = np.where(has.any(axis=1), t[np.argmax(has, axis=1)], np.inf)
    return FireControlInfo(t, a, fc, cum(looks_c, w_c), first)


def _line_variance(t, sel, w, t_pred):
    """Per-axis prediction variance of the weighted straight-line fit (textbook regression)."""
    s0, s1, s2 = w * sel.sum(), w * t[sel].sum(), w * (t[sel] ** 2).sum()
    return (s2 - 2 * t_pred * s1 + t_pred**2 * s0) / (s0 * s2 - s1**2)


def test_divert_closed_form_and_in_flight_updates():
    """Δv = miss / t_go with t_go = R_acq / V_close; updates lower the terminal divert."""
    t = np.arange(0.0, 1000.0, 2.0)
    n = 2
    cue = np.zeros((n, t.size), bool)
    cue[:, (t >= 100) & (t <= 160)] = True  # the cue: 10 km per look
    fcl = np.zeros((n, t.size), bool)
    fcl[1, (t >= 300) & (t <= 700)] = True  # threat 1: a fire-control track, 300 m per look
    info = _straight_line_info(t, cue, fcl, 1.0 / 1e4**2, 1.0 / 300.0**2)
    closing, seeker, t_int, coast = 6e3, 600e3, 800.0, 500.0
    v_rel = np.array([[closing, 0.0, 0.0]] * 2)
    pc, pa, tgo, dv = divert_check(
        info, [0, 1], [t_int] * 2, [160.0] * 2, [coast] * 2, v_rel, seeker
    )
    assert tgo == pytest.approx([100.0, 100.0])
    # the fire solution: the cue's looks up to the launch (100-160 s); an isotropic error has
    # a circular miss, whose 95 % radius is K95 σ
    expect = K95 * math.sqrt(_line_variance(t, cue[0], 1.0 / 1e4**2, t_int))
    assert pc == pytest.approx([expect, expect], rel=1e-6)
    assert pa[0] == pytest.approx(pc[0]) and dv[0] == pytest.approx(pc[0] / 100.0)
    assert pa[1] < 0.05 * pc[1]
    # midcourse: the improvement over the time from the first update to the intercept
    mid = (pc[1] - pa[1]) / (t_int - 300.0)
    assert dv[1] == pytest.approx(mid + pa[1] / 100.0)
    assert dv[1] < dv[0]
    # a late seeker (short coast) caps the time-to-go at the coast
    _, _, tgo2, _ = divert_check(info, [0], [t_int], [160.0], [40.0], v_rel[:1], seeker)
    assert tgo2[0] == pytest.approx(40.0)
    # a launch on the first look alone: no state, no fire solution
    pc3, _, _, dv3 = divert_check(info, [0], [t_int], [100.0], [coast], v_rel[:1], seeker)
    assert pc3[0] == np.inf and dv3[0] == np.inf
    # the seeker must see the handover error: 1° at 600 km is a 5.2 km half-width
    half = 600e3 * math.tan(0.5 * DEG)
    assert in_seeker_view([0.9 * half, 1.1 * half], closing, 100.0, 1.0 * DEG).tolist() == [
        True,
        False,
    ]


def test_catalogue_has_every_limit_with_a_range():
    for c in load_interceptors():
        m = c.model
        assert 0 < m.divert < math.inf and 0 < m.seeker_range < math.inf
        assert m.min_closing_speed > 0 and 0 < m.max_crossing_angle <= math.pi
        assert 0 < m.kv_endurance < math.inf and 0 < m.seeker_fov < math.pi
        for key in ("divert_mps", "seeker_acquisition_range_km", "min_closing_speed_kms",
                    "max_crossing_angle_deg", "kv_endurance_s", "seeker_fov_deg"):  # fmt: skip
            assert key in c.ranges, (c.name, key)


def test_kill_vehicle_limits_share_the_fan_and_validate():
    icp = interceptor("GBI-2").model
    other = icp.with_kill_vehicle(divert=200.0, min_closing_speed=5e3)
    a, b = flyout_fan(icp, *SITE), flyout_fan(other, *SITE)
    assert a.table is b.table and b.interceptor == other and a.interceptor == icp
    assert set(KV_LIMITS) >= {"divert", "min_closing_speed"}
    with pytest.raises(InputError) as err:
        icp.with_kill_vehicle(divrt=1.0)
    assert err.value.field == "interceptor.divrt"
    with pytest.raises(InputError):
        icp.with_kill_vehicle(divert=-1.0)


def test_rules_shrink_the_feasible_set_in_reason_order():
    smp, tr = threats()
    base = interceptor("GBI-2").model
    fan = flyout_fan(base, *SITE)
    l0 = np.full(smp.r_ecef.shape[0], 200.0)
    free = base.with_kill_vehicle(
        min_closing_speed=0.0, max_crossing_angle=math.pi, kv_endurance=math.inf,
        seeker_fov=math.pi,
    )  # fmt: skip
    ref = engage(smp, tr.events.burnout_time, fan, l0, limits=free)
    assert ref.feasible.any()
    strict = engage(
        smp, tr.events.burnout_time, fan, l0, limits=base.with_kill_vehicle(min_closing_speed=19e3)
    )
    assert not strict.feasible.any()
    assert {REASONS[k] for k in strict.reason[ref.feasible]} == {"closing too slow"}
    never = engage(smp, tr.events.burnout_time, fan, np.full_like(l0, np.nan))
    assert {REASONS[k] for k in never.reason} == {"never tracked"}
    # a PIP error no divert can remove
    t = np.asarray(smp.t)
    none = np.zeros((l0.size, t.size), bool)
    info = _straight_line_info(t, none, none, 0.0, 0.0)
    blind = engage(smp, tr.events.burnout_time, fan, l0, track=info, limits=free)
    assert not blind.feasible.any()
    assert {REASONS[k] for k in blind.reason[ref.feasible]} == {"PIP error too large"}
    ok = ref.first.time[ref.feasible]
    assert np.all(ref.first.divert_required[ref.feasible] == 0.0) and np.isfinite(ok).all()
