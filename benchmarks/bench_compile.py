"""First-run compile time of openbmd's numba kernels, cold and warm, before and after a change.

Every measurement runs in a fresh child process whose ``NUMBA_CACHE_DIR`` is a temporary
directory, so no cache in a source tree is read or written:

- **cold**: an empty cache directory — import plus the first call of each public compiled entry
  point of a kernel family pays numba's compile (what a user sees after a fresh install);
- **warm**: a second child on the same directory — the kernels load from numba's on-disk cache;
- **kernel**: in the warm child, a fixed batch timed several times (median), so a compile-time
  cut that slows the kernels shows.

Families (small inputs for the first call, so the cold time is compile time):

- ``trajectory``: :func:`openbmd.trajectory.fly` of 4 IRBMs, recorded (both kernel passes);
  kernel: 4,000 IRBMs, events only;
- ``fan``: :func:`openbmd.interceptors.flyout_fan` of GBI-2 on a 2 x 4 fan, one query;
  kernel: a 8 x 28 fan and 100,000 queries (also compiles the trajectory family: the catalogue
  flies the reference burnout speed);
- ``tracking``: EKF predict, GNN association and update (all and a subset) of 8 tracks;
  kernel: 2,000 tracks x 10 scans of predict + update;
- ``all``: the three first calls in one process on one empty cache;
- ``cli`` (``--cli``): ``openbmd coverage --architecture third-site-2007 --missile IRBM
  --launch-area Tehran,Tabriz,Semnan --grid-deg 1 --json``, the whole command.

The baseline is the same benchmark against another revision, checked out into a temporary
``git worktree`` and put first on the child's ``PYTHONPATH``; before and after children are
interleaved so machine load hits both alike. Cold times are given as wall and CPU seconds (the
compile is single-threaded, so CPU seconds are the less load-sensitive figure).

``--readonly-src DIR`` instead checks numba's fallback for a source tree it cannot write
(e.g. a read-only bind mount of ``src``): without ``NUMBA_CACHE_DIR`` the cache must land in
the user cache directory (``XDG_CACHE_HOME``, here a temporary one) and the second run be warm.

Run:  python benchmarks/bench_compile.py [--baseline 60bedf9] [--repeats 3] [--cli] [--json]
      python benchmarks/bench_compile.py --from-json saved.json   (reprint the tables)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ("trajectory", "fan", "tracking", "all")
CLI_ARGS = (
    "coverage", "--architecture", "third-site-2007", "--missile", "IRBM",
    "--launch-area", "Tehran,Tabriz,Semnan", "--grid-deg", "1", "--json",
)  # fmt: skip


# --------------------------------------------------------------------------- child: workloads


def _fly(n: int, record: bool) -> Any:
    from openbmd import catalog, missiles, trajectory

    rng = np.random.default_rng(1)
    b = missiles.stack([catalog.missile("IRBM")] * n)
    g = trajectory.Guidance.of(n, rng.uniform(0, 2 * np.pi, n), np.radians(rng.uniform(20, 40, n)))
    lat, lon = np.radians(rng.uniform(30, 40, n)), np.radians(rng.uniform(45, 55, n))
    return trajectory.fly(b, lat, lon, g, record=record)


def _fan(n_az: int, n_pitch: int, n_query: int) -> Any:
    from openbmd.catalog.interceptors import interceptor
    from openbmd.interceptors.fan import build_flyout_fan

    small = {"n_range": 21, "n_alt": 11} if n_az < 4 else {}
    # build_flyout_fan: past the in-memory and on-disk caches, so every call builds the fan
    fan = build_flyout_fan(interceptor("GBI-2").model, 0.94, 0.31, n_az, n_pitch, **small)
    rng = np.random.default_rng(2)
    lat, lon = np.radians(rng.uniform(50, 60, n_query)), np.radians(rng.uniform(15, 30, n_query))
    from openbmd import earth

    fan.query(earth.geodetic2ecef(lat, lon, rng.uniform(50e3, 500e3, n_query)))
    return fan


def _track(n: int, scans: int) -> None:
    from openbmd import earth
    from openbmd.tracking import (
        BallisticModel,
        RadarModel,
        TrackBatch,
        gnn_associate,
        predict,
        state_ecef2eci,
        update,
    )

    rng = np.random.default_rng(3)
    radar = RadarModel.from_geodetic(0.8675, 0.2409, 600.0, 20.0, 5e-4, 5e-4)
    lat, lon = np.radians(rng.uniform(39, 45, n)), np.radians(rng.uniform(20, 30, n))
    r = earth.geodetic2ecef(lat, lon, rng.uniform(200e3, 400e3, n))
    v = np.einsum("ni,nij->nj", rng.normal(0, 3e3, (n, 3)), earth.enu_basis(lat, lon))
    p0 = np.diag([500.0**2] * 3 + [20.0**2] * 3)
    x0 = state_ecef2eci(np.concatenate([r, v], -1), 0.0)
    batch = TrackBatch(x=x0, P=np.tile(p0, (n, 1, 1)), t=0.0)
    model = BallisticModel(q=1e-3, max_step=5.0)
    for k in range(scans):
        batch = predict(batch, 5.0 * (k + 1), model)
        z = radar.h(batch.x, batch.t)
        if k == 0:
            gnn_associate(batch, radar, z)
            batch, _, _ = update(batch, radar, z[::2], track_idx=np.arange(0, n, 2))
        batch, _, _ = update(batch, radar, z)


def _cli() -> None:
    import contextlib
    import io

    from openbmd.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        if main(list(CLI_ARGS)) != 0:
            raise RuntimeError("openbmd coverage failed")


FIRST: dict[str, Callable[[], Any]] = {
    "trajectory": lambda: _fly(4, True),
    "fan": lambda: _fan(2, 4, 10),
    "tracking": lambda: _track(8, 2),
    "cli": _cli,
}
KERNEL: dict[str, Callable[[], Any]] = {
    "trajectory": lambda: _fly(4000, False),
    "fan": lambda: _fan(8, 28, 100_000),
    "tracking": lambda: _track(2000, 10),
}


@contextmanager
def _compile_log() -> Iterator[dict[str, float]]:
    """Seconds spent compiling each openbmd dispatcher (inclusive of what it compiles inside)."""
    from numba.core import event

    spent: dict[str, float] = defaultdict(float)
    starts: dict[tuple[int, str], float] = {}

    def key(ev: Any) -> tuple[int, str]:
        return id(ev.data["dispatcher"]), str(ev.data["args"])

    class Log(event.Listener):  # type: ignore[misc]
        def on_start(self, ev: Any) -> None:
            starts[key(ev)] = time.perf_counter()

        def on_end(self, ev: Any) -> None:
            fn = ev.data["dispatcher"].py_func
            if fn.__module__.startswith("openbmd"):
                spent[f"{fn.__module__}.{fn.__name__}"] += time.perf_counter() - starts[key(ev)]

    with event.install_listener("numba:compile", Log()):
        yield spent


def _signatures() -> dict[str, int]:
    """Compiled (or cache-loaded) specialisations of every openbmd numba dispatcher."""
    from numba.core.registry import CPUDispatcher

    out = {}
    for name, mod in list(sys.modules.items()):
        if name.startswith("openbmd"):
            for obj in vars(mod).values():
                if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == name:
                    out[f"{name}.{obj.py_func.__name__}"] = len(obj.signatures)
    return dict(sorted(out.items()))


def child(family: str, repeats: int) -> dict[str, Any]:
    """One measurement in this (fresh) process: import, first calls, optional kernel batch."""
    w0, c0 = time.perf_counter(), time.process_time()
    import openbmd
    import openbmd.interceptors
    import openbmd.tracking
    import openbmd.trajectory

    w1 = time.perf_counter()
    with _compile_log() as spent:
        for name in ("trajectory", "fan", "tracking") if family == "all" else (family,):
            FIRST[name]()
    w2, c2 = time.perf_counter(), time.process_time()
    kernel_s, kernel_cpu_s = [], []
    for _ in range(repeats if family in KERNEL else 0):
        a, b = time.perf_counter(), time.process_time()
        KERNEL[family]()
        kernel_s.append(time.perf_counter() - a)
        kernel_cpu_s.append(time.process_time() - b)
    return {
        "openbmd": str(Path(openbmd.__file__).parent),
        "import_s": w1 - w0,
        "first_s": w2 - w1,
        "total_s": w2 - w0,
        "total_cpu_s": c2 - c0,
        "compile_s": dict(spent),
        "signatures": _signatures(),
        "kernel_s": kernel_s,
        "kernel_cpu_s": kernel_cpu_s,
    }


# --------------------------------------------------------------------------- parent


def run_child(
    src: Path, family: str, env_extra: dict[str, str], repeats: int = 0
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(env_extra, PYTHONPATH=os.pathsep.join([str(src), env.get("PYTHONPATH", "")]))
    cmd = [sys.executable, __file__, "--child", family, "--repeats", str(repeats)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {family} under {src} failed:\n{done.stderr[-3000:]}")
    res: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(res["openbmd"]).resolve() != (src / "openbmd").resolve():
        raise RuntimeError(f"child imported {res['openbmd']}, not {src / 'openbmd'}")
    return res


@contextmanager
def baseline_tree(rev: str) -> Iterator[Path]:
    """A temporary detached worktree of ``rev``; yields its ``src``, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="openbmd-bench-compile-"))
    tree = tmp / "tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), rev], check=True
    )
    try:
        yield tree / "src"
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)])
        shutil.rmtree(tmp, ignore_errors=True)


