"""Trajectory benchmark: openbmd's batch propagator against solve_ivp and pytrajlib, in one run.

(a) openbmd batch: N full boost-to-impact flights of the ``ICBM-liquid`` missile (random azimuths,
    kick angle 5–8°, launch points 30–60° N / 30–60° E, seeded) through ``trajectory.fly`` —
    median wall time of ``--repeats`` calls after one untimed warm-up call (numba compilation and
    cache loading excluded). Against a per-trajectory ``scipy.integrate.solve_ivp`` loop on the
    *same dynamics*: a Python right-hand side calling the kernel's own acceleration
    ``openbmd.trajectory_kernel._accel`` on the tables ``trajectory.propagate`` builds, integrated
    piecewise between the forcing discontinuities, with a terminal event at the descending
    altitude-0 crossing (armed after ``ARM``). RK45, rtol 1e-6, atol 1e-3, timed on a subset and
    scaled to N.
(b) pytrajlib (PyPI, MIT Laboratory for Nuclear Security and Policy; C core): its default ICBM
    problem through ``benchmarks/pytrajlib_peer.run_pytrajlib`` — trajectories per second.
(c) accuracy: the batch's impact points against a tight ``solve_ivp`` reference (DOP853, rtol
    1e-10, atol 1e-6) on the same subset and the same dynamics (WGS-84 geodesic distance).

Run:  python benchmarks/bench_trajectory.py  [--n 10000 --ivp-subset 20 --pytrajlib-n 1000
      --repeats 3]   (``--quick``: N 1000, subset 5, pytrajlib 200, for a smoke check).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np
from pytrajlib_peer import run_pytrajlib
from scipy.integrate import solve_ivp

from openbmd import catalog, earth, earth_jit, missiles, trajectory
from openbmd import trajectory_kernel as kern

MISSILE = "ICBM-liquid"
TYPICAL = {"method": "RK45", "rtol": 1e-6, "atol": 1e-3}
# The loosest RK45 setting whose impact points stay within the 100 m accuracy target: the
# like-for-like peer ("at that accuracy").
MATCHED = {"method": "RK45", "rtol": 1e-8, "atol": 1e-5}
STEPS = trajectory.StepSizes()
TIGHT = {"method": "DOP853", "rtol": 1e-10, "atol": 1e-6}
TARGET_IVP = 100.0  # openbmd / solve_ivp loop, trajectories per second
TARGET_PEER = 10.0  # openbmd / pytrajlib, trajectories per second
TARGET_ERR_M = 100.0  # impact point vs the tight reference


# --------------------------------------------------------------------------- problem


def make_problem(n: int, seed: int) -> dict[str, Any]:
    """A seeded batch of n ICBM flights: random azimuth, kick 5–8°, launch 30–60° N/E."""
    rng = np.random.default_rng(seed)
    return {
        "missiles": missiles.stack([catalog.missile(MISSILE)] * n),
        "lat": np.radians(rng.uniform(30.0, 60.0, n)),
        "lon": np.radians(rng.uniform(30.0, 60.0, n)),
        "guidance": trajectory.Guidance.of(
            n, rng.uniform(0.0, 2.0 * np.pi, n), np.radians(rng.uniform(5.0, 8.0, n))
        ),
    }


def subset(problem: dict[str, Any], idx: np.ndarray) -> dict[str, Any]:
    b: missiles.MissileBatch = problem["missiles"]
    fields = {k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in vars(b).items()}
    fields["n"] = idx.size
    g: trajectory.Guidance = problem["guidance"]
    return {
        "missiles": missiles.MissileBatch(**fields),
        "lat": problem["lat"][idx],
        "lon": problem["lon"][idx],
        "guidance": trajectory.Guidance(g.azimuth[idx], g.kick_angle[idx], g.cutoff_time[idx]),
    }


def fly(problem: dict[str, Any]) -> trajectory.Trajectory:
    return trajectory.fly(
        problem["missiles"], problem["lat"], problem["lon"], problem["guidance"], record=False
    )


@contextlib.contextmanager
def kernel_tables() -> Iterator[list[tuple[Any, ...]]]:
    """Capture the arrays ``trajectory.propagate`` hands to ``propagator.integrate``.

    The solve_ivp loop then integrates exactly the forcing tables, breaks and model flags the
    batch kernel sees: (r0, v0, t0, F, ST, CD, mach_grid, breaks, P, lnrho, sound).
    """
    real = kern.integrate
    captured: list[tuple[Any, ...]] = []

    def spy(*args: Any) -> Any:
        captured.append(tuple(np.array(a, copy=True) for a in args[:11]))
        return real(*args)

    kern.integrate = spy
    try:
        yield captured
    finally:
        kern.integrate = real


# --------------------------------------------------------------------------- solve_ivp


def solve_one(tables: tuple[Any, ...], i: int, opts: dict[str, Any]) -> tuple[float, Any, int]:
    """Fly body ``i`` with solve_ivp on the kernel's dynamics; (impact t, ECI state, nfev)."""
    r0, v0, t0, F, ST, CD, mach_grid, breaks, P, lnrho, sound = tables
    f, st, cd = F[i], ST[i], CD[i]
    ctx = (f, st, cd, mach_grid, P, lnrho, sound)
    sphere = bool(P[kern.P_SPHERE] > 0.0)
    arm, stop = float(f[kern.ARM]), float(f[kern.STOP_ALT])
    accel, alt_of = kern._accel, earth_jit.altitude
    bk = sorted({float(b) for b in breaks[i] if math.isfinite(b) and b > t0[i]})
    edges = [float(t0[i]), *bk, float(P[kern.P_TMAX])]
    y = np.concatenate([r0[i], v0[i]])
    nfev = 0
    for a, b in itertools.pairwise(edges):
        tseg = 0.5 * (a + b)  # strictly inside this smooth segment: fixes stage / steering law

        def rhs(t: float, s: np.ndarray, tseg: float = tseg) -> np.ndarray:
            ax, ay, az = accel(t, tseg, s[0], s[1], s[2], s[3], s[4], s[5], ctx)
            return np.array([s[3], s[4], s[5], ax, ay, az])

        def impact(t: float, s: np.ndarray) -> float:
            h = alt_of(s[0], s[1], s[2], sphere) - stop
            return h if t > arm else abs(h) + 1.0  # armed after ARM, as in the kernel

        impact.terminal = True  # type: ignore[attr-defined]
        impact.direction = -1  # type: ignore[attr-defined]
        sol = solve_ivp(rhs, (a, b), y, events=impact, **opts)
        nfev += sol.nfev
        if sol.t_events[0].size:
            return float(sol.t_events[0][0]), sol.y_events[0][0], nfev
        if sol.status != 0:
            raise RuntimeError(f"solve_ivp failed on trajectory {i}: {sol.message}")
        y = sol.y[:, -1]
    return math.nan, np.full(6, np.nan), nfev


