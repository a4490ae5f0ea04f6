"""Peer benchmark: full boost-to-impact trajectories of pytrajlib's default ICBM.

pytrajlib (PyPI ``pytrajlib``, MIT Laboratory for Nuclear Security and Policy) is a C core
(cffi) driven from Python. Its batch entry point is ``pytrajlib.run(config)``: one call runs
``num_runs`` Monte Carlo flights in a plain, single-threaded C loop (``mc_run``) and returns
the impact states as a pandas DataFrame. This module times that entry point on the package's
own ``config/default.toml`` problem, with file output switched off and anything the package
still writes sent to a temporary directory.

What the default run is (read from the C sources shipped in the 1.0.0a6 wheel):

* vehicle: Minuteman III booster (3 stages, burn 61 + 66 + 61 = 188 s, lift-off mass 34.7 t)
  with a 400 kg ballistic RV; thrust vertical for 5 s, then along one fixed inertial
  direction whose angle is found per call by a Brent search that flies noise-free
  trajectories until the impact hits the aim point;
* problem: launch from (0°, 0°) to (0°, 120.64° E), i.e. 13 414 km great-circle range on a
  lofted path (burnout 7.6 km/s at 259 km, flight-path angle 33°, apogee ≈ 3 900 km,
  flight time ≈ 3 873 s);
* Earth: sphere R = 6371 km, point-mass gravity (GM = 3.9857e14), no rotation, no J2 (the
  only rotation term is a small random "Coriolis" shift of the impact point);
* atmosphere: exponential (1.225 kg/m³, H = 8 km) with Gaussian density and wind
  perturbations in four altitude bands; drag with constant C_D (booster 0.15 on 2.27 m²;
  RV 0.1 on 0.166 m²), no aerodynamics above 100 km after burnout;
* integrator: the routine called ``rk4step`` holds the acceleration fixed over the step, so
  it reduces to x += v·dt + a·dt²/2, v += a·dt (one force evaluation per step, first order
  in the forcing); dt = 1.0 s during boost and above 100 km, 0.01 s below 100 km;
  ≈ 6 100 steps per flight, each advancing a true and an INS-estimated state (plus a
  "desired" state during boost);
* Monte Carlo errors on by default (initial state, geoid height, IMU gyro/accelerometer,
  atmosphere); the C RNG (MT19937-64) is never seeded, so every process starts from the
  same stream and parallel workers repeat each other's samples.

Run it with ``python benchmarks/pytrajlib_peer.py`` (``--help`` for sizes, repeats and
worker processes).
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import ctypes
import importlib
import importlib.resources
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

#: Sphere radius used by pytrajlib's C core [m].
PYTRAJLIB_EARTH_RADIUS = 6371e3
#: Size of the fixed impact buffer in pytrajlib's C core (runs per ``mc_run`` call).
_FALLBACK_MAX_RUNS = 10_000

DEFAULT_SIZES = (10, 100, 1000)
DEFAULT_REPEATS = 3


def _load_pytrajlib() -> tuple[ModuleType, str]:
    """Import pytrajlib's simulation module, or fail with an actionable message."""
    try:
        simulation = importlib.import_module("pytrajlib.simulation")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "pytrajlib is not importable in this interpreter "
            f"({sys.executable}): {exc}. Install the peer with `pip install pytrajlib` "
            "(it is listed in the 'bench' extra of openbmd)."
        ) from exc
    try:
        from importlib.metadata import version

        ver = version("pytrajlib")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        ver = "unknown"
    return simulation, ver


def _max_runs_per_call() -> int:
    try:
        lib = importlib.import_module("pytrajlib._traj").lib
        return int(getattr(lib, "MAX_RUNS", _FALLBACK_MAX_RUNS))
    except (ImportError, AttributeError):  # pragma: no cover
        return _FALLBACK_MAX_RUNS


def _coerce(text: str) -> int | float | str:
    """Type a value from default.toml the way the package does (int, else float, else str)."""
    if text.isdecimal():
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def default_config(workdir: Path) -> dict[str, Any]:
    """pytrajlib's packaged default run, with all output redirected into ``workdir``.

    The package's own loader (``utils.get_run_params``) rewrites ``config/mean_atm.txt``
    inside site-packages on every call; reading ``default.toml`` here avoids that side
    effect. The mean profile is only used by ``atm_model = 3`` anyway.
    """
    config_dir = importlib.resources.files("pytrajlib.config")
    parser = configparser.ConfigParser()
    parser.read_string(config_dir.joinpath("default.toml").read_text())
    params: dict[str, Any] = {
        key: _coerce(value) for section in parser.sections() for key, value in parser.items(section)
    }
    params["atm_profile_path"] = str(config_dir.joinpath("atmprofiles.txt"))
    params["mean_atm_profile_path"] = str(config_dir.joinpath("mean_atm.txt"))
    workdir = Path(workdir)
    params.update(
        traj_output=0,  # default 2 = write the first flight's trajectory file
        impact_output=0,
        output_dir=str(workdir),  # run() writes a copy of the config here
        impact_data_path=str(workdir / "impact.txt"),
        trajectory_path=str(workdir / "trajectory.txt"),
    )
    return params


