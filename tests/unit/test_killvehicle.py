"""Kill-vehicle limits: the line-fit PIP error, the divert closed form, the rules in the chain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import threats

from openbmd.catalog.interceptors import interceptor, load_interceptors
from openbmd.constants import DEG
from openbmd.engagement import REASONS, engage
from openbmd.errors import InputError
from openbmd.interceptors import KV_LIMITS, flyout_fan
from openbmd.killvehicle import K95, TrackInfo, divert_check, fit_variance, track_info

SITE = (54.48 * DEG, 17.10 * DEG)


def test_fit_variance_is_the_least_squares_prediction_variance():
    """Against numpy's weighted polyfit covariance (independent computation)."""
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(100.0, 160.0, 9))
    sigma = rng.uniform(200.0, 600.0, t.size)
    w = 1.0 / sigma**2
    sums = np.array([w.sum(), (w * t).sum(), (w * t * t).sum()])
    a = np.stack([t, np.ones_like(t)], axis=-1) / sigma[:, None]
    cov = np.linalg.inv(a.T @ a)
    for tp in (130.0, 160.0, 900.0):
        x = np.array([tp, 1.0])
        assert fit_variance(sums, tp) == pytest.approx(x @ cov @ x, rel=1e-9)
    assert fit_variance(np.array([w[0], w[0] * t[0], w[0] * t[0] ** 2]), 200.0) == np.inf


def test_divert_closed_form_and_in_flight_updates():
    """Δv = miss / t_go with t_go = R_acq / V_close; updates lower the terminal divert."""
    t = np.arange(0.0, 1000.0, 2.0)
    n = 2
    w = np.zeros((n, t.size))
    w[:, (t >= 100) & (t <= 160)] = 1.0 / 1e4**2  # commit basis: 10 km per look
    wfc = np.zeros((n, t.size))
    wfc[1, (t >= 300) & (t <= 700)] = 1.0 / 300.0**2  # threat 1: a fire-control track
    info = track_info(
        t, [w, wfc], [0.0, 0.0], [False, True], np.full((n, 2), 100.0), [True, False], 0.0
    )
    closing, seeker, t_int, coast = 6e3, 600e3, 800.0, 500.0
    pc, pa, tgo, dv = divert_check(
        info, [0, 1], [t_int] * 2, [160.0] * 2, [coast] * 2, [closing] * 2, seeker
    )
    assert tgo == pytest.approx([100.0, 100.0])
    # the fire solution: the commit basis's looks up to the launch (100-160 s)
    sel = (t >= 100) & (t <= 160)
    sums = np.array([w[0, sel].sum(), (w[0, sel] * t[sel]).sum(), (w[0, sel] * t[sel] ** 2).sum()])
    expect = K95 * math.sqrt(fit_variance(sums, t_int))
    assert pc == pytest.approx([expect, expect])
    assert pa[0] == pytest.approx(pc[0]) and dv[0] == pytest.approx(pc[0] / 100.0)
    assert pa[1] < 0.05 * pc[1]
    # midcourse: the improvement over the time from the first update to the intercept
    mid = (pc[1] - pa[1]) / (t_int - 300.0)
    assert dv[1] == pytest.approx(mid + pa[1] / 100.0)
    assert dv[1] < dv[0]
    # a late seeker (short coast) caps the time-to-go at the coast
    _, _, tgo2, _ = divert_check(info, [0], [t_int], [160.0], [40.0], [closing], seeker)
    assert tgo2[0] == pytest.approx(40.0)
    # looks while the threat still thrusts do not count: burnout at 150 s leaves 5 looks
    late = track_info(t, [w], [0.0], [False], np.full((n, 1), 100.0), [True], 150.0)
    pc2, *_ = divert_check(late, [0], [t_int], [160.0], [coast], [closing], seeker)
    assert pc2[0] > 2.0 * pc[0]
    # a launch on the first look alone: no state, no fire solution
    pc3, _, _, dv3 = divert_check(info, [0], [t_int], [100.0], [coast], [closing], seeker)
    assert pc3[0] == np.inf and dv3[0] == np.inf


def test_catalogue_has_every_limit_with_a_range():
    for c in load_interceptors():
        m = c.model
        assert 0 < m.divert < math.inf and 0 < m.seeker_range < math.inf
        assert m.min_closing_speed > 0 and 0 < m.max_crossing_angle <= math.pi
        assert 0 < m.kv_endurance < math.inf
        for key in ("divert_mps", "seeker_acquisition_range_km", "min_closing_speed_kms",
                    "max_crossing_angle_deg", "kv_endurance_s"):  # fmt: skip
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
        min_closing_speed=0.0, max_crossing_angle=math.pi, kv_endurance=math.inf
    )
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
    zero = np.zeros((l0.size, t.size, 3))
    info = TrackInfo(t, zero, zero, np.full(l0.size, np.inf))
    blind = engage(smp, tr.events.burnout_time, fan, l0, track=info, limits=free)
    assert not blind.feasible.any()
    assert {REASONS[k] for k in blind.reason[ref.feasible]} == {"PIP error too large"}
    ok = ref.first.time[ref.feasible]
    assert np.all(ref.first.divert_required[ref.feasible] == 0.0) and np.isfinite(ok).all()