def impact_latlon(t: np.ndarray, y: np.ndarray, omega: float) -> tuple[np.ndarray, np.ndarray]:
    r_ecef = earth.eci2ecef(y[:, :3], t, omega=omega)
    lat, lon, _ = trajectory.surface_geodetic(r_ecef, trajectory.EarthModel())
    return lat, lon


def ivp_loop(tables: tuple[Any, ...], opts: dict[str, Any]) -> dict[str, Any]:
    n = tables[0].shape[0]
    ts, ys, nfev = np.empty(n), np.empty((n, 6)), 0
    start = time.perf_counter()
    for i in range(n):
        ts[i], ys[i], k = solve_one(tables, i, opts)
        nfev += k
    wall = time.perf_counter() - start
    lat, lon = impact_latlon(ts, ys, float(tables[8][kern.P_OMEGA]))
    return {"seconds": wall, "per_traj": wall / n, "t": ts, "lat": lat, "lon": lon,
            "nfev": nfev / n}  # fmt: skip


# --------------------------------------------------------------------------- helpers


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    out = fn()  # warm-up: numba compile / cache load, page faults
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def distance_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    return np.asarray(earth.geodesic_inverse(lat1, lon1, lat2, lon2)[0])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="openbmd batch size (default 10000)")
    ap.add_argument("--ivp-subset", type=int, default=20, help="solve_ivp trajectories (20)")
    ap.add_argument("--pytrajlib-n", type=int, default=1000, help="pytrajlib trajectories (1000)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, median (3)")
    ap.add_argument("--seed", type=int, default=2024, help="Generator seed (2024)")
    ap.add_argument("--no-2p", action="store_true", help="skip pytrajlib with 2 processes")
    ap.add_argument("--quick", action="store_true", help="smoke check: N 1000, subset 5, peer 200")
    args = ap.parse_args()
    if args.quick:
        args.n, args.ivp_subset, args.pytrajlib_n = 1000, 5, 200
    if min(args.n, args.ivp_subset, args.pytrajlib_n, args.repeats) < 1:
        ap.error("sizes and --repeats must be >= 1")
    args.ivp_subset = min(args.ivp_subset, args.n)
    return args


