"""Filter consistency of the batch EKF/UKF on a ballistic truth (Monte Carlo).

Source: Bar-Shalom, Li & Kirubarajan (2001), *Estimation with Applications to Tracking and
Navigation*, §5.4 — the Monte Carlo average NEES over M runs, times M, is χ² with M·n degrees of
freedom for a consistent filter (NIS likewise with M·m), so its two-sided 95 % acceptance interval
is ``[χ²_{Mn}⁻¹(0.025), χ²_{Mn}⁻¹(0.975)] / M`` (§5.4.2, eq. 5.4.2-6).

Truth: one nominal midcourse trajectory seen by a radar at Brdy (Czech Republic); each run draws its
own initial state from the filter's prior and its own white-acceleration noise, and is integrated by
an independent fine-step (0.5 s) RK4 of the same gravity model (point mass + J2).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, chi2

from openbmd import earth
from openbmd.tracking import (
    BallisticModel,
    RadarModel,
    TrackBatch,
    fuse_measurements,
    nees,
    nis,
    predict,
    predict_impact,
    state_ecef2eci,
    update,
)

RUNS = 100
SCAN_DT = 5.0
SCANS = 60
Q = 1.0e-3  # white-acceleration PSD of truth and filters [m²/s³]
FINE = 0.5  # truth RK4 step [s]
P0 = np.diag([500.0**2] * 3 + [20.0**2] * 3)
BRDY = RadarModel.from_geodetic(math.radians(49.7), math.radians(13.8), 600.0, 20.0, 5e-4, 5e-4)
SECOND = RadarModel.from_geodetic(math.radians(41.0), math.radians(28.0), 100.0, 20.0, 5e-4, 5e-4)


def _nominal() -> np.ndarray:
    """ECI state at t = 0: 300 km up over (42° N, 24° E), heading north-west and climbing."""
    lat, lon = math.radians(42.0), math.radians(24.0)
    r = earth.geodetic2ecef(lat, lon, 300e3)
    v_enu = np.array([-3200.0, 3200.0, 1500.0])
    v = v_enu @ earth.enu_basis(lat, lon)
    return state_ecef2eci(np.concatenate([r, v]), 0.0)


def _truth_step(x: np.ndarray, h: float, acc: np.ndarray) -> np.ndarray:
    def f(s: np.ndarray) -> np.ndarray:
        return np.concatenate([s[:, 3:], earth.gravity(s[:, :3]) + acc], axis=1)

    k1 = f(x)
    k2 = f(x + 0.5 * h * k1)
    k3 = f(x + 0.5 * h * k2)
    k4 = f(x + h * k3)
    return x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _truth(rng: np.random.Generator, runs: int) -> tuple[np.ndarray, np.ndarray]:
    """Truth at scan times ``(SCANS + 1, runs, 6)``, and the state at the last scan."""
    x = _nominal() + rng.multivariate_normal(np.zeros(6), P0, size=runs)
    out = [x]
    per_scan = round(SCAN_DT / FINE)
    for _ in range(SCANS):
        for _ in range(per_scan):
            # piecewise-constant acceleration of variance q/h approximates white noise of PSD q
            acc = rng.normal(scale=math.sqrt(Q / FINE), size=(runs, 3))
            x = _truth_step(x, FINE, acc)
        out.append(x)
    return np.stack(out), x


def _measure(rng: np.random.Generator, sensor: RadarModel, x: np.ndarray, t: float) -> np.ndarray:
    z = sensor.h(x, t) + rng.normal(size=(x.shape[0], 3)) * sensor.sigma
    z[:, 1] = np.mod(z[:, 1], 2 * math.pi)
    return z


def _run(kind: str, sensors: tuple[RadarModel, ...], seed: int = 7):
    rng = np.random.default_rng(seed)
    truth, _ = _truth(rng, RUNS)
    model = BallisticModel(q=Q, max_step=SCAN_DT)
    batch = TrackBatch(x=np.tile(_nominal(), (RUNS, 1)), P=np.tile(P0, (RUNS, 1, 1)), t=0.0)
    nees_k, nis_k, err = [], [], []
    for k in range(1, SCANS + 1):
        t = k * SCAN_DT
        batch = predict(batch, t, model, kind)
        zs = [_measure(rng, s, truth[k], t) for s in sensors]
        if len(sensors) == 1:
            batch, nu, S = update(batch, sensors[0], zs[0], kind=kind)
            nis_k.append(nis(nu, S))
        else:
            batch = fuse_measurements(batch, list(zip(sensors, zs, strict=True)), kind=kind)
        nees_k.append(nees(truth[k], batch.x, batch.P))
        err.append(batch.x[:, :3] - truth[k][:, :3])
    return batch, truth, np.array(nees_k), np.array(nis_k), np.array(err)


def _bounds(dof_per_run: int) -> tuple[float, float]:
    lo, hi = chi2.ppf([0.025, 0.975], RUNS * dof_per_run) / RUNS
    return float(lo), float(hi)


@pytest.mark.parametrize("kind", ["ekf", "ukf"])
def test_average_nees_and_nis_inside_95_percent_bounds(kind: str) -> None:
    _, _, nees_k, nis_k, _ = _run(kind, (BRDY,))
    anees, anis = nees_k.mean(axis=1), nis_k.mean(axis=1)
    lo6, hi6 = _bounds(6)
    lo3, hi3 = _bounds(3)
    in_nees = np.mean((anees >= lo6) & (anees <= hi6))
    in_nis = np.mean((anis >= lo3) & (anis <= hi3))
    print(kind, anees.mean(), anis.mean(), in_nees, in_nis)
    # a consistent filter has 95 % of the scans inside; scans are correlated, so allow 85 %
    assert in_nees >= 0.85, (in_nees, anees)
    assert in_nis >= 0.85, (in_nis, anis)
    # and the time-averaged ANEES/ANIS itself sits inside the per-scan interval
    assert lo6 <= anees.mean() <= hi6
    assert lo3 <= anis.mean() <= hi3


def test_fusing_two_radars_beats_either_alone() -> None:
    rmse = {}
    for name, sensors in {"brdy": (BRDY,), "second": (SECOND,), "both": (BRDY, SECOND)}.items():
        _, _, _, _, err = _run("ekf", sensors, seed=11)
        rmse[name] = float(np.sqrt(np.mean(np.sum(err[10:] ** 2, axis=-1))))
    print(rmse)
    assert rmse["both"] < min(rmse["brdy"], rmse["second"])


def _true_impact(x: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
    """Fine-step RK4 (no noise) to the ellipsoid, then bisection inside the last step."""
    t = np.full(x.shape[0], t0)
    active = np.ones(x.shape[0], bool)
    zero = np.zeros((x.shape[0], 3))
    while active.any():
        nxt = _truth_step(x, FINE, zero)
        down = active & (earth.ecef2geodetic(nxt[:, :3])[2] <= 0.0)
        if down.any():
            lo, hi = np.zeros(down.sum()), np.full(down.sum(), FINE)
            xs = x[down]
            for _ in range(50):
                mid = 0.5 * (lo + hi)
                h_mid = earth.ecef2geodetic(_rk4_var(xs, mid)[:, :3])[2]
                lo, hi = np.where(h_mid > 0, mid, lo), np.where(h_mid > 0, hi, mid)
            x[down] = _rk4_var(xs, lo)
            t[down] += lo
            active &= ~down
        move = active
        x[move] = nxt[move]
        t[move] += FINE
    lat, lon, _ = earth.ecef2geodetic(earth.eci2ecef(x[:, :3], t))
    return lat, lon


def _rk4_var(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    def f(s: np.ndarray) -> np.ndarray:
        return np.concatenate([s[:, 3:], earth.gravity(s[:, :3])], axis=1)

    hh = h[:, None]
    k1 = f(x)
    k2 = f(x + 0.5 * hh * k1)
    k3 = f(x + 0.5 * hh * k2)
    k4 = f(x + hh * k3)
    return x + hh / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def test_impact_ellipse_contains_truth_at_its_stated_rate() -> None:
    batch, _, _, _, _ = _run("ekf", (BRDY,), seed=3)
    rng = np.random.default_rng(3)
    _, last = _truth(rng, RUNS)  # same seed: the same truth as inside _run
    lat, lon = _true_impact(last.copy(), SCANS * SCAN_DT)
    pred = predict_impact(batch, probability=0.9, model=BallisticModel(q=Q))
    inside = pred.contains(lat, lon)
    print(inside.sum(), np.median(pred.semi_major), np.median(pred.semi_minor))
    assert binomtest(int(inside.sum()), RUNS, 0.9).pvalue > 0.01
