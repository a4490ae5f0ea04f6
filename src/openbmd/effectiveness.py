"""Effectiveness arithmetic of a missile defence: salvo, shoot-look-shoot, raids, assignment.

The models are those of Wilkening, "A Simple Model for Calculating Ballistic Missile Defense
Effectiveness", *Science & Global Security* 8(2), 2000 (REFERENCES §7):

- a salvo of ``n`` independent shots of single-shot kill probability ``p`` kills a threat with
  ``Pk = 1 - (1 - p)**n``;
- no threat of ``N`` leaks with probability ``P0 = rho * Pk**N``, ``rho`` being the common-mode
  probability that sensors, battle management and discrimination all work;
- shoot-look-shoot (SLS) reaches the same ``Pk`` as the salvo (perfect kill assessment) while
  expending on average ``1 + (1 - p)`` interceptors for two shots.

The closed forms broadcast over NumPy arrays. Raids against a finite inventory are evaluated
exactly by a small dynamic programme (:func:`raid`); :func:`assign` allocates interceptors of
several sites to several threats (weapon–target assignment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.errors import InputError

Doctrine = Literal["salvo", "sls"]
DOCTRINES: tuple[str, ...] = ("salvo", "sls")


def _check_prob(x: NDArray[np.float64], name: str, open_low: bool = False) -> None:
    bad = ~np.isfinite(x) | (x > 1.0) | ((x <= 0.0) if open_low else (x < 0.0))
    if np.any(bad):
        span = "(0, 1]" if open_low else "[0, 1]"
        raise InputError(f"{name}: probability outside {span}: {x[bad].ravel()[0]!r}")


def salvo_pk(sspk: ArrayLike, shots: ArrayLike) -> NDArray[np.float64]:
    """Kill probability of a salvo: ``1 - (1 - sspk)**shots`` (broadcasts)."""
    p = np.asarray(sspk, dtype=float)
    n = np.asarray(shots, dtype=float)
    _check_prob(p, "sspk")
    return np.asarray(1.0 - (1.0 - p) ** n, dtype=float)


def p_no_leak(
    pk: ArrayLike, threats: ArrayLike, common_mode: ArrayLike = 1.0
) -> NDArray[np.float64]:
    """Probability that none of ``threats`` independent threats leaks: ``rho * pk**threats``."""
    p = np.asarray(pk, dtype=float)
    rho = np.asarray(common_mode, dtype=float)
    _check_prob(p, "pk")
    _check_prob(rho, "common_mode", open_low=True)
    return np.asarray(rho * p ** np.asarray(threats, dtype=float), dtype=float)


def sls_stages(
    sspk: float, shots: int, assessment: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Stage-by-stage bookkeeping of an ``shots``-look shoot-look-shoot sequence.

    After each shot a kill assessment is made; it is correct with probability ``assessment``.
    A surviving threat judged killed is not engaged again (it leaks); a killed threat judged
    alive draws another (wasted) shot. With ``assessment = 1`` this is the textbook sequence.

    Returns ``(fired, stop_killed, stop_alive)``, each of length ``shots``: the probability that
    shot ``k`` is fired, and that the engagement ends right after shot ``k`` with the threat
    killed or alive.
    """
    p, q = float(sspk), float(assessment)
    n = int(shots)
    fired = np.zeros(n)
    stop_killed = np.zeros(n)
    stop_alive = np.zeros(n)
    alive, dead = 1.0, 0.0  # still engaged before shot k: threat alive / already killed
    for k in range(n):
        fired[k] = alive + dead
        alive_after = alive * (1.0 - p)
        dead_after = alive * p + dead
        if k == n - 1:  # last shot: nothing more to fire, whatever the assessment says
            stop_killed[k], stop_alive[k] = dead_after, alive_after
        else:
            stop_killed[k] = dead_after * q
            stop_alive[k] = alive_after * (1.0 - q)
            alive, dead = alive_after * q, dead_after * (1.0 - q)
    return fired, stop_killed, stop_alive