# --------------------------------------------------------------------------- main


def main() -> int:
    args = parse_args()
    command = "python benchmarks/bench_trajectory.py " + shlex.join(sys.argv[1:])
    threads = numba.get_num_threads()
    print(f"openbmd trajectory benchmark — {os.cpu_count()} CPUs, numba {numba.__version__} "
          f"({threads} threads), missile {MISSILE}, seed {args.seed}")  # fmt: skip
    print(f"command: {command.strip()}; load average at start {os.getloadavg()[0]:.2f}\n")

    # (a) openbmd batch ------------------------------------------------------------------
    problem = make_problem(args.n, args.seed)
    med, times, traj = median_time(lambda: fly(problem), args.repeats)
    rate = args.n / med
    rng_km = traj.ground_range() / 1e3
    tof = traj.events.impact_time
    landed = int(np.isfinite(tof).sum())
    print(f"(a) openbmd batch, N = {args.n}: median {med:.3f} s of {args.repeats} runs "
          f"({', '.join(f'{t:.3f}' for t in times)}) after one untimed warm-up call "
          f"(numba compile excluded) -> {rate:,.0f} trajectories/s")  # fmt: skip
    print(
        f"    {landed}/{args.n} impacted; ground range {np.nanmin(rng_km):,.0f}–"
        f"{np.nanmax(rng_km):,.0f} km (median {np.nanmedian(rng_km):,.0f}); flight time "
        f"median {np.nanmedian(tof):.0f} s; RK4 steps {STEPS.boost:g} s boost / "
        f"{STEPS.reentry:g} s <100 km / {STEPS.upper:g} s / {STEPS.vacuum:g} s >250 km"
    )
    numba.set_num_threads(1)
    try:
        t1 = time.perf_counter()
        fly(problem)  # already warm: one timed run
        med1 = time.perf_counter() - t1
    finally:
        numba.set_num_threads(threads)
    print(f"    same batch on 1 numba thread: {med1:.3f} s -> {args.n / med1:,.0f} trajectories/s")

    idx = np.linspace(0, args.n - 1, args.ivp_subset).round().astype(int)
    with kernel_tables() as captured:
        sub_traj = fly(subset(problem, idx))
    tables = captured[0]
    same = np.array_equal(sub_traj.events.impact_time, tof[idx], equal_nan=True)
    solve_one(tables, 0, TYPICAL)  # warm-up: first Python calls into the jitted functions
    typ = ivp_loop(tables, TYPICAL)
    ivp_rate = 1.0 / typ["per_traj"]
    ivp_scaled = typ["per_traj"] * args.n
    ratio_ivp = rate / ivp_rate
    print(
        f"    solve_ivp loop (RK45, rtol 1e-6, atol 1e-3; same _accel, piecewise between "
        f"breaks, terminal impact event), {args.ivp_subset} trajectories: {typ['seconds']:.2f} s"
        f" = {typ['per_traj'] * 1e3:.1f} ms/trajectory ({typ['nfev']:.0f} RHS calls each)"
    )
    print(
        f"    scaled to N = {args.n} (subset time × N / subset, not measured at N): "
        f"{ivp_scaled:,.0f} s -> {ivp_rate:,.1f} trajectories/s; openbmd / solve_ivp = "
        f"{ratio_ivp:,.0f}× ({args.n / med1 / ivp_rate:,.0f}× on 1 thread)"
    )
    mat = ivp_loop(tables, MATCHED)
    mat_rate = 1.0 / mat["per_traj"]
    ratio_mat = rate / mat_rate
    print(
        f"    solve_ivp loop at matched accuracy (RK45, rtol 1e-8, atol 1e-5): "
        f"{mat['per_traj'] * 1e3:.1f} ms/trajectory ({mat['nfev']:.0f} RHS calls) -> "
        f"{mat_rate:,.1f} trajectories/s; openbmd / solve_ivp = {ratio_mat:,.0f}×\n"
    )

    # (b) pytrajlib ----------------------------------------------------------------------
    with tempfile.TemporaryDirectory(prefix="bench_traj_") as tmp:
        root = Path(tmp)
        run_pytrajlib(1, root / "warm")  # import, data load, first call
        runs = [run_pytrajlib(args.pytrajlib_n, root / f"r{k}") for k in range(args.repeats)]
        peer_s = statistics.median(r["seconds"] for r in runs)
        peer = runs[-1]
        peer2_s = math.nan
        if not args.no_2p:
            with ProcessPoolExecutor(max_workers=2) as pool:
                run_pytrajlib(2, root / "warm2", processes=2, pool=pool)  # warm both workers
                peer2_s = statistics.median(
                    run_pytrajlib(args.pytrajlib_n, root / f"p{k}", processes=2, pool=pool)[
                        "seconds"
                    ]
                    for k in range(args.repeats)
                )
    peer_rate = args.pytrajlib_n / peer_s
    peer2_rate = args.pytrajlib_n / peer2_s
    ratio_peer = rate / peer_rate
    print(f"(b) pytrajlib {peer['version']}, default ICBM, n = {args.pytrajlib_n}: median "
          f"{peer_s:.3f} s of {args.repeats} (single process, its own entry point) -> "
          f"{peer_rate:,.1f} trajectories/s; openbmd / pytrajlib = {ratio_peer:,.1f}×")  # fmt: skip
    if not args.no_2p:
        print(f"    2 worker processes (warm pool): {peer2_s:.3f} s -> {peer2_rate:,.1f} "
              f"trajectories/s; openbmd / pytrajlib(2p) = {rate / peer2_rate:,.1f}×")  # fmt: skip
    print(f"    pytrajlib impact range median {np.median(peer['range_km']):,.0f} km, flight time "
          f"median {np.median(peer['flight_time_s']):.0f} s")  # fmt: skip
    print("    Not the same problem. pytrajlib: non-rotating sphere, point-mass gravity, "
          "exponential atmosphere, Minuteman-III-like 3-stage + RV, 13,400 km lofted (apogee "
          "≈ 3,900 km), Monte Carlo noise on (INS/IMU, geoid, atmosphere), fixed-acceleration "
          "steps of 1 s (0.01 s below 100 km), per-call aim search, single-threaded C. openbmd: "
          "rotating WGS-84 + J2 + US-76 atmosphere, Mach-dependent booster drag, 2-stage "
          f"liquid ICBM, ~{np.nanmedian(rng_km):,.0f} km, classical RK4 with phase steps, "
          f"numba over {threads} threads.\n")  # fmt: skip

    # (c) accuracy -----------------------------------------------------------------------
    ref = ivp_loop(tables, TIGHT)
    ev = traj.events
    lat_b, lon_b = traj.impact_geodetic()
    d_batch = distance_m(lat_b[idx], lon_b[idx], ref["lat"], ref["lon"])
    d_typ = distance_m(typ["lat"], typ["lon"], ref["lat"], ref["lon"])
    dt_batch = np.abs(ev.impact_time[idx] - ref["t"])
    dt_typ = np.abs(typ["t"] - ref["t"])
    d_mat = distance_m(mat["lat"], mat["lon"], ref["lat"], ref["lon"])
    err_max = float(np.max(d_batch))
    print(f"(c) impact points vs the DOP853 reference (rtol 1e-10, atol 1e-6; {ref['nfev']:.0f} "
          f"RHS calls, {ref['per_traj']:.2f} s per trajectory), {args.ivp_subset} trajectories "
          f"(batch rows identical to a separate fly of the subset: {same}):")  # fmt: skip
    print(f"    openbmd batch (RK4):         max {err_max:8.2f} m  median "
          f"{np.median(d_batch):8.2f} m  | impact time max {np.max(dt_batch) * 1e3:8.2f} ms  "
          f"median {np.median(dt_batch) * 1e3:8.2f} ms")  # fmt: skip
    print(f"    solve_ivp RK45 rtol 1e-6:    max {np.max(d_typ):8.2f} m  median "
          f"{np.median(d_typ):8.2f} m  | impact time max {np.max(dt_typ) * 1e3:8.2f} ms  "
          f"median {np.median(dt_typ) * 1e3:8.2f} ms")  # fmt: skip
    print(f"    solve_ivp RK45 rtol 1e-8:    max {np.max(d_mat):8.2f} m  median "
          f"{np.median(d_mat):8.2f} m\n")  # fmt: skip

    # summary ----------------------------------------------------------------------------
    ok_ivp, ok_peer, ok_err = ratio_mat >= TARGET_IVP, ratio_peer >= TARGET_PEER, err_max <= 100
    rows = [
        (f"openbmd batch, N = {args.n} ({threads} threads, median of {args.repeats})",
         f"{rate:,.0f} traj/s ({med:.2f} s)", "", ""),
        ("openbmd batch, 1 thread", f"{args.n / med1:,.0f} traj/s ({med1:.2f} s)", "", ""),
        (f"solve_ivp loop RK45 rtol 1e-6 ({args.ivp_subset} timed, scaled to N)",
         f"{ivp_rate:,.1f} traj/s ({ivp_scaled:,.0f} s scaled)", "", ""),
        ("openbmd / solve_ivp loop (rtol 1e-6, less accurate than openbmd)",
         f"{ratio_ivp:,.0f}×", "", ""),
        (f"solve_ivp loop RK45 rtol 1e-8 (matched accuracy: max {np.max(d_mat):.0f} m)",
         f"{mat_rate:,.1f} traj/s", "", ""),
        ("openbmd / solve_ivp loop at matched accuracy", f"{ratio_mat:,.0f}×", "≥ 100×",
         verdict(ok_ivp)),
        (f"pytrajlib default ICBM, n = {args.pytrajlib_n}, 1 process",
         f"{peer_rate:,.1f} traj/s ({peer_s:.2f} s)", "", ""),
    ]  # fmt: skip
    if not args.no_2p:
        rows.append(("pytrajlib, 2 processes", f"{peer2_rate:,.1f} traj/s", "", ""))
    rows += [
        ("openbmd / pytrajlib (1 process)", f"{ratio_peer:,.1f}×", "≥ 10×", verdict(ok_peer)),
        (f"impact error vs DOP853 rtol 1e-10, max / median ({args.ivp_subset} traj)",
         f"{err_max:.1f} / {np.median(d_batch):.1f} m", "≤ 100 m", verdict(ok_err)),
        ("impact time error, max / median",
         f"{np.max(dt_batch) * 1e3:.1f} / {np.median(dt_batch) * 1e3:.1f} ms", "", ""),
        ("solve_ivp RK45 rtol 1e-6 own impact error, max / median",
         f"{np.max(d_typ):.1f} / {np.median(d_typ):.1f} m", "", ""),
    ]  # fmt: skip
    print("| Figure | Value | Target | Result |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nCommand: `{command.strip()}` (load average at end {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