@contextlib.contextmanager
def _silenced(log_path: Path) -> Iterator[None]:
    """Send Python *and* C-level stdout/stderr (printf, tqdm bar) to ``log_path``."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    try:
        with open(log_path, "a") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                try:
                    yield
                finally:
                    libc.fflush(None)
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def _impact_range_km(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Great-circle range from pytrajlib's launch point (R, 0, 0) to the impact points."""
    return PYTRAJLIB_EARTH_RADIUS / 1e3 * np.arctan2(np.hypot(y, z), x)


def _fly_serial(simulation: ModuleType, n: int, workdir: Path, quiet: bool) -> dict[str, Any]:
    """Run ``n`` flights in this process; returns wall time, ranges and flight times."""
    per_call = _max_runs_per_call()
    base = default_config(workdir)
    ranges: list[np.ndarray] = []
    tofs: list[np.ndarray] = []
    silence = _silenced(workdir / "pytrajlib.log") if quiet else contextlib.nullcontext()
    with silence:
        start = time.perf_counter()
        left = n
        while left > 0:
            batch = min(left, per_call)
            impacts = simulation.run(config=dict(base, num_runs=batch))
            ranges.append(_impact_range_km(*(impacts[c].to_numpy() for c in ("x", "y", "z"))))
            tofs.append(impacts["t"].to_numpy())
            left -= batch
        wall = time.perf_counter() - start
    return {
        "seconds": wall,
        "calls": math.ceil(n / per_call),
        "range_km": np.concatenate(ranges),
        "flight_time_s": np.concatenate(tofs),
    }


def _worker(n: int, workdir: str) -> dict[str, Any]:
    simulation, _ = _load_pytrajlib()
    return _fly_serial(simulation, n, Path(workdir), quiet=True)


