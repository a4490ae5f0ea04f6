"""The chain's PIP error against a Monte Carlo of the same filter (issue 8 items 1 and 6).

Reference: the EKF of :mod:`openbmd.tracking` (``TrackBatch``, ``predict``/``update``,
``BallisticModel(q=0)``: the model the chain's information form assumes) run on N = 400
noisy realisations of one radar's measurements of a ballistic threat; each estimate at the
last look is propagated to the intercept time with the filter's own motion model. Tests
(Bar-Shalom, Li & Kirubarajan 2001, §5.4, NEES):

* the normalised estimation error squared of the PIP miss, ``Σ eᵀ P⁻¹ e`` with ``P`` the
  chain's predicted position covariance at the intercept (``openbmd.firecontrol``), is χ² with
  3N degrees of freedom: it must lie in the two-sided 95 % interval;
* the filter's own covariance agrees with the prediction (trace within 5 %: the prior of the
  EKF, 1 km / 10 m/s, adds < 1 % of the information, and the EKF linearises about its estimate
  where the prediction linearises about the truth);
* the share of misses inside the predicted 95 % radius lies in the binomial 99 % interval
  around 0.95, widened by the radius formula's stated bound (at most 4 % below the exact
  quantile, ``firecontrol_kernel.pip_radii``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from openbmd import earth
from openbmd.constants import DEG, OMEGA_EARTH
from openbmd.firecontrol import fire_control_info, pip_covariance
from openbmd.sensors import Radar
from openbmd.tracking import (
    BallisticModel,
    RadarModel,
    TrackBatch,
    eci2ecef_matrix,
    predict,
    propagate,
    propagate_stm,
    update,
)

N_RUNS = 400
DT = 5.0
T_LAST_LOOK = 200.0
T_INT = 600.0
MODEL = BallisticModel(q=0.0)


def _truth() -> tuple[np.ndarray, np.ndarray]:
    """Sample times (T,) and the ECI truth (T, 6) of a threat 800 km up over the Black Sea,
    6.5 km/s towards the north-west (in view of a radar at Brdy)."""
    r0 = earth.geodetic2ecef(45.0 * DEG, 30.0 * DEG, 800e3)
    e, n, _u = earth.enu_basis(45.0 * DEG, 30.0 * DEG)
    v_rel = 6.5e3 * (0.8 * n - 0.6 * e)
    omega = np.array([0.0, 0.0, OMEGA_EARTH])
    x0 = np.concatenate([r0, v_rel + np.cross(omega, r0)])  # ECI = ECEF at t = 0
    t = np.arange(0.0, T_INT + DT / 2, DT)
    xs = [x0]
    for _ in t[1:]:
        xs.append(propagate(xs[-1], DT, MODEL))
    return t, np.array(xs)


def test_stm_rows_match_the_tracking_transition_matrix():
    t, x = _truth()
    info = fire_control_info(
        t, np.einsum("tij,tj->ti", eci2ecef_matrix(t), x[:, :3])[None], [], [], [], [], []
    )
    _, phi = propagate_stm(x[0], T_INT, MODEL)
    # third-order steps at the mean gradient vs RK4 of the variational equation: 1e-5
    assert np.allclose(info.phi[0, -1, :, :3], phi[:3, :3], rtol=0.0, atol=1e-5)
    assert np.allclose(info.phi[0, -1, :, 3:], phi[:3, 3:], rtol=0.0, atol=1e-5 * T_INT)


def test_pip_error_matches_a_monte_carlo_of_the_ekf():
    t, x = _truth()
    radar = Radar(
        "test", 49.7 * DEG, 13.8 * DEG, 700.0, revisit=DT, sigma_range=5.0,
        sigma_az=0.2e-3, sigma_el=0.2e-3,
    )  # fmt: skip
    model = RadarModel.from_geodetic(
        radar.lat, radar.lon, radar.alt, radar.sigma_range, radar.sigma_az, radar.sigma_el
    )
    looks = (t <= T_LAST_LOOK)[None]
    r_ecef = np.einsum("tij,tj->ti", eci2ecef_matrix(t), x[:, :3])[None]
    info = fire_control_info(t, r_ecef, [radar], [looks], [0.0], [True], [False])
    v_rel = np.array([[1.0, 0.0, 0.0]])  # a miss plane normal to ECEF x at the intercept
    radius, cov = pip_covariance(info, [0], [T_INT], [T_LAST_LOOK], [T_LAST_LOOK], v_rel)
    p_pred = cov[0]
    assert np.isfinite(radius[0]) and 0.0 < radius[0] < 20e3

    rng = np.random.default_rng(20261202)
    p0 = np.diag([1e3**2] * 3 + [10.0**2] * 3)
    x_est = x[0] + rng.multivariate_normal(np.zeros(6), p0, size=N_RUNS)
    batch = TrackBatch(x_est, np.broadcast_to(p0, (N_RUNS, 6, 6)).copy(), np.zeros(N_RUNS))
    z_true = model.h(x[: looks.sum()], t[: looks.sum()])
    for k, tk in enumerate(t[: looks.sum()]):  # loop over scans, the N runs batched inside
        batch = predict(batch, tk, MODEL)
        z = z_true[k] + rng.standard_normal((N_RUNS, 3)) * model.sigma
        batch, _, _ = update(batch, model, z)
    est = predict(batch, T_INT, MODEL)
    e = est.x[:, :3] - x[-1, :3]

    # the filter's own covariance vs the chain's prediction (both ECI)
    p_ekf = est.P[:, :3, :3].mean(axis=0)
    assert abs(np.trace(p_ekf) / np.trace(p_pred) - 1.0) < 0.05

    # NEES: chi-square with 3 N degrees of freedom, two-sided 95 %
    nees = float(np.einsum("ki,ij,kj->", e, np.linalg.inv(p_pred), e))
    lo, hi = stats.chi2.ppf([0.025, 0.975], 3 * N_RUNS)
    assert lo <= nees <= hi, (nees / N_RUNS, lo / N_RUNS, hi / N_RUNS)

    # coverage of the 95 % radius in the miss plane (normal to ECI u at T_INT)
    u = eci2ecef_matrix(T_INT).T @ v_rel[0]
    miss = np.linalg.norm(e - np.outer(e @ u, u), axis=1)
    band = 2.576 * np.sqrt(0.95 * 0.05 / N_RUNS)
    inside = float(np.mean(miss <= radius[0]))
    inside_wide = float(np.mean(miss <= radius[0] / 0.96))
    assert inside <= 0.95 + band and inside_wide >= 0.95 - band, (inside, inside_wide)
