"""Unit tests of openbmd.tracking: shapes, Jacobians, gating, GNN, life cycle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from openbmd import earth
from openbmd.errors import InputError
from openbmd.tracking import (
    BallisticModel,
    InfraredLOSModel,
    MerweParams,
    RadarModel,
    StackedModel,
    TrackBatch,
    Tracker,
    covariance_intersection,
    eci2ecef_matrix,
    ekf_predict,
    ekf_update,
    fire_control_quality,
    fuse_measurements,
    gate_pairs,
    gnn_associate,
    gravity_jacobian,
    initiate_two_point,
    predict,
    propagate,
    propagate_stm,
    sigma_points,
    solve_sparse_assignment,
    state_ecef2eci,
    state_eci2ecef,
    ukf_predict,
    ukf_update,
    update,
)

RADAR = RadarModel.from_geodetic(math.radians(49.7), math.radians(13.8), 600.0, 20.0, 5e-4, 5e-4)


def _states(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """ECI states a few hundred km above the ground, 500–1500 km from the radar."""
    lat = np.radians(rng.uniform(40.0, 46.0, shape))
    lon = np.radians(rng.uniform(18.0, 26.0, shape))
    r = earth.geodetic2ecef(lat, lon, rng.uniform(200e3, 600e3, shape))
    v = rng.normal(scale=3000.0, size=(*shape, 3))
    return state_ecef2eci(np.concatenate([r, v], -1), 0.0)


def _cov(shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.diag([300.0**2] * 3 + [10.0**2] * 3), (*shape, 6, 6)).copy()


def test_rotation_matrix_matches_earth_and_state_round_trip() -> None:
    rng = np.random.default_rng(0)
    x = _states(rng, (4,))
    t = np.array([0.0, 10.0, 100.0, 3000.0])
    c = eci2ecef_matrix(t)
    np.testing.assert_allclose(
        np.einsum("nij,nj->ni", c, x[:, :3]), earth.eci2ecef(x[:, :3], t), rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(state_ecef2eci(state_eci2ecef(x, t), t), x, atol=1e-6)


def test_gravity_jacobian_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    r = _states(rng, (5,))[:, :3]
    for j2 in (True, False):
        g = gravity_jacobian(r, j2=j2)
        fd = np.stack(
            [(earth.gravity(r + e, j2=j2) - earth.gravity(r - e, j2=j2)) / 2.0 for e in np.eye(3)],
            axis=-1,
        )
        np.testing.assert_allclose(g, fd, rtol=0, atol=1e-9 * np.abs(g).max())


def test_stm_matches_finite_differences_of_propagation() -> None:
    x = _states(np.random.default_rng(2), (2,))
    model = BallisticModel(max_step=10.0)
    _, phi = propagate_stm(x, 60.0, model)
    steps = np.array([10.0, 10.0, 10.0, 0.1, 0.1, 0.1])
    fd = np.stack(
        [
            (propagate(x + h * e, 60.0, model) - propagate(x - h * e, 60.0, model)) / (2 * h)
            for h, e in zip(steps, np.eye(6), strict=True)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(phi, fd, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "sensor",
    [RADAR, InfraredLOSModel.nadir(earth.geodetic2ecef(0.75, 0.35, 36e6), 1e-5)],
    ids=["radar", "ir"],
)
def test_measurement_jacobian_matches_finite_differences(sensor) -> None:
    x = _states(np.random.default_rng(3), (4,))
    t = np.array([0.0, 5.0, 50.0, 500.0])
    hm = sensor.jacobian(x, t)
    assert hm.shape == (4, sensor.dim, 6)
    fd = []
    for e in np.eye(6):
        d = sensor.h(x + e, t) - sensor.h(x - e, t)
        for i in sensor.wrap_index:
            d[..., i] = (d[..., i] + math.pi) % (2 * math.pi) - math.pi
        fd.append(d / 2.0)
    np.testing.assert_allclose(hm, np.stack(fd, -1), rtol=1e-6, atol=1e-14)


def test_radar_h_matches_earth_ecef2aer() -> None:
    x = _states(np.random.default_rng(4), (6,))
    t = 123.0
    az, el, rng_ = earth.ecef2aer(
        earth.eci2ecef(x[:, :3], t), math.radians(49.7), math.radians(13.8), 600.0
    )
    np.testing.assert_allclose(RADAR.h(x, t), np.stack([rng_, az, el], -1), atol=1e-9)
    pos, cov = RADAR.to_eci(RADAR.h(x, t), t)
    np.testing.assert_allclose(pos, x[:, :3], atol=1e-5)
    assert cov.shape == (6, 3, 3)


def test_azimuth_residual_is_wrapped() -> None:
    # a target due north: predicted azimuth near 0, measured near 2π
    lat, lon = math.radians(49.7), math.radians(13.8)
    r = earth.aer2ecef(0.0005, 0.2, 800e3, lat, lon, 600.0)
    x = state_ecef2eci(np.concatenate([r, [0.0, 0.0, 0.0]]), 0.0)[None]
    z = RADAR.h(x, 0.0)
    z[0, 1] = 2 * math.pi - 0.0005
    _, _, nu, _ = ekf_update(x, _cov((1,)), z, RADAR, 0.0)
    assert abs(nu[0, 1] + 0.001) < 1e-9


@pytest.mark.parametrize("lead", [(), (7,), (2, 3)])
def test_kernels_pass_extra_leading_dimensions(lead: tuple[int, ...]) -> None:
    rng = np.random.default_rng(5)
    x, P = _states(rng, lead), _cov(lead)
    for backend in ("numba", "numpy"):
        x1, p1 = ekf_predict(x, P, 5.0, backend=backend)
        assert x1.shape == (*lead, 6) and p1.shape == (*lead, 6, 6)
        z = RADAR.h(x1, 5.0)
        x2, p2, nu, S = ekf_update(x1, p1, z, RADAR, 5.0, backend=backend)
        assert x2.shape == (*lead, 6) and p2.shape == (*lead, 6, 6)
        assert nu.shape == (*lead, 3) and S.shape == (*lead, 3, 3)
    x1, p1 = ukf_predict(x, P, 5.0)
    x2, p2, nu, S = ukf_update(x1, p1, RADAR.h(x1, 5.0), RADAR, 5.0)
    assert x2.shape == (*lead, 6) and S.shape == (*lead, 3, 3)
    assert sigma_points(x, P).shape == (*lead, 13, 6)


@pytest.mark.parametrize(
    "sensor",
    [RADAR, InfraredLOSModel.nadir(earth.geodetic2ecef(0.75, 0.35, 36e6), 1e-5)],
    ids=["radar", "ir"],
)
def test_numba_kernels_match_numpy_reference(sensor) -> None:
    rng = np.random.default_rng(6)
    x, P = _states(rng, (50,)), _cov((50,))
    dt = rng.uniform(-20.0, 30.0, 50)
    a, b = ekf_predict(x, P, dt, backend="numba"), ekf_predict(x, P, dt, backend="numpy")
    np.testing.assert_allclose(a[0], b[0], rtol=1e-13)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-9)
    z = sensor.h(x, 3.0) + rng.normal(size=(50, sensor.dim)) * sensor.sigma
    u = ekf_update(x, P, z, sensor, 3.0, backend="numba")
    v = ekf_update(x, P, z, sensor, 3.0, backend="numpy")
    # x [m], P [m²], innovation (range ulp ~1e-10 m of 1e6 m), S
    for p, q, atol in zip(u, v, (1e-6, 1e-6, 1e-8, 1e-9), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-8, atol=atol)


def test_ekf_and_ukf_agree_on_a_nearly_linear_step() -> None:
    rng = np.random.default_rng(7)
    x, P = _states(rng, (10,)), _cov((10,)) * 1e-2
    xe, pe = ekf_predict(x, P, 10.0)
    xu, pu = ukf_predict(x, P, 10.0, params=MerweParams(alpha=0.5))
    np.testing.assert_allclose(xu, xe, atol=1e-3)
    np.testing.assert_allclose(pu, pe, rtol=1e-4, atol=1e-6)


def test_gating_keeps_exactly_the_pairs_inside_the_chi2_gate() -> None:
    rng = np.random.default_rng(8)
    n, m = 40, 60
    zhat = np.column_stack([rng.uniform(0, 1e4, n), rng.uniform(0, 2 * math.pi, n)])
    S = np.tile(np.diag([50.0**2, 0.05**2]), (n, 1, 1)) * rng.uniform(0.5, 2.0, (n, 1, 1))
    z = np.column_stack([rng.uniform(0, 1e4, m), rng.uniform(0, 2 * math.pi, m)])
    z[:20] = zhat[:20] + rng.normal(size=(20, 2)) * [50.0, 0.05]
    z[0, 1], zhat[0, 1] = 0.01, 2 * math.pi - 0.01  # across the azimuth cut
    gamma = float(chi2.ppf(0.99, 2))
    ti, mj, d2 = gate_pairs(zhat, S, z, gamma, wrap_index=(1,))
    nu = z[None, :, :] - zhat[:, None, :]
    nu[..., 1] = (nu[..., 1] + math.pi) % (2 * math.pi) - math.pi
    brute = np.einsum("nmi,nij,nmj->nm", nu, np.linalg.inv(S), nu)
    want = np.argwhere(brute <= gamma)
    np.testing.assert_array_equal(np.column_stack([ti, mj]), want)
    np.testing.assert_allclose(d2, brute[brute <= gamma])
    assert (0, 0) in {tuple(p) for p in want}


def _brute_gate(zhat, S, z, gamma, wrap):
    nu = z[None, :, :] - zhat[:, None, :]
    for i in wrap:
        nu[..., i] = (nu[..., i] + math.pi) % (2 * math.pi) - math.pi
    d2 = np.einsum("nmi,nij,nmj->nm", nu, np.linalg.inv(S), nu)
    return np.argwhere(d2 <= gamma), d2[d2 <= gamma]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grid_gate_matches_a_brute_force_chi2_gate_on_a_random_radar_scene(seed: int) -> None:
    # range/az/el, correlated S of very different sizes (new and settled tracks), clusters of
    # measurements around predictions, clutter, some predictions across the azimuth cut
    rng = np.random.default_rng(seed)
    n, m = 300, 400
    zhat = np.column_stack(
        [rng.uniform(5e5, 2e6, n), rng.uniform(0, 2 * math.pi, n), rng.uniform(0, 1.2, n)]
    )
    zhat[:15, 1] = rng.uniform(-1e-3, 1e-3, 15) % (2 * math.pi)
    a = rng.normal(size=(n, 3, 3)) * np.array([200.0, 2e-3, 2e-3])[:, None]
    S = a @ np.swapaxes(a, -1, -2) + np.diag([50.0**2, 1e-6, 1e-6])
    S *= rng.choice([1.0, 30.0, 1e3], size=(n, 1, 1), p=[0.8, 0.15, 0.05])
    z = np.column_stack(
        [rng.uniform(5e5, 2e6, m), rng.uniform(0, 2 * math.pi, m), rng.uniform(0, 1.2, m)]
    )
    near = rng.integers(0, n, 250)
    z[:250] = zhat[near] + np.einsum(
        "kij,kj->ki", np.linalg.cholesky(S[near]), rng.normal(size=(250, 3))
    )
    z[:, 1] %= 2 * math.pi
    gamma = float(chi2.ppf(0.9997, 3))
    ti, mj, d2 = gate_pairs(zhat, S, z, gamma, wrap_index=(1,))
    want, d2_want = _brute_gate(zhat, S, z, gamma, (1,))
    assert len(want) > 250  # clusters and the inflated gates overlap: several pairs per track
    np.testing.assert_array_equal(np.column_stack([ti, mj]), want)
    np.testing.assert_allclose(d2, d2_want, rtol=1e-9)
    assert np.any(np.abs(z[mj, 1] - zhat[ti, 1]) > math.pi)  # some pairs straddle the cut


def test_grid_gate_single_component_and_empty_inputs() -> None:
    zhat, z = np.array([[0.0], [10.0]]), np.array([[0.5], [9.0], [30.0]])
    ti, mj, d2 = gate_pairs(zhat, np.ones((2, 1, 1)), z, 4.0)
    assert ti.tolist() == [0, 1] and mj.tolist() == [0, 1]
    np.testing.assert_allclose(d2, [0.25, 1.0])
    assert gate_pairs(np.zeros((0, 2)), np.zeros((0, 2, 2)), z[:, [0, 0]], 4.0)[0].size == 0


def test_sparse_assignment_crafted_case() -> None:
    # track 0 prefers meas 0 but track 1 can only take meas 0: the global optimum swaps track 0 to 1
    rows, cols = np.array([0, 0, 1, 2]), np.array([0, 1, 0, 2])
    cost = np.array([1.0, 2.0, 1.5, 50.0])
    r, c = solve_sparse_assignment(3, 3, rows, cols, cost, miss_cost=np.array([10.0, 10.0, 10.0]))
    assert dict(zip(r.tolist(), c.tolist(), strict=True)) == {0: 1, 1: 0}  # track 2: miss wins


def test_gnn_assigns_crossing_targets_globally() -> None:
    rng = np.random.default_rng(9)
    x = _states(rng, (5,))
    batch = TrackBatch(x=x, P=_cov((5,)), t=0.0)
    z = RADAR.h(x, 0.0)[[3, 0, 4, 1, 2]]
    z = np.vstack([z, [5e6, 1.0, 0.3]])  # clutter far away
    a = gnn_associate(batch, RADAR, z)
    np.testing.assert_array_equal(a.track, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(a.meas, [1, 3, 4, 0, 2])
    np.testing.assert_array_equal(a.unassigned_meas, [5])
    assert a.unassigned_tracks.size == 0


def test_two_point_initiation_recovers_the_state() -> None:
    rng = np.random.default_rng(10)
    x0 = _states(rng, (3,))
    x0[:, 3:] = rng.normal(scale=2000.0, size=(3, 3))
    x1 = propagate(x0, 5.0)
    tracks, i1, i2 = initiate_two_point(RADAR, RADAR.h(x0, 0.0), 0.0, RADAR.h(x1, 5.0)[::-1], 5.0)
    assert len(tracks) == 3 and not tracks.confirmed.any()
    order = np.argsort(i1)
    np.testing.assert_array_equal(i2[order], [2, 1, 0])
    np.testing.assert_allclose(tracks.x[order][:, :3], x1[:, :3], atol=1e-3)
    np.testing.assert_allclose(tracks.x[order][:, 3:], x1[:, 3:], atol=0.5)


def test_tracker_initiates_confirms_and_deletes() -> None:
    rng = np.random.default_rng(11)
    x = _states(rng, (4,))
    tracker = Tracker(model=BallisticModel(q=1e-2), m_confirm=3, n_confirm=4, k_delete=3)
    sig = RADAR.sigma
    for k in range(12):
        t = 5.0 * k
        truth = propagate(x, t, BallisticModel(max_step=1.0))
        z = RADAR.h(truth, t) + rng.normal(size=(4, 3)) * sig
        if k >= 6:
            z = z[:2]  # targets 2 and 3 vanish
        tracker.step(t, RADAR, z)
        if k == 1:
            assert len(tracker.tracks) == 4 and not tracker.tracks.confirmed.any()
        if k == 2:
            assert tracker.tracks.confirmed.all()
        if k == 7:
            assert len(tracker.tracks) == 4  # two misses so far: kept
    assert len(tracker.tracks) == 2
    assert fire_control_quality(tracker.tracks, 1e4).all()


def test_batch_update_subset_and_bookkeeping() -> None:
    rng = np.random.default_rng(12)
    x = _states(rng, (4,))
    b = TrackBatch(x=x, P=_cov((4,)), t=0.0)
    b2, nu, S = update(b, RADAR, RADAR.h(x[[1, 3]], 0.0), [1, 3])
    np.testing.assert_array_equal(b2.hits, [0, 1, 0, 1])
    np.testing.assert_array_equal(b2.x[[0, 2]], x[[0, 2]])
    assert nu.shape == (2, 3) and S.shape == (2, 3, 3)
    b3 = predict(b2, 10.0, kind="ukf")
    assert np.all(b3.t == 10.0)
    with pytest.raises(InputError):
        TrackBatch(x=np.zeros((2, 6)), P=np.zeros((3, 6, 6)), t=0.0)


def test_stacked_and_sequential_fusion_agree() -> None:
    rng = np.random.default_rng(13)
    other = RadarModel.from_geodetic(math.radians(41.0), math.radians(28.0), 100.0, 20, 5e-4, 5e-4)
    x = _states(rng, (6,))
    b = TrackBatch(x=x + rng.normal(size=(6, 6)) * [100, 100, 100, 3, 3, 3], P=_cov((6,)), t=0.0)
    reports = [(RADAR, RADAR.h(x, 0.0)), (other, other.h(x, 0.0))]
    seq = fuse_measurements(b, reports)
    stk = fuse_measurements(b, reports, mode="stacked")
    np.testing.assert_allclose(seq.x, stk.x, atol=0.5)
    np.testing.assert_allclose(seq.P, stk.P, rtol=1e-2, atol=1e-3)
    assert StackedModel((RADAR, other)).wrap_index == (1, 4)


@pytest.mark.parametrize("criterion", ["trace", "det"])
def test_covariance_intersection_optimum_and_consistency(criterion: str) -> None:
    rng = np.random.default_rng(14)
    a = rng.normal(size=(5, 3, 3))
    P1 = a @ np.swapaxes(a, -1, -2) + np.eye(3)
    b = rng.normal(size=(5, 3, 3))
    P2 = b @ np.swapaxes(b, -1, -2) + np.eye(3)
    x1, x2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    x, P, w = covariance_intersection(x1, P1, x2, P2, criterion=criterion)
    grid = np.linspace(0.0, 1.0, 2001)
    info = grid[:, None, None, None] * np.linalg.inv(P1) + (1 - grid[:, None, None, None]) * (
        np.linalg.inv(P2)
    )
    if criterion == "trace":
        f = np.trace(np.linalg.inv(info), axis1=-2, axis2=-1)
        got = np.trace(P, axis1=-2, axis2=-1)
    else:
        f = -np.linalg.slogdet(info)[1]
        got = np.linalg.slogdet(P)[1]
    assert np.all(got <= f.min(axis=0) + 1e-9 * np.abs(f.min(axis=0)))
    assert np.all((w >= 0) & (w <= 1))
    # CI is never tighter than the better input in the optimised measure
    assert np.all(got <= np.minimum(f[0], f[-1]) + 1e-12)
    assert x.shape == (5, 3)


def test_invalid_parameters_raise_input_error() -> None:
    with pytest.raises(InputError):
        BallisticModel(q=-1.0)
    with pytest.raises(InputError):
        RadarModel.from_geodetic(0.0, 0.0, 0.0, 0.0, 1e-3, 1e-3)
    with pytest.raises(InputError):
        MerweParams(alpha=1e-3, kappa=-6.0).weights(6)
    with pytest.raises(InputError):
        Tracker(m_confirm=5, n_confirm=4)


def test_ir_model_accepts_unit_line_of_sight_from_sensors() -> None:
    sat = earth.geodetic2ecef(0.75, 0.35, 36e6)
    ir = InfraredLOSModel.nadir(sat, 1e-5)
    x = _states(np.random.default_rng(15), (5,))
    d = earth.eci2ecef(x[:, :3], 42.0) - sat
    u = d / np.linalg.norm(d, axis=-1, keepdims=True)
    np.testing.assert_allclose(ir.from_unit_vector(u), ir.h(x, 42.0), atol=1e-12)