def sls_pk(sspk: float, shots: int, assessment: float = 1.0) -> float:
    """Kill probability of shoot-look-shoot with ``shots`` looks (equals the salvo's if perfect)."""
    return float(sls_stages(sspk, shots, assessment)[1].sum())


def sls_expected_interceptors(sspk: float, shots: int, assessment: float = 1.0) -> float:
    """Expected interceptors per threat; ``(1 - (1 - p)**n) / p`` with perfect assessment."""
    return float(sls_stages(sspk, shots, assessment)[0].sum())


def _outcomes(
    doctrine: str, sspk: float, shots: int, assessment: float, stock: int
) -> list[tuple[int, float, float]]:
    """``(interceptors used, P(killed), P(not killed))`` for one threat given ``stock`` left.

    Salvo: a threat is engaged only by a whole salvo of ``shots``; with fewer left it leaks.
    SLS: the sequence runs while interceptors last, i.e. with ``min(shots, stock)`` looks.
    """
    if doctrine == "salvo":
        if stock < shots:
            return [(0, 0.0, 1.0)]
        pk = float(salvo_pk(sspk, shots))
        return [(shots, pk, 1.0 - pk)]
    looks = min(shots, stock)
    if looks == 0:
        return [(0, 0.0, 1.0)]
    _, killed, alive = sls_stages(sspk, looks, assessment)
    return [(k + 1, float(killed[k]), float(alive[k])) for k in range(looks)]


@dataclass(frozen=True)
class RaidResult:
    """Outcome of a raid of ``threats`` threats against a finite inventory (one doctrine)."""

    doctrine: str
    p_kill_per_threat: float  # per engaged threat, given the system works (common mode excluded)
    p_no_leak: float  # includes the common-mode factor rho
    threats_engaged: float  # expected number of threats that receive at least one interceptor
    interceptors_expected: float
    leakers_expected: float  # includes common-mode failure (then every threat leaks)


def raid(
    sspk: float,
    shots: int,
    threats: int,
    inventory: int | None = None,
    doctrine: str = "salvo",
    common_mode: float = 1.0,
    assessment: float = 1.0,
) -> RaidResult:
    """Evaluate a raid of ``threats`` threats, each engaged with up to ``shots`` interceptors.

    Inventory rule (documented, exact): threats are engaged one after another from a shared
    stock of ``inventory`` interceptors (``None`` = unlimited). Under the salvo doctrine each
    engaged threat takes a whole salvo, so ``min(threats, inventory // shots)`` are engaged.
    Under SLS a threat is fired at while the stock lasts; usage is random, so the number
    engaged, the interceptors used and ``P0`` follow from the exact distribution (a dynamic
    programme over the remaining stock), not from the mean-field ``inventory / E[usage]``.
    Unengaged threats leak. If the common mode fails (probability ``1 - rho``) all leak.
    """
    if doctrine not in DOCTRINES:
        raise InputError(f"doctrine: {doctrine!r} is not one of {', '.join(DOCTRINES)}")
    if not 0.0 <= sspk <= 1.0:
        raise InputError(f"sspk: {sspk!r} is outside [0, 1]")
    if not 0.0 <= assessment <= 1.0:
        raise InputError(f"assessment: {assessment!r} is outside [0, 1]")
    if not 0.0 < common_mode <= 1.0:
        raise InputError(f"common_mode: {common_mode!r} is outside (0, 1]")
    if shots < 1:
        raise InputError(f"shots: {shots!r} must be at least 1")
    if threats < 1:
        raise InputError(f"threats: {threats!r} must be at least 1")
    if inventory is not None and inventory < 0:
        raise InputError(f"inventory: {inventory!r} must be at least 0")
    stock0 = threats * shots if inventory is None else min(int(inventory), threats * shots)

    # prob[r]: P(stock r left and every threat so far killed); total[r]: P(stock r left).
    all_killed = np.zeros(stock0 + 1)
    total = np.zeros(stock0 + 1)
    all_killed[stock0] = total[stock0] = 1.0
    engaged = used = leaks = 0.0
    cache: dict[int, list[tuple[int, float, float]]] = {}
    for _ in range(threats):
        new_killed = np.zeros_like(all_killed)
        new_total = np.zeros_like(total)
        for r in (int(i) for i in np.flatnonzero(total)):
            if r not in cache:
                cache[r] = _outcomes(doctrine, sspk, shots, assessment, r)
            outs = cache[r]
            for k, pk, pl in outs:
                new_killed[r - k] += all_killed[r] * pk
                new_total[r - k] += total[r] * (pk + pl)
                used += total[r] * k * (pk + pl)
                leaks += total[r] * pl
                if k > 0:
                    engaged += total[r] * (pk + pl)
        all_killed, total = new_killed, new_total
    if doctrine == "salvo":
        pk_threat = float(salvo_pk(sspk, shots))
    else:
        pk_threat = sls_pk(sspk, shots, assessment)
    return RaidResult(
        doctrine=doctrine,
        p_kill_per_threat=pk_threat,
        p_no_leak=float(common_mode * all_killed.sum()),
        threats_engaged=float(engaged),
        interceptors_expected=float(used),
        leakers_expected=float(common_mode * leaks + (1.0 - common_mode) * threats),
    )


