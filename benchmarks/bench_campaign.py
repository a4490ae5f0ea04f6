"""Campaign benchmark: the bundled scenario's engageability and footprint questions over N
trials, serial vs a 2-process pool vs a 2-worker Dask LocalCluster (127.0.0.1), on this machine.

The fly-out fans every trial needs are built once, up front, into a fan store (a temporary
folder, or ``--fan-store``) before the executors are timed, and that step is timed apart:
every executor then only reads them (this process's in-memory fans are dropped before each
run), so the executors are compared on the same work. Prints
wall time, speed-up against serial (measured in the same run, the executors interleaved over
``--repeat`` rounds; medians), task overhead (wall − (compute + set-up) ÷ workers, relative to
wall), resident memory per worker process (peak RSS, from psutil), the load average before and
after, and a *projection* to a cluster: measured compute per task × tasks ÷ workers. Every
executor's Dataset is checked identical to the serial one. ``--quantum-kms`` coarsens the GBI
burnout-speed grid (fewer fans) for a shorter run.

    python benchmarks/bench_campaign.py --trials 1000
    python benchmarks/bench_campaign.py --trials 40 --quantum-kms 1.0   # quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from typing import Any

import psutil
import xarray as xr

from openbmd.analysis import trials
from openbmd.interceptors import fan
from openbmd.scenario import load_scenario
from openbmd.scenario.uncertain import campaign, prebuild


def _peak_children_rss() -> float:
    kids = psutil.Process().children(recursive=True)
    rss = []
    for k in kids:
        try:
            rss.append(k.memory_info().rss)
        except psutil.Error:
            continue
    return max(rss, default=0) / 2**20


def _run(sc: Any, args: argparse.Namespace, ex: str, store: str) -> tuple[Any, ...]:
    # Every executor starts from the store on disk: no fan or fan answer already in this
    # process's memory (the up-front build leaves up to 24 fans there, which only serial
    # would get for free).
    fan._FANS.clear()
    trials._MEMO.clear()
    trials._MEMO_SIZE[0] = 0
    samples: list[float] = []
    stop = [False]

    def watch() -> None:
        while not stop[0]:
            samples.append(_peak_children_rss())
            time.sleep(0.5)

    w = threading.Thread(target=watch)
    w.start()
    t0 = time.perf_counter()
    ds, timing = campaign(sc, args.trials, args.seed, ex, workers=args.workers, fan_store=store)
    wall = time.perf_counter() - t0
    stop[0] = True
    w.join()
    n_w = 1 if ex == "serial" else args.workers
    return wall, timing, n_w, max(samples, default=0.0), ds


def _print(args: argparse.Namespace, rows: dict[str, list[Any]], l0: Any, l1: Any) -> None:
    med = {ex: statistics.median(r[0] for r in rs) for ex, rs in rows.items()}
    print(
        f"{args.trials} trials, bundled europe-2009, GBI grid {(args.quantum_kms or 0.1):g} km/s, "
        f"{args.repeat} round(s); identical Datasets: yes; load average before "
        f"{l0[0]:.2f} {l0[1]:.2f} {l0[2]:.2f}, after {l1[0]:.2f} {l1[1]:.2f} {l1[2]:.2f}"
    )
    print(
        f"{'executor':<10} {'median s':>9} {'runs s':>18} {'speed-up':>9} {'tasks':>6} "
        f"{'compute s':>10} {'overhead':>9} {'RSS/worker MiB':>15}"
    )
    for ex, rs in rows.items():
        wall, timing, n_w, rss, _ = sorted(rs, key=lambda r: r[0])[len(rs) // 2]
        busy = (timing["compute_s"] + timing["setup_s"]) / n_w
        over = max(0.0, wall - busy) / wall
        runs = ", ".join(f"{r[0]:.1f}" for r in rs)
        print(
            f"{ex:<10} {med[ex]:9.1f} {runs:>18} {med['serial'] / med[ex]:9.2f} "
            f"{timing['chunks']:6d} {timing['compute_s']:10.1f} {over:9.1%} "
            f"{rss if n_w > 1 else 0:15.0f}"
        )
    timing = rows["dask"][0][1]
    per_task = timing["compute_s"] / timing["chunks"]
    print(
        f"projection (not a measurement): {per_task:.2f} s per task x {timing['chunks']} "
        f"tasks / {args.cluster_workers} workers = "
        f"{per_task * timing['chunks'] / args.cluster_workers:.1f} s of compute, plus each "
        "worker's set-up (aiming) and its reads of the fan store"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quantum-kms", type=float, default=None)
    ap.add_argument("--cluster-workers", type=int, default=64, help="for the projection")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the three executors")
    ap.add_argument("--fan-store", default=None, help="fan folder (default: a temporary one)")
    args = ap.parse_args()
    sc = load_scenario("europe-2009")
    if args.quantum_kms is not None:
        first = sc.uncertain[0].model_copy(update={"quantum": args.quantum_kms * 1e3})
        sc = sc.model_copy(update={"uncertain": [first, *sc.uncertain[1:]]})
    with tempfile.TemporaryDirectory(prefix="bench-fans-") as tmp:
        store = args.fan_store or tmp
        fans_s = prebuild(sc, args.trials, args.seed, store)
        print(f"fans built or found up front: {fans_s:.1f} s (not counted below)")
        load0 = os.getloadavg()
        rows: dict[str, list[Any]] = {}
        ref = None
        for _ in range(args.repeat):
            for ex in ("serial", "processes", "dask"):
                rows.setdefault(ex, []).append(_run(sc, args, ex, store))
                ds = rows[ex][-1][-1]
                if ref is None:
                    ref = ds
                else:
                    xr.testing.assert_identical(ref, ds)
        load1 = os.getloadavg()
    _print(args, rows, load0, load1)


if __name__ == "__main__":
    main()
