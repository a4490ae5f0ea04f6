"""Benchmark openbmd.earth frame conversions against pymap3d, and the atmosphere kernel.

Run: ``python benchmarks/bench_earth.py [--n 1000000] [--repeat 7]``. Prints, per conversion, the
median wall time of openbmd and of pymap3d (radians, ``deg=False``) on the same points, the ratio
pymap3d / openbmd (> 1: openbmd faster) and the largest difference between the two results.
Positions are compared in metres, angles as metres of arc at the relevant radius or range.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pymap3d as pm

from openbmd import earth


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    out = fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    n = args.n
    lat = np.arcsin(rng.uniform(-1, 1, n))
    lon = rng.uniform(-np.pi, np.pi, n)
    alt = rng.uniform(-5e3, 1e5, n)  # pymap3d's inverse is exact only up to ~100 km (see tests)
    lat0, lon0, alt0 = 0.9, 0.3, 100.0
    r = earth.geodetic2ecef(lat, lon, alt)
    x, y, z = r[:, 0], r[:, 1], r[:, 2]  # views of the (N, 3) array, as openbmd callers hold them
    enu = earth.ecef2enu(r, lat0, lon0, alt0)
    az, el, sr = earth.ecef2aer(r, lat0, lon0, alt0)

    def stack(t: tuple[Any, ...]) -> np.ndarray:
        return np.stack(t, axis=-1)

    def d_pos(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.max(np.linalg.norm(a - b, axis=-1)))

    def d_geod(a: tuple[Any, ...], b: tuple[Any, ...]) -> float:
        arc = earth.sphere_inverse(a[0], a[1], b[0], b[1], 6.5e6)[0]
        return float(max(np.max(arc), np.max(np.abs(a[2] - b[2]))))

    def d_aer(a: tuple[Any, ...], b: tuple[Any, ...]) -> float:
        daz = np.abs(np.angle(np.exp(1j * (a[0] - b[0])))) * a[2] * np.cos(a[1])
        return float(
            max(np.max(daz), np.max(np.abs(a[1] - b[1]) * a[2]), np.max(np.abs(a[2] - b[2])))
        )

    cases = [
        (
            "geodetic2ecef",
            lambda: earth.geodetic2ecef(lat, lon, alt),
            lambda: stack(pm.geodetic2ecef(lat, lon, alt, deg=False)),
            d_pos,
        ),
        (
            "ecef2geodetic",
            lambda: earth.ecef2geodetic(r),
            lambda: pm.ecef2geodetic(x, y, z, deg=False),
            d_geod,
        ),
        (
            "ecef2enu",
            lambda: earth.ecef2enu(r, lat0, lon0, alt0),
            lambda: stack(pm.ecef2enu(x, y, z, lat0, lon0, alt0, deg=False)),
            d_pos,
        ),
        (
            "enu2ecef",
            lambda: earth.enu2ecef(enu, lat0, lon0, alt0),
            lambda: stack(
                pm.enu2ecef(enu[:, 0], enu[:, 1], enu[:, 2], lat0, lon0, alt0, deg=False)
            ),
            d_pos,
        ),
        (
            "ecef2aer",
            lambda: earth.ecef2aer(r, lat0, lon0, alt0),
            lambda: pm.ecef2aer(x, y, z, lat0, lon0, alt0, deg=False),
            d_aer,
        ),
        (
            "aer2ecef",
            lambda: earth.aer2ecef(az, el, sr, lat0, lon0, alt0),
            lambda: stack(pm.aer2ecef(az, el, sr, lat0, lon0, alt0, deg=False)),
            d_pos,
        ),
    ]
    print(f"n = {n:,} points, median of {args.repeat} runs, pymap3d {pm.__version__}")
    print(
        f"{'function':<15}{'openbmd [ms]':>14}{'pymap3d [ms]':>14}{'ratio':>8}{'max diff [m]':>15}"
    )
    for name, ours, theirs, diff in cases:
        t_o, out_o = median_time(ours, args.repeat)
        t_p, out_p = median_time(theirs, args.repeat)
        d = diff(out_o, out_p)
        print(f"{name:<15}{1e3 * t_o:>14.1f}{1e3 * t_p:>14.1f}{t_p / t_o:>8.2f}{d:>15.2e}")

    print("\natmosphere kernels on 10,000 altitudes (-5 km .. 1500 km), median of 201 runs")
    z = np.linspace(-5e3, 1.5e6, 10_000)
    z_low = np.linspace(-5e3, 86e3, 10_000)
    for label, fn in [
        ("atmosphere(z)", lambda: earth.atmosphere(z)),
        ("density_and_sound_speed(z)", lambda: earth.density_and_sound_speed(z)),
        ("density_and_sound_speed(z<=86km)", lambda: earth.density_and_sound_speed(z_low)),
        ("gravity(r) with J2, 10,000 points", lambda: earth.gravity(r[:10_000])),
    ]:
        t, _ = median_time(fn, 201)
        print(f"{label:<36}{1e6 * t:>10.0f} µs")


if __name__ == "__main__":
    main()
