"""Batch EKF tracking: openbmd against Stone Soup (UK Dstl) on the same truth and measurements.

Scenario: 200 ballistic objects in midcourse (vacuum, gravity with J2), 100 scans at 5 s, one
radar at Brdy (Czech Republic) measuring range/azimuth/elevation (σ = 20 m, 0.5 mrad, 0.5 mrad).
Truth is an RK4 propagation at a 0.5 s step with no process noise; every filter starts from the
same perturbed state and covariance and sees the same measurements with known association (filter
cost only; the 10,000-track scan is also timed with gating + GNN association).

Models given to Stone Soup (the closest it allows):

- prediction: ``ExtendedKalmanPredictor`` with a custom ``GaussianTransitionModel`` (ballistic RK4,
  point mass + J2, the white-acceleration ``Q``); its ``jacobian`` returns the same analytic state
  transition matrix as openbmd, so both filters do the same arithmetic per target;
- update: ``ExtendedKalmanUpdater`` with ``CartesianToElevationBearingRange`` (numerical Jacobian,
  Stone Soup's default), rebuilt per scan with the radar site in ECI as ``translation_offset`` and
  the ECI→ENU rotation as its rotation matrix; measurements are given as (elevation,
  bearing = π/2 − az, range) — Stone Soup's bearing is counter-clockwise from its x (east) axis.

Run:  python benchmarks/bench_tracking.py  [--targets 200 --scans 100 --ss-targets 200]
      python benchmarks/bench_tracking.py --scan-only [--repeats 15]   (the 10,000-track scan)
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from openbmd import earth
from openbmd.tracking import (
    BallisticModel,
    RadarModel,
    TrackBatch,
    eci2ecef_matrix,
    gnn_associate,
    predict,
    process_noise,
    propagate,
    propagate_stm,
    state_ecef2eci,
    update,
)

SCAN_DT = 5.0
Q = 1.0e-3
P0 = np.diag([500.0**2] * 3 + [20.0**2] * 3)
SIGMA = (20.0, 5e-4, 5e-4)
RADAR = RadarModel.from_geodetic(math.radians(49.7), math.radians(13.8), 600.0, *SIGMA)
MODEL = BallisticModel(q=Q, max_step=SCAN_DT)


def scenario(n: int, scans: int, rng: np.random.Generator):
    """Truth ``(scans + 1, n, 6)`` ECI, measurements ``(scans, n, 3)``, first states ``(n, 6)``."""
    lat = np.radians(rng.uniform(39.0, 45.0, n))
    lon = np.radians(rng.uniform(20.0, 30.0, n))
    r = earth.geodetic2ecef(lat, lon, rng.uniform(200e3, 400e3, n))
    head = np.radians(rng.uniform(290.0, 340.0, n))
    speed = rng.uniform(4000.0, 5000.0, n)
    v_enu = np.stack([speed * np.sin(head), speed * np.cos(head), rng.uniform(1000, 2000, n)], -1)
    v = np.einsum("ni,nij->nj", v_enu, earth.enu_basis(lat, lon))
    x = state_ecef2eci(np.concatenate([r, v], -1), 0.0)
    truth = [x]
    fine = BallisticModel(q=0.0, max_step=0.5)
    for _ in range(scans):
        x = propagate(x, SCAN_DT, fine)
        truth.append(x)
    truth_a = np.stack(truth)
    z = np.empty((scans, n, 3))
    for k in range(scans):
        z[k] = RADAR.h(truth_a[k + 1], (k + 1) * SCAN_DT) + rng.normal(size=(n, 3)) * SIGMA
    z[..., 1] = np.mod(z[..., 1], 2 * math.pi)
    x0 = truth_a[0] + rng.multivariate_normal(np.zeros(6), P0, size=n)
    return truth_a, z, x0


def run_openbmd(z: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray, float]:
    n = x0.shape[0]
    batch = TrackBatch(x=x0.copy(), P=np.tile(P0, (n, 1, 1)), t=0.0)
    est = np.empty((z.shape[0], n, 6))
    t0 = time.perf_counter()
    for k in range(z.shape[0]):
        batch = predict(batch, (k + 1) * SCAN_DT, MODEL)
        batch, _, _ = update(batch, RADAR, z[k])
        est[k] = batch.x
    return est, time.perf_counter() - t0


def run_stonesoup(z: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray, float]:
    from datetime import datetime, timedelta

    from stonesoup.base import Property
    from stonesoup.models.base import TimeVariantModel
    from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
    from stonesoup.models.transition.nonlinear import GaussianTransitionModel
    from stonesoup.predictor.kalman import ExtendedKalmanPredictor
    from stonesoup.types.angle import Bearing, Elevation
    from stonesoup.types.array import CovarianceMatrix, StateVector
    from stonesoup.types.detection import Detection
    from stonesoup.types.hypothesis import SingleHypothesis
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import ExtendedKalmanUpdater

    class Ballistic(GaussianTransitionModel, TimeVariantModel):
        """Ballistic RK4 (point mass + J2) with white-acceleration noise."""

        q: float = Property(doc="white-acceleration PSD [m²/s³]")

        @property
        def ndim_state(self) -> int:
            return 6

        def function(self, state, noise=False, **kwargs):
            dt = kwargs["time_interval"].total_seconds()
            x = propagate(np.asarray(state.state_vector, float)[:, 0], dt, MODEL)
            return StateVector(x)

        def jacobian(self, state, **kwargs):
            dt = kwargs["time_interval"].total_seconds()
            return propagate_stm(np.asarray(state.state_vector, float)[:, 0], dt, MODEL)[1]

        def covar(self, time_interval, **kwargs):
            return CovarianceMatrix(process_noise(time_interval.total_seconds(), self.q))

    class EciRadar(CartesianToElevationBearingRange):
        """Stone Soup radar model with the ECI→ENU rotation of one scan time."""

        rot: np.ndarray = Property(doc="ECI→ENU rotation")

        @property
        def rotation_matrix(self):
            return self.rot

    epoch = datetime(2025, 1, 1)
    predictor = ExtendedKalmanPredictor(Ballistic(q=Q))
    noise = CovarianceMatrix(np.diag([SIGMA[2] ** 2, SIGMA[1] ** 2, SIGMA[0] ** 2]))
    n = x0.shape[0]
    est = np.empty((z.shape[0], n, 6))
    models = []
    for k in range(z.shape[0]):
        t = (k + 1) * SCAN_DT
        rot = RADAR.enu @ eci2ecef_matrix(t)
        site = earth.ecef2eci(RADAR.site_ecef, t)
        models.append(
            EciRadar(
                ndim_state=6, mapping=(0, 1, 2), noise_covar=noise, rot=rot,
                translation_offset=StateVector(site),
            )
        )  # fmt: skip
    t0 = time.perf_counter()
    for i in range(n):
        track = GaussianState(StateVector(x0[i]), CovarianceMatrix(P0), timestamp=epoch)
        for k in range(z.shape[0]):
            ts = epoch + timedelta(seconds=(k + 1) * SCAN_DT)
            rng_, az, el = z[k, i]
            det = Detection(
                StateVector([Elevation(el), Bearing(math.pi / 2 - az), rng_]),
                timestamp=ts, measurement_model=models[k],
            )  # fmt: skip
            pred = predictor.predict(track, timestamp=ts)
            track = ExtendedKalmanUpdater(models[k]).update(SingleHypothesis(pred, det))
            est[k, i] = np.asarray(track.state_vector, float)[:, 0]
    return est, time.perf_counter() - t0


def rmse(est: np.ndarray, truth: np.ndarray, skip: int = 10) -> float:
    d = est[skip:, :, :3] - truth[1 + skip :, :, :3]
    return float(np.sqrt(np.mean(np.sum(d**2, axis=-1))))


def scan_10k(rng: np.random.Generator, repeats: int = 15) -> dict[str, tuple[float, float]]:
    _, z, x0 = scenario(10_000, 1, rng)
    batch = TrackBatch(x=x0, P=np.tile(P0, (10_000, 1, 1)), t=0.0)
    times: dict[str, list[float]] = {
        "predict": [],
        "update (known association)": [],
        "gating + GNN association": [],
        "predict + GNN + update (full scan)": [],
    }
    for _ in range(repeats):
        t0 = time.perf_counter()
        b = predict(batch, SCAN_DT, MODEL)
        t1 = time.perf_counter()
        update(b, RADAR, z[0])
        t2 = time.perf_counter()
        a = gnn_associate(b, RADAR, z[0])
        t3 = time.perf_counter()
        update(b, RADAR, z[0][a.meas], a.track)
        t4 = time.perf_counter()
        times["predict"].append(t1 - t0)
        times["update (known association)"].append(t2 - t1)
        times["gating + GNN association"].append(t3 - t2)
        times["predict + GNN + update (full scan)"].append((t1 - t0) + (t4 - t2))
    return {k: (statistics.median(v), min(v)) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--scans", type=int, default=100)
    ap.add_argument("--ss-targets", type=int, default=None, help="Stone Soup subset (default all)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--scan-only", action="store_true", help="only the 10,000-track scan")
    ap.add_argument("--repeats", type=int, default=15, help="repeats of the 10,000-track scan")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.scan_only:
        _machine()
        _print_scan(scan_10k(np.random.default_rng(args.seed), args.repeats), args.repeats)
        return
    truth, z, x0 = scenario(args.targets, args.scans, rng)
    run_openbmd(z[:2], x0)  # warm-up
    est_o, t_o = run_openbmd(z, x0)
    m = args.ss_targets or args.targets
    est_s, t_s = run_stonesoup(z[:, :m], x0[:m])
    steps_o, steps_s = args.targets * args.scans, m * args.scans
    per_o, per_s = t_o / steps_o * 1e6, t_s / steps_s * 1e6
    r_o, r_s = rmse(est_o[:, :m], truth[:, :m]), rmse(est_s, truth[:, :m])
    scan = scan_10k(rng, args.repeats)
    _machine()
    print(f"\n{args.targets} targets x {args.scans} scans (Stone Soup on {m} targets), one radar\n")
    print("| filter | time per target-step | position RMSE (scans 11+) |")
    print("|---|---:|---:|")
    print(f"| openbmd batch EKF (numba kernels) | {per_o:.2f} µs | {r_o:.1f} m |")
    print(f"| Stone Soup 1.9 EKF (custom ballistic model) | {per_s:.0f} µs | {r_s:.1f} m |")
    print(f"| **ratio** | **{per_s / per_o:.0f}× faster** | {r_o / r_s:.3f} (openbmd/SS) |")
    _print_scan(scan, args.repeats)


def _machine() -> None:
    import os

    import numba

    print(
        f"\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, numba "
        f"{numba.__version__} (serial kernels)"
    )


def _print_scan(scan: dict[str, tuple[float, float]], repeats: int) -> None:
    print(f"\n| 10,000 tracks, one scan ({repeats} repeats) | median | best |")
    print("|---|---:|---:|")
    for k, (med, best) in scan.items():
        print(f"| {k} | {med * 1e3:.1f} ms | {best * 1e3:.1f} ms |")


if __name__ == "__main__":
    main()