def measure(
    trees: dict[str, Path], families: list[str], repeats: int, warm_runs: int
) -> dict[str, dict[str, Any]]:
    """cold and warm runs of every family on every tree, interleaved tree by tree."""
    out: dict[str, dict[str, Any]] = {name: {} for name in trees}
    for fam in families:
        caches = {name: tempfile.mkdtemp(prefix="openbmd-numba-") for name in trees}
        try:
            for name, src in trees.items():
                print(f"  {fam:10s} cold  {name} ...", file=sys.stderr, flush=True)
                out[name][fam] = {"cold": run_child(src, fam, {"NUMBA_CACHE_DIR": caches[name]})}
            for _ in range(warm_runs):
                for name, src in trees.items():
                    print(f"  {fam:10s} warm  {name} ...", file=sys.stderr, flush=True)
                    env = {"NUMBA_CACHE_DIR": caches[name]}
                    out[name][fam].setdefault("warm", []).append(run_child(src, fam, env, repeats))
        finally:
            for d in caches.values():
                shutil.rmtree(d, ignore_errors=True)
    return out


def summarise(res: dict[str, Any]) -> dict[str, Any]:
    """Cold, warm (median) and kernel (median) figures of one family on one tree."""
    warm = res["warm"]
    kern = [t for w in warm for t in w["kernel_s"]]
    kern_cpu = [t for w in warm for t in w["kernel_cpu_s"]]
    return {
        "cold_s": res["cold"]["total_s"],
        "cold_cpu_s": res["cold"]["total_cpu_s"],
        "warm_s": statistics.median(w["total_s"] for w in warm),
        "kernel_s": statistics.median(kern) if kern else None,
        "kernel_cpu_s": statistics.median(kern_cpu) if kern_cpu else None,
        "compile_s": res["cold"]["compile_s"],
        "signatures": res["cold"]["signatures"],
    }


