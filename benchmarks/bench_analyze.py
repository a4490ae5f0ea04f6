"""Benchmark: ``openbmd analyze`` on the bundled scenario, cold, warm and cached (issue 9 item 4).

Each run is a fresh ``python -m openbmd analyze SCENARIO --out DIR --json`` subprocess:

* **cold** — empty numba cache (``NUMBA_CACHE_DIR`` set to a new empty folder) and empty result
  cache (``OPENBMD_CACHE_DIR``): every kernel compiles, every fan is built, every analysis runs;
* **warm** — the numba cache and the fly-out fans on disk of the cold run, ``--no-cache``:
  the analyses run again;
* **cached** — both caches warm: the content-addressed result cache answers.

The goals on the 2-core machine are the peers: cold ≤ 300 s, warm ≤ 90 s, cached ≤ 10 s; the
ratio printed is time / goal (≤ 1 meets it). Warm and cached are the median of ``--repeat``.

    python benchmarks/bench_analyze.py [--scenario europe-2009] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"cold": 300.0, "warm": 90.0, "cached": 10.0}


def _run(scenario: str, out: Path, numba_dir: Path, result_dir: Path, *extra: str) -> float:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_dir), "OPENBMD_CACHE_DIR": str(result_dir)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "openbmd",
            "analyze",
            scenario,
            "--out",
            str(out),
            "--json",
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"analyze failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="europe-2009")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        numba_dir = root / "numba"
        out = root / "report"
        times: dict[str, list[float]] = {"cold": [], "warm": [], "cached": []}
        times["cold"].append(_run(args.scenario, out, numba_dir, root / "results-cold"))
        for _ in range(args.repeat):
            times["warm"].append(
                _run(args.scenario, out, numba_dir, root / "results-cold", "--no-cache")
            )
        for _ in range(args.repeat):
            times["cached"].append(_run(args.scenario, out, numba_dir, root / "results-cold"))
        size = (out / "report.html").stat().st_size
    rows = {
        k: {"median_s": statistics.median(v), "runs_s": v, "goal_s": GOALS[k],
            "ratio_to_goal": statistics.median(v) / GOALS[k]}
        for k, v in times.items()
    }  # fmt: skip
    if args.json:
        print(json.dumps({"scenario": args.scenario, "report_bytes": size, "runs": rows}, indent=2))
        return
    print(f"openbmd analyze {args.scenario} (report.html {size / 1e6:.1f} MB)")
    print(f"{'run':<8}{'median s':>10}{'goal s':>9}{'time/goal':>11}  runs")
    for k, r in rows.items():
        runs = ", ".join(f"{x:.1f}" for x in r["runs_s"])
        print(f"{k:<8}{r['median_s']:>10.1f}{r['goal_s']:>9.0f}{r['ratio_to_goal']:>11.2f}  {runs}")


if __name__ == "__main__":
    main()
