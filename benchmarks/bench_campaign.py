"""Campaign benchmark: the bundled scenario's engageability question over N trials, serial vs
a 2-process pool vs a 2-worker Dask LocalCluster (127.0.0.1), on this machine.

Prints wall time, speed-up against serial (measured in the same run), task overhead
(wall − (compute + set-up) ÷ workers, relative to wall), resident memory per worker process
(peak RSS, from psutil) and a *projection* to a cluster: measured compute per chunk × chunks
÷ workers. Every executor's Dataset is checked identical to the serial one. ``--quantum-kms``
coarsens the GBI burnout-speed grid (fewer fly-out fans per worker) for a shorter run.

    python benchmarks/bench_campaign.py --trials 1000
    python benchmarks/bench_campaign.py --trials 40 --quantum-kms 1.0   # quick
"""

from __future__ import annotations

import argparse
import threading
import time

import psutil
import xarray as xr

from openbmd.scenario import load_scenario
from openbmd.scenario.uncertain import campaign


def _peak_children_rss() -> float:
    kids = psutil.Process().children(recursive=True)
    rss = []
    for k in kids:
        try:
            rss.append(k.memory_info().rss)
        except psutil.Error:
            continue
    return max(rss, default=0) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quantum-kms", type=float, default=None)
    ap.add_argument("--cluster-workers", type=int, default=64, help="for the projection")
    args = ap.parse_args()
    sc = load_scenario("europe-2009")
    if args.quantum_kms is not None:
        first = sc.uncertain[0].model_copy(update={"quantum": args.quantum_kms * 1e3})
        sc = sc.model_copy(update={"uncertain": [first, *sc.uncertain[1:]]})
    rows = {}
    ref = None
    for ex in ("serial", "processes", "dask"):
        t0 = time.perf_counter()
        samples: list[float] = []
        stop = [False]

        def watch(samples: list[float] = samples, stop: list[bool] = stop) -> None:
            while not stop[0]:
                samples.append(_peak_children_rss())
                time.sleep(0.5)

        w = threading.Thread(target=watch)
        w.start()
        ds, timing = campaign(sc, args.trials, args.seed, ex, workers=args.workers)
        stop[0] = True
        w.join()
        wall = time.perf_counter() - t0
        if ref is None:
            ref = ds
        else:
            xr.testing.assert_identical(ref, ds)
        n_w = 1 if ex == "serial" else args.workers
        rows[ex] = (wall, timing, n_w, max(samples, default=0.0))
    serial_wall = rows["serial"][0]
    print(
        f"{args.trials} trials, bundled europe-2009, GBI grid "
        f"{(args.quantum_kms or 0.1):g} km/s; identical Datasets: yes"
    )
    print(
        f"{'executor':<10} {'wall s':>8} {'speed-up':>9} {'chunks':>7} {'compute s':>10} "
        f"{'overhead':>9} {'RSS/worker MiB':>15}"
    )
    for ex, (wall, timing, n_w, rss) in rows.items():
        busy = (timing["compute_s"] + timing["setup_s"]) / n_w
        over = max(0.0, wall - busy) / wall
        print(
            f"{ex:<10} {wall:8.1f} {serial_wall / wall:9.2f} {timing['chunks']:7d} "
            f"{timing['compute_s']:10.1f} {over:9.1%} {rss if n_w > 1 else 0:15.0f}"
        )
    wall, timing, _, _ = rows["dask"]
    per_chunk = timing["compute_s"] / timing["chunks"]
    print(
        f"projection (not a measurement): {per_chunk:.2f} s per chunk x {timing['chunks']} "
        f"chunks / {args.cluster_workers} workers = "
        f"{per_chunk * timing['chunks'] / args.cluster_workers:.1f} s of compute, plus each "
        "worker's set-up (aiming, fly-out fans)"
    )


if __name__ == "__main__":
    main()
