"""A synthetic ballistic threat seen by two partners' radars: truth and radar_report plots.

Truth is vacuum ballistic flight (point mass + J2, RK4) from a ground launch, in the tracking
package's ECI frame on the POSIX time axis; plots are the radar model's (range, az, el) of the
true state plus Gaussian noise (fixed seed), one plot per sensor and scan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from openbmd import earth
from openbmd.analysis.exercise import Plots, plot_records
from openbmd.tracking import RadarModel, TrackBatch, predict_impact, propagate, state_ecef2eci

T0 = 1_790_000_000.0  # launch, POSIX s
LAUNCH = (math.radians(40.0), math.radians(50.0))
SITES = {  # partner: (sensor id, lat, lon [deg], sigmas: range km, az deg, el deg)
    "alpha": ("ALPHA-XBR", 41.5, 57.0, (0.05, 0.08, 0.08)),
    "bravo": ("BRAVO-UHF", 37.5, 55.0, (0.2, 0.05, 0.05)),
}
SCAN_S = 4.0


@dataclass(frozen=True)
class Threat:
    """Truth states ``x (K, 6)`` ECI at times ``t (K,)`` and the true impact (rad, POSIX s)."""

    t: np.ndarray
    x: np.ndarray
    impact_lat: float
    impact_lon: float
    impact_time: float


def threat(speed: float = 4200.0, gamma_deg: float = 45.0, az_deg: float = 80.0) -> Threat:
    lat, lon = LAUNCH
    r = earth.geodetic2ecef(lat, lon, 0.0)
    e, n, u = earth.enu_basis(lat, lon)
    g, a = math.radians(gamma_deg), math.radians(az_deg)
    v = speed * (math.cos(g) * (math.sin(a) * e + math.cos(a) * n) + math.sin(g) * u)
    x0 = state_ecef2eci(np.concatenate([r, v]), T0)
    t = T0 + np.arange(0.0, 400.0 + 1e-9, SCAN_S)
    x = np.stack([propagate(x0, ti - T0) for ti in t])
    exact = TrackBatch(  # from 100 s after launch (a ground start does not "cross" 0 m)
        x=x[25][None, :], P=np.eye(6)[None] * 1e-6, t=t[25:26],
        track_id=np.zeros(1, np.int64), hits=np.zeros(1, np.int64),
        misses=np.zeros(1, np.int64), age=np.zeros(1, np.int64), confirmed=np.zeros(1, bool),
    )  # fmt: skip
    imp = predict_impact(exact, step=2.0)
    return Threat(t, x, float(imp.lat[0]), float(imp.lon[0]), float(imp.time[0]))


def sensor(partner: str) -> RadarModel:
    _, lat, lon, sig = SITES[partner]
    return RadarModel.from_geodetic(
        math.radians(lat), math.radians(lon), 0.0, sig[0] * 1e3, math.radians(sig[1]),
        math.radians(sig[2]),
    )  # fmt: skip


def plots(partner: str, th: Threat, seed: int, start_s: float = 60.0) -> list[dict[str, Any]]:
    """One plot per scan where the threat is above 2° elevation, from *start_s* after launch."""
    sid, lat, lon, _ = SITES[partner]
    model = sensor(partner)
    rng = np.random.default_rng(seed)
    z = np.array([model.h(xi, ti) for ti, xi in zip(th.t, th.x, strict=True)])
    seen = (th.t - T0 >= start_s) & (z[:, 2] >= math.radians(2.0))
    zs = z + rng.standard_normal(z.shape) * model.sigma  # drawn for every scan, kept where seen
    k = int(seen.sum())
    site = [math.radians(lat), math.radians(lon), 0.0]
    return plot_records(
        Plots(
            np.full(k, partner), np.full(k, sid), np.zeros(k, np.intp), th.t[seen], zs[seen],
            np.tile(model.sigma, (k, 1)), np.tile(site, (k, 1)),
        ),
        0.0,
    )  # fmt: skip
