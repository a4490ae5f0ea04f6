"""Effectiveness arithmetic against closed forms (Wilkening, Sci. & Global Security 8(2), 2000)."""

from __future__ import annotations

import numpy as np
import pytest

from openbmd import effectiveness as eff
from openbmd.errors import InputError


def test_salvo_closed_form_and_broadcast():
    assert eff.salvo_pk(0.8, 2) == pytest.approx(0.96)
    p = np.array([[0.5], [0.9]])
    n = np.array([1, 2, 3])
    assert eff.salvo_pk(p, n).shape == (2, 3)
    assert eff.salvo_pk(p, n) == pytest.approx(1 - (1 - p) ** n)


def test_no_leak_with_common_mode():
    assert eff.p_no_leak(0.96, 10) == pytest.approx(0.96**10)
    assert eff.p_no_leak(0.96, 10, 0.9) == pytest.approx(0.9 * 0.96**10)
    with pytest.raises(InputError):
        eff.p_no_leak(0.9, 3, 0.0)


@pytest.mark.parametrize("p", [0.3, 0.7, 0.95])
def test_sls_matches_salvo_pk_with_fewer_interceptors(p):
    assert eff.sls_pk(p, 2) == pytest.approx(float(eff.salvo_pk(p, 2)))
    assert eff.sls_expected_interceptors(p, 2) == pytest.approx(1 + (1 - p))
    for n in (1, 3, 5):
        assert eff.sls_pk(p, n) == pytest.approx(float(eff.salvo_pk(p, n)))
        assert eff.sls_expected_interceptors(p, n) == pytest.approx((1 - (1 - p) ** n) / p)


def test_sls_imperfect_assessment():
    p, q = 0.8, 0.9
    # two looks: a survivor judged killed (1-q) is not fired at again; a kill judged alive is
    assert eff.sls_pk(p, 2, q) == pytest.approx(p + (1 - p) * q * p)
    assert eff.sls_expected_interceptors(p, 2, q) == pytest.approx(1 + (1 - p) * q + p * (1 - q))
    _, killed, alive = eff.sls_stages(p, 4, q)
    assert killed.sum() + alive.sum() == pytest.approx(1.0)
    assert eff.sls_pk(p, 4, 0.5) < eff.sls_pk(p, 4, 0.9) < eff.sls_pk(p, 4, 1.0)


def test_raid_unlimited_and_salvo_inventory():
    r = eff.raid(0.8, 2, 5, common_mode=0.95)
    assert r.threats_engaged == pytest.approx(5)
    assert r.interceptors_expected == pytest.approx(10)
    assert r.p_no_leak == pytest.approx(0.95 * 0.96**5)
    r = eff.raid(0.8, 2, 5, inventory=7)
    assert r.threats_engaged == pytest.approx(3)  # min(K, floor(I / n))
    assert r.interceptors_expected == pytest.approx(6)
    assert r.p_no_leak == 0.0
    assert r.leakers_expected == pytest.approx(2 + 3 * 0.04)


def test_raid_sls_inventory():
    r = eff.raid(0.8, 2, 5, doctrine="sls")
    assert r.interceptors_expected == pytest.approx(5 * 1.2)
    assert r.p_no_leak == pytest.approx(0.96**5)
    short = eff.raid(0.8, 2, 5, inventory=7, doctrine="sls")
    assert short.interceptors_expected <= 7 + 1e-12
    assert short.p_no_leak < r.p_no_leak
    assert 4 < short.threats_engaged < 5
    # one interceptor, one threat: fired once, no second look
    one = eff.raid(0.6, 3, 1, inventory=1, doctrine="sls")
    assert one.p_no_leak == pytest.approx(0.6)
    assert one.interceptors_expected == pytest.approx(1)


def test_raid_monotone_in_inventory_sspk_and_shots():
    for doctrine in ("salvo", "sls"):
        p0 = [eff.raid(0.7, 2, 4, inv, doctrine).p_no_leak for inv in range(12)]
        assert np.all(np.diff(p0) >= -1e-12)
        pk = [eff.raid(p, 2, 4, 8, doctrine).p_no_leak for p in np.linspace(0, 1, 11)]
        assert np.all(np.diff(pk) >= -1e-12)
    shots = [eff.raid(0.7, n, 3).p_no_leak for n in range(1, 6)]
    assert np.all(np.diff(shots) > 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sspk": 1.2},
        {"shots": 0},
        {"threats": 0},
        {"inventory": -1},
        {"common_mode": 0.0},
        {"doctrine": "spray"},
    ],
)
def test_raid_rejects_bad_input(kwargs):
    args = {"sspk": 0.5, "shots": 2, "threats": 3} | kwargs
    with pytest.raises(InputError):
        eff.raid(**args)


def _random_case(rng, sites, threats, shared):
    if shared:  # one Pk per threat, some sites unable to engage some threats
        pk = np.tile(rng.uniform(0.2, 0.9, threats), (sites, 1))
        pk[rng.random((sites, threats)) < 0.3] = 0.0
    else:
        pk = rng.uniform(0.1, 0.9, (sites, threats))
    return pk, rng.integers(0, 4, sites), rng.uniform(0.5, 3.0, threats)


def test_assignment_single_pool_greedy_is_optimal():
    rng = np.random.default_rng(7)
    for _ in range(25):
        threats = int(rng.integers(1, 4))
        pk = np.tile(rng.uniform(0.2, 0.9, threats), (2, 1))
        inv = rng.integers(0, 4, 2)
        v = rng.uniform(0.5, 3.0, threats)
        g = eff.assign(pk, inv, v, method="greedy")
        b = eff.assign(pk, inv, v, method="exhaustive")
        assert g.value_destroyed == pytest.approx(b.value_destroyed, abs=1e-12)
        assert np.all(g.shots.sum(axis=1) <= inv)


def test_assignment_lsa_exact_against_brute_force():
    rng = np.random.default_rng(11)
    for _ in range(25):
        pk, inv, v = _random_case(rng, 2, 3, shared=True)
        lsa = eff.assign(pk, inv, v, method="lsa")
        best = eff.assign(pk, inv, v, method="exhaustive")
        assert lsa.value_destroyed == pytest.approx(best.value_destroyed, abs=1e-12)
        assert lsa.leakage == pytest.approx(v.sum() - lsa.value_destroyed)
        assert np.all(lsa.shots.sum(axis=1) <= inv)


def test_assignment_greedy_within_half_in_general_and_caps():
    rng = np.random.default_rng(3)
    for _ in range(20):
        pk, inv, v = _random_case(rng, 2, 3, shared=False)
        g = eff.assign(pk, inv, v, method="greedy")
        b = eff.assign(pk, inv, v, method="exhaustive")
        assert b.value_destroyed * 0.5 - 1e-12 <= g.value_destroyed <= b.value_destroyed + 1e-12
    capped = eff.assign([[0.5, 0.5]], [5], max_shots=2)
    assert capped.shots.tolist() == [[2, 2]]
    with pytest.raises(InputError):
        eff.assign([[0.5, 0.4], [0.6, 0.0]], [1, 1], method="lsa")
    with pytest.raises(InputError):
        eff.assign([[0.5]], [-1])