def _fmt(x: float | None, unit: str = "s") -> str:
    return "—" if x is None else f"{x:.2f} {unit}" if x < 10 else f"{x:.1f} {unit}"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def report(summary: dict[str, dict[str, Any]], families: list[str]) -> None:
    names = list(summary)
    duo = len(names) == 2
    print("\nFirst run (import + first calls) — cold: empty numba cache; warm: cache loaded")
    head = ["family"] + [f"{c} {n}" for c in ("cold", "cold CPU", "warm") for n in names]
    head += [f"cold/warm {n}" for n in names] + (["cold after/before"] if duo else [])
    rows = []
    for fam in families:
        s = [summary[n][fam] for n in names]
        row = [fam] + [_fmt(x[k]) for k in ("cold_s", "cold_cpu_s", "warm_s") for x in s]
        row += [_ratio(x["cold_s"], x["warm_s"]) for x in s]
        row += [_ratio(s[1]["cold_s"], s[0]["cold_s"])] if duo else []
        rows.append(row)
    _table(head, rows)
    print("\nKernel speed (warm, fixed batch, median)")
    head = ["family"] + [f"{c} {n}" for c in ("wall", "CPU") for n in names]
    head += ["after/before wall", "after/before CPU"] if duo else []
    rows = []
    for fam in (f for f in families if f in KERNEL):
        s = [summary[n][fam] for n in names]
        row = [fam] + [_fmt(x[k]) for k in ("kernel_s", "kernel_cpu_s") for x in s]
        if duo:
            row += [_ratio(s[1][k], s[0][k]) for k in ("kernel_s", "kernel_cpu_s")]
        rows.append(row)
    _table(head, rows)
    fam = "all" if "all" in families else families[0]
    print(f"\nCompile seconds per dispatcher (cold '{fam}', inclusive) and specialisations")
    kernels = sorted({k for n in names for k in summary[n][fam]["signatures"]})
    rows = []
    for k in kernels:
        cs = [summary[n][fam]["compile_s"].get(k) for n in names]
        sg = [summary[n][fam]["signatures"].get(k) for n in names]
        if not any(sg):  # inlined helpers: compiled inside their callers only
            continue
        rows.append([k.removeprefix("openbmd.")] + [_fmt(c) for c in cs] + [str(g) for g in sg])
    _table(["dispatcher"] + [f"compile {n}" for n in names] + [f"sigs {n}" for n in names], rows)