def run_pytrajlib(
    n: int,
    workdir: Path,
    *,
    processes: int = 1,
    quiet: bool = True,
    pool: ProcessPoolExecutor | None = None,
) -> dict[str, Any]:
    """Time ``n`` full boost-to-impact flights of pytrajlib's default ICBM.

    Parameters
    ----------
    n : int
        Number of trajectories (Monte Carlo runs). Split into calls of at most
        ``MAX_RUNS`` (10 000) — the size of the C core's impact buffer.
    workdir : Path
        Scratch directory for whatever pytrajlib writes (config copy, log). Must exist.
    processes : int
        1 (default) times the package's own single-threaded entry point. >1 splits the
        runs over that many worker processes (pytrajlib 1.0.0a6 has no parallel mode of its
        own; its C RNG is unseeded, so workers repeat the same random samples — fine for
        timing, not for statistics).
    quiet : bool
        Silence pytrajlib's printf/tqdm output (sent to ``workdir/pytrajlib.log``).
    pool : ProcessPoolExecutor, optional
        A warmed-up pool to reuse when ``processes > 1`` (pool start-up and imports are
        then excluded from the timing); if omitted, one is created and timed.

    Returns
    -------
    dict
        ``n``, ``seconds`` (wall clock of the runs; the import of pytrajlib is excluded),
        ``per_second``, ``range_km`` (impact great-circle ranges), ``flight_time_s``,
        ``processes``, ``version`` and ``notes``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")
    simulation, version = _load_pytrajlib()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    if processes == 1:
        out = _fly_serial(simulation, n, workdir, quiet)
        wall = out["seconds"]
        ranges, tofs, calls = out["range_km"], out["flight_time_s"], out["calls"]
    else:
        shares = [n // processes + (i < n % processes) for i in range(processes)]
        shares = [s for s in shares if s > 0]
        subdirs = [workdir / f"worker{i}" for i in range(len(shares))]
        for sub in subdirs:
            sub.mkdir(exist_ok=True)
        own_pool = pool is None
        start = time.perf_counter()
        executor = pool or ProcessPoolExecutor(max_workers=processes)
        try:
            futures = [
                executor.submit(_worker, s, str(d)) for s, d in zip(shares, subdirs, strict=True)
            ]
            results = [f.result() for f in futures]
        finally:
            if own_pool:
                executor.shutdown()
        wall = time.perf_counter() - start
        ranges = np.concatenate([r["range_km"] for r in results])
        tofs = np.concatenate([r["flight_time_s"] for r in results])
        calls = sum(r["calls"] for r in results)

    notes = (
        f"pytrajlib {version}, pytrajlib.run() on its default.toml: MMIII + ballistic RV, "
        "launch (0,0) -> aim (0,120.64E), Monte Carlo errors on (INS, geoid, atmosphere "
        "model 1), dt 1.0 s boost/exo and 0.01 s below 100 km, fixed-acceleration step "
        "(labelled RK4), non-rotating spherical Earth without J2; trajectory/impact files "
        f"off. {calls} mc_run call(s), each with a fixed thrust-angle search (Brent, "
        "noise-free flights) included in the wall time; "
        + (
            "single process (the C loop is single-threaded)."
            if processes == 1
            else f"{processes} worker processes"
            + (
                " (warm pool, start-up excluded)."
                if pool is not None
                else " (pool start-up timed)."
            )
        )
    )
    return {
        "n": n,
        "seconds": wall,
        "per_second": n / wall,
        "range_km": ranges.tolist(),
        "flight_time_s": tofs.tolist(),
        "processes": processes,
        "version": version,
        "notes": notes,
    }


def _warm_pool(processes: int, workdir: Path) -> ProcessPoolExecutor:
    """Start ``processes`` workers and make each import pytrajlib and fly once."""
    pool = ProcessPoolExecutor(max_workers=processes)
    warm = [workdir / f"warm{i}" for i in range(processes)]
    for d in warm:
        d.mkdir(exist_ok=True)
    for f in [pool.submit(_worker, 1, str(d)) for d in warm]:
        f.result()
    return pool


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        help=f"trajectory counts to time (default: {' '.join(map(str, DEFAULT_SIZES))})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        help=f"timed repeats per size, median reported (default: {DEFAULT_REPEATS})",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="worker processes (default 1 = pytrajlib's own single-threaded entry point)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.repeats < 1:
        raise SystemExit("--repeats must be >= 1")
    _load_pytrajlib()  # fail early, and keep the ~2 s import out of the timings

    with tempfile.TemporaryDirectory(prefix="pytrajlib_peer_") as tmp:
        root = Path(tmp)
        pool = _warm_pool(args.processes, root) if args.processes > 1 else None
        if pool is None:
            # First call loads data and warms caches; keep it out of the table.
            run_pytrajlib(1, root / "warmup")
        try:
            rows = []
            last: dict[str, Any] = {}
            for n in args.sizes:
                times = []
                for rep in range(args.repeats):
                    last = run_pytrajlib(
                        n, root / f"n{n}_r{rep}", processes=args.processes, pool=pool
                    )
                    times.append(last["seconds"])
                rows.append((n, times, last))
        finally:
            if pool is not None:
                pool.shutdown()

    print(f"pytrajlib peer benchmark ({last['version']}), processes={args.processes}")
    print(last["notes"])
    print()
    header = f"{'n':>7} | {'runs [s]':<28} | {'median [s]':>10} | {'traj/s (median)':>15}"
    print(header)
    print("-" * len(header))
    for n, times, _ in rows:
        med = statistics.median(times)
        runs = " ".join(f"{t:.3f}" for t in times)
        print(f"{n:>7} | {runs:<28} | {med:>10.3f} | {n / med:>15.1f}")

    if len(rows) >= 2:
        (n0, t0, _), (n1, t1, _) = rows[0], rows[-1]
        m0, m1 = statistics.median(t0), statistics.median(t1)
        if n1 > n0 and m1 > m0:
            marginal = (n1 - n0) / (m1 - m0)
            fixed = m0 - n0 / marginal
            print(
                f"\nmarginal rate {marginal:.1f} traj/s; fixed cost per call "
                f"≈ {fixed * 1e3:.0f} ms (from n={n0} and n={n1})"
            )

    rng = np.asarray(rows[-1][2]["range_km"])
    tof = np.asarray(rows[-1][2]["flight_time_s"])
    print(
        f"default ICBM (n={rows[-1][0]}): impact range median {np.median(rng):.1f} km "
        f"(spread {np.ptp(rng) * 1e3:.0f} m), flight time median {np.median(tof):.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