# --- weapon–target assignment -----------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """Interceptors allotted by site and threat, and what they are expected to achieve."""

    shots: NDArray[np.int64]  # (sites, threats) interceptors fired by each site at each threat
    p_survive: NDArray[np.float64]  # (threats,) probability that each threat leaks
    value_destroyed: float  # expected value of the threats destroyed
    leakage: float  # expected value of the threats that leak
    method: str


def _survival(pk: NDArray[np.float64], shots: NDArray[np.int64]) -> NDArray[np.float64]:
    return np.asarray(np.prod((1.0 - pk) ** shots, axis=0), dtype=float)


def _result(pk: NDArray[np.float64], values: NDArray[np.float64], x: NDArray[np.int64], how: str):
    q = _survival(pk, x)
    leak = float(values @ q)
    return Assignment(x, q, float(values.sum() - leak), leak, how)


def _greedy(pk, values, inventory, cap) -> NDArray[np.int64]:
    x = np.zeros(pk.shape, dtype=np.int64)
    stock = inventory.copy()
    q = np.ones(pk.shape[1])
    while stock.sum() > 0:
        gain = values * q * pk  # marginal expected value of one more interceptor at (s, t)
        gain[stock == 0, :] = -1.0
        gain[:, x.sum(axis=0) >= cap] = -1.0
        s, t = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if gain[s, t] <= 0.0:
            break
        x[s, t] += 1
        stock[s] -= 1
        q[t] *= 1.0 - pk[s, t]
    return x