def _table(head: list[str], rows: list[list[str]]) -> None:
    w = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, ["-" * x for x in w], *rows]:
        cells = (c.rjust(x) if i else c.ljust(x) for i, (c, x) in enumerate(zip(r, w, strict=True)))
        print("  " + "  ".join(cells))


def readonly_check(src: Path) -> dict[str, Any]:
    """Cold then warm run on a source tree numba cannot write: the cache must go to the user
    cache directory (a temporary ``XDG_CACHE_HOME``)."""
    home = Path(tempfile.mkdtemp(prefix="openbmd-xdg-"))
    try:
        env = {"XDG_CACHE_HOME": str(home)}
        cold = run_child(src, "trajectory", env)
        warm = run_child(src, "trajectory", env)
        files = sorted(str(p.relative_to(home)) for p in home.rglob("*.nb[ic]"))
        in_tree = sorted(str(p) for p in src.rglob("*.nb[ic]"))
        return {"cold_s": cold["total_s"], "warm_s": warm["total_s"], "user_cache_files": files,
                "in_tree_cache_files": in_tree}  # fmt: skip
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default="60bedf9", help="revision to compare against")
    ap.add_argument("--baseline-src", type=Path, help="an existing src/ to use as the baseline")
    ap.add_argument("--no-baseline", action="store_true", help="measure this tree only")
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated subset")
    ap.add_argument("--cli", action="store_true", help="also time the coverage command")
    ap.add_argument("--repeats", type=int, default=3, help="kernel batches per warm child")
    ap.add_argument("--warm-runs", type=int, default=2, help="warm children per family")
    ap.add_argument("--readonly-src", type=Path, help="check the fallback on a read-only src/")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--from-json", type=Path, help="print the tables of a saved --json output")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeats)))
        return 0
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        meta, summary = saved["meta"], saved["summary"]
        print(f"baseline {meta['baseline']}; load average "
              f"{meta['load_average'][0]:.2f} → {meta['load_average'][1]:.2f}")  # fmt: skip
        report(summary, list(next(iter(summary.values()))))
        return 0
    if args.readonly_src:
        res = readonly_check(args.readonly_src.resolve())
        print(json.dumps(res, indent=1) if args.json else
              f"read-only tree: cold {res['cold_s']:.1f} s, warm {res['warm_s']:.2f} s; "
              f"{len(res['user_cache_files'])} cache files in the user cache dir, "
              f"{len(res['in_tree_cache_files'])} in the tree")  # fmt: skip
        return 0
    families = [f for f in args.families.split(",") if f] + (["cli"] if args.cli else [])
    load0 = os.getloadavg()
    print(f"load average {load0[0]:.2f}", file=sys.stderr)
    with contextmanager_or_none(args) as base:
        trees = {"before": base} if base is not None else {}
        trees["after"] = REPO / "src"
        raw = measure(trees, families, args.repeats, args.warm_runs)
    load1 = os.getloadavg()
    summary = {n: {f: summarise(r) for f, r in fams.items()} for n, fams in raw.items()}
    meta = {"baseline": None if args.no_baseline else str(args.baseline_src or args.baseline),
            "load_average": [load0[0], load1[0]], "repeats": args.repeats,
            "warm_runs": args.warm_runs}  # fmt: skip
    if args.json:
        print(json.dumps({"meta": meta, "summary": summary, "raw": raw}, indent=1))
    else:
        print(f"baseline {meta['baseline']}; load average {load0[0]:.2f} → {load1[0]:.2f}")
        report(summary, families)
    return 0


@contextmanager
def contextmanager_or_none(args: argparse.Namespace) -> Iterator[Path | None]:
    if args.no_baseline:
        yield None
    elif args.baseline_src:
        yield args.baseline_src.resolve()
    else:
        with baseline_tree(args.baseline) as src:
            yield src


if __name__ == "__main__":
    sys.exit(main())
