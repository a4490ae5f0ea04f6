"""Benchmark: the European defended footprint (REFERENCES §5; issue 4 item 8).

Grid 0.5 deg over 35-72 N, 12 W-45 E; three launch areas (Tehran, Tabriz, Semnan); one site
(Redzikowo, GBI-2 at its catalogue burnout speed, sensors EMR + TPY-2 + space IR); one missile
class (IRBM by default; ``--missile ICBM-liquid`` for the heavier case). Prints the grid size and
the median wall time of ``--repeat`` runs, with the one-off fly-out fan build timed separately.
Target: < 30 s on 2 cores.

    python benchmarks/bench_coverage.py [--missile IRBM] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from openbmd import catalog
from openbmd.analysis.footprint import REGIONS, footprint, population_summary
from openbmd.architecture import Architecture, Battery, CommandRules, SensorRole
from openbmd.catalog.interceptors import interceptor
from openbmd.catalog.places import load_cities
from openbmd.catalog.sensors import rcs_for, sensors_by_names
from openbmd.constants import DEG
from openbmd.interceptors import flyout_fan


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--missile", default="IRBM")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    site = catalog.site("Redzikowo")
    icp = interceptor("GBI-2").model
    t0 = time.perf_counter()
    fan = flyout_fan(icp, site.lat_deg * DEG, site.lon_deg * DEG)
    t_fan = time.perf_counter() - t0
    sens = sensors_by_names("EMR,TPY-2,SpaceIR")
    # The historical benchmark case (X-band = fire control, launch on early warning allowed),
    # kept fixed so that figures compare across versions.
    d = Architecture(
        "bench",
        "benchmark",
        "benchmarks/bench_coverage.py",
        (Battery(site.name, site.lat_deg * DEG, site.lon_deg * DEG, icp, inventory=8),),
        tuple(
            SensorRole(
                s.model, "fire-control" if s.band == "X" else "early-warning", rcs=rcs_for(s, None)
            )
            for s in sens
        ),
        CommandRules(commit="early-warning", fire_control_needs_cue=False),
    )
    areas = [
        (n, catalog.site(n).lat_deg * DEG, catalog.site(n).lon_deg * DEG)
        for n in ("Tehran", "Tabriz", "Semnan")
    ]
    m = catalog.missile(args.missile)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ds = footprint(d, m, areas, REGIONS["europe"], 0.5, load_cities(), fans=(fan,))
        times.append(time.perf_counter() - t0)
    s = population_summary(ds)
    share = float(ds.defended.values[ds.threatened.values].mean())
    print(
        f"cpus: {os.cpu_count()}  missile: {m.name}  grid: {ds.sizes['lat']} x "
        f"{ds.sizes['lon']} = {ds.sizes['lat'] * ds.sizes['lon']} aimpoints x 3 launch areas"
    )
    print(f"fly-out fan build (once per interceptor/site): {t_fan:.2f} s")
    print(
        f"footprint median of {args.repeat}: {statistics.median(times):.2f} s "
        f"(runs: {', '.join(f'{x:.2f}' for x in times)}); total with fan "
        f"{statistics.median(times) + t_fan:.2f} s (target < 30 s)"
    )
    print(
        f"defended share of threatened grid: {share:.3f};"
        f" population defended: {s['population_defended_fraction']:.3f}"
    )


if __name__ == "__main__":
    main()