def _lsa(pk, values, inventory, cap) -> NDArray[np.int64]:
    from scipy.optimize import linear_sum_assignment

    p_t = pk.max(axis=0)
    if np.any((pk > 0.0) & ~np.isclose(pk, p_t[None, :], rtol=0.0, atol=1e-12)):
        raise InputError(
            "assign: method 'lsa' needs, for each threat, one kill probability shared by every "
            "site that can engage it (others 0); use method 'greedy' or 'exhaustive'"
        )
    n_slots = int(min(cap, inventory.sum()))
    x = np.zeros(pk.shape, dtype=np.int64)
    if n_slots == 0:
        return x
    k = np.arange(n_slots)
    # column (t, k): the k-th interceptor at threat t is worth v_t p_t (1 - p_t)^k, decreasing in k
    slot_value = (values * p_t)[:, None] * (1.0 - p_t)[:, None] ** k[None, :]
    rows = np.repeat(np.arange(pk.shape[0]), np.minimum(inventory, pk.shape[1] * n_slots))
    benefit = np.where(pk[rows] > 0.0, 1.0, 0.0)[:, :, None] * slot_value[None, :, :]
    benefit = benefit.reshape(len(rows), -1)
    r, c = linear_sum_assignment(benefit, maximize=True)
    for ri, ci in zip(r, c, strict=True):
        if benefit[ri, ci] > 0.0:
            x[rows[ri], ci // n_slots] += 1
    return x


def _splits(total: int, parts: int, cap: int):
    """Every way to put at most ``total`` interceptors into ``parts`` threats, ``cap`` each."""
    if parts == 0:
        yield ()
        return
    for first in range(min(total, cap) + 1):
        for rest in _splits(total - first, parts - 1, cap):
            yield (first, *rest)


def _exhaustive(pk, values, inventory, cap) -> NDArray[np.int64]:
    import itertools

    per_site = [list(_splits(int(n), pk.shape[1], int(min(cap, n)))) for n in inventory]
    if np.prod([float(len(o)) for o in per_site]) > 2e6:
        raise InputError("assign: too many combinations for method 'exhaustive'; use 'greedy'")
    best, best_x = -1.0, np.zeros(pk.shape, dtype=np.int64)
    for combo in itertools.product(*per_site):
        x = np.array(combo, dtype=np.int64).reshape(pk.shape)
        if np.any(x.sum(axis=0) > cap):
            continue
        v = float(values @ (1.0 - _survival(pk, x)))
        if v > best + 1e-12:
            best, best_x = v, x
    return best_x


def assign(
    pk: ArrayLike,
    inventory: ArrayLike,
    values: ArrayLike | None = None,
    max_shots: int | None = None,
    method: str = "greedy",
) -> Assignment:
    """Allocate the interceptors of several sites to several threats.

    ``pk[s, t]`` is the single-shot kill probability of an interceptor of site ``s`` against
    threat ``t`` (0 where the site cannot engage it), ``inventory[s]`` the interceptors of site
    ``s``, ``values[t]`` the value the threat would destroy (default 1: count of leakers), and
    ``max_shots`` a cap per threat. The expected value of the threats destroyed,
    ``sum_t v_t (1 - prod_s (1 - pk[s, t])**x[s, t])``, is maximised (equivalently the expected
    leakage minimised). Methods:

    - ``"greedy"``: marginal return — each interceptor goes where it adds most. Optimal when
      all interceptors are alike against each threat (den Broeder, Ellison & Emerling, "On
      optimum target assignments", *Operations Research* 7, 1959; Wilkening 2000), since the
      problem is then separable and concave; otherwise a heuristic within a factor 1/2 of the
      optimum (the objective is submodular; the general problem is NP-complete).
    - ``"lsa"``: exact when each threat has one Pk shared by every site able to engage it (sites
      differ in *which* threats they reach): an assignment problem on an expanded matrix
      (interceptors × (threat, k-th shot)) solved by ``scipy.optimize.linear_sum_assignment``.
    - ``"exhaustive"``: enumeration, for checking small cases.
    """
    p = np.atleast_2d(np.asarray(pk, dtype=float))
    inv = np.atleast_1d(np.asarray(inventory)).astype(np.int64)
    n_sites, n_threats = p.shape
    _check_prob(p, "pk")
    if inv.shape != (n_sites,) or np.any(inv < 0):
        raise InputError(f"inventory: expected {n_sites} non-negative integers, got {inv.tolist()}")
    v = np.ones(n_threats) if values is None else np.asarray(values, dtype=float)
    if v.shape != (n_threats,) or np.any(~np.isfinite(v) | (v < 0.0)):
        raise InputError(f"values: expected {n_threats} non-negative numbers")
    cap = int(inv.sum()) if max_shots is None else int(max_shots)
    if cap < 0:
        raise InputError(f"max_shots: {max_shots!r} must be at least 0")
    solvers = {"greedy": _greedy, "lsa": _lsa, "exhaustive": _exhaustive}
    if method not in solvers:
        raise InputError(f"method: {method!r} is not one of {', '.join(solvers)}")
    return _result(p, v, solvers[method](p, v, inv, cap), method)
