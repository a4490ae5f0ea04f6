"""Joint Data Exchange Centre: sustained signed, durably logged messages per second.

What is measured. The real server (``openbmd exchange serve``, a subprocess on 127.0.0.1 and a
free port) on a fresh database — a SQLite file (WAL, ``synchronous=FULL``: every acknowledged
message is fsync'ed) or a fresh PostgreSQL database (default ``synchronous_commit=on``). N
partners are registered, each with an agreement to its neighbour (L2 by default, L3 for track
updates, L1/L0 with the 500 km threshold for launch events), so every accepted message carries a
projection and a log leaf. Load generators in separate processes (``multiprocessing``) keep one
request in flight per sender connection (closed loop, HTTP/1.1 keep-alive, raw sockets) for a
bounded duration; the seven message types are sent in turn.

The messages are **pre-signed** before the clock starts (Ed25519 over RFC 8785 JSON, envelope
filled, ``sent_at`` within the skew window): on this 2-core machine the load generator shares the
CPU with the server, and signing on the fly would measure the client. The server does all of its
work per message: parse and validate, canonicalise, verify the signature, check nonce, sequence,
idempotency and agreement, project, build the leaf, extend the Merkle tree, commit (fsync), and
only then answer with the log index.

Reported per backend and mode: acknowledged (201) messages per second over the measurement
window (after a warm-up), p50/p99 acknowledgement latency (send → 201 read by the client), and
with 50 WebSocket subscribers (``WS /v1/feed``, signed query) p99 feed latency = time the
subscriber received the message − time its sender received the 201 (same monotonic clock; it can
be slightly negative). Modes: ``single`` (``POST /v1/messages``, one message per request) and,
with ``--batch K``, ``batch`` (``POST /v1/messages:batch``, K individually signed messages per
request, one answer per message). Medians of ``--runs`` runs (fresh database and server each).

Configurations (``--configs``), measured side by side in every run (interleaved, fresh
database each): ``baseline`` — the previous architecture, the server run from ``src/`` of
``git archive --baseline-ref`` (one process, in-process writer, one view query per feed
subscriber, single messages verified inline); ``workers=N`` — ``serve --workers N`` of this
tree (N = 1: one process with the shared feed hub and the coalesced verifier pool; N ≥ 2: a
writer process and N front processes); ``workers=N/v=K`` adds ``--verify-workers K``. With
``--feed-rate R`` the phases with subscribers are paced at R messages/s in total (the feed
latency goal is stated at 500 msg/s), else closed loop. "msg per CPU-s" divides the rate by the
CPU the server processes got: on a shared machine it moves less with other jobs' load.

Anchors (writes/s): Tessera ≈ 2,900 on local disk, Sectigo's CT logs ≈ 3,000 on PostgreSQL,
Trillian ≈ 60 reported. Target ≥ 3,000 messages/s on SQLite.

Run:  eval "$(scripts/postgres-up)"   # optional, for the PostgreSQL rows
      python benchmarks/bench_exchange.py [--duration 20 --runs 3 --backend both --batch 20
          --feed-rate 500 --baseline-ref COMMIT --configs baseline,workers=1,workers=2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange_load import (
    ANCHORS,
    PG_ENV,
    fresh_database,
    loader_main,
    server,
    setup_partners,
    subscriber_main,
    tree_size,
)


@dataclass
class Result:
    config: str
    backend: str
    mode: str
    subscribers: int
    rate: float
    p50_ms: float
    p99_ms: float
    feed_p99_ms: float | None
    errors: dict[str, int] = field(default_factory=dict)
    load: float = 0.0
    server_cpu: float = 0.0  # CPU seconds per second of the server processes
    client_cpu: float = 0.0  # same, load generators
    writer_cpu: float = 0.0  # same, the server's own process (the writer process of workers=N)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of *pids* and their threads (Linux ``/proc``; 0 elsewhere)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(pid: int) -> list[int]:
    """*pid* and its descendants (uvicorn workers, a writer process)."""
    out = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids = (task / "children").read_text().split()
            for k in kids:
                out.extend(server_pids(int(k)))
    return sorted(set(out))


def run_load(
    server_pid: int,
    port: int,
    args: argparse.Namespace,
    n_subscribers: int,
    backend: str,
    mode: str,
    config: str,
) -> Result:
    ctx = mp.get_context("spawn")
    senders = list(range(args.senders))
    groups = [senders[k :: args.procs] for k in range(args.procs)]
    batch = args.batch if mode == "batch" else 0
    rate = args.max_rate_batch if batch else args.max_rate
    paced = bool(n_subscribers and args.feed_rate)
    interval = max(1, batch) * len(senders) / args.feed_rate if paced else 0.0
    if paced:
        rate = int(args.feed_rate * 1.2)
    expect = rate * (args.warmup + args.duration)
    per_sender = int(1.2 * expect / len(senders)) + 2
    if batch:
        per_sender = (per_sender // batch + 2) * batch
    ready, out, sub_out = ctx.Queue(), ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    sub_go = ctx.Event()
    times = ctx.Array("d", 2)
    procs = [
        ctx.Process(
            target=loader_main,
            args=(port, g, args.partners, per_sender, batch, ready, go, times, out, interval),
        )
        for g in groups
    ]
    sub_proc = None
    if n_subscribers:
        after = tree_size(port) - 1
        subs = list(range(min(n_subscribers, args.partners)))
        sub_proc = ctx.Process(
            target=subscriber_main, args=(port, subs, after, ready, times, sub_go, sub_out)
        )
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=600)
    if sub_proc is not None:
        times[1] = time.monotonic() + 3600.0  # provisional; reset below
        sub_proc.start()
        sub_go.set()
        ready.get(timeout=120)
    t0 = time.monotonic() + 1.0
    times[0], times[1] = t0, t0 + args.warmup + args.duration
    go.set()
    load_before = os.getloadavg()[0]
    time.sleep(max(0.0, t0 + args.warmup - time.monotonic()))
    pids = server_pids(server_pid)
    cpu0, loaders0 = cpu_seconds(pids), cpu_seconds([p.pid for p in procs if p.pid])
    own0 = cpu_seconds([server_pid])
    time.sleep(max(0.0, t0 + args.warmup + args.duration - time.monotonic()))
    cpu1, loaders1 = cpu_seconds(pids), cpu_seconds([p.pid for p in procs if p.pid])
    own1 = cpu_seconds([server_pid])
    results = [out.get(timeout=args.warmup + args.duration + 600) for _ in procs]
    received: list[tuple[str, float]] = []
    if sub_proc is not None:
        received = sub_out.get(timeout=120)
    for p in [*procs, *([sub_proc] if sub_proc else [])]:
        p.join(timeout=30)
    lo, hi = t0 + args.warmup, t0 + args.warmup + args.duration
    acks: dict[str, float] = {}
    lats: list[float] = []
    errors: dict[str, int] = {}
    for a, lat, err in results:
        acks.update(a)
        lats.extend(d for t, d in lat if lo <= t < hi)
        for k, v in err.items():
            errors[k] = errors.get(k, 0) + v
    n = sum(1 for t in acks.values() if lo <= t < hi)
    feed = [t - acks[m] for m, t in received if m in acks and lo <= acks[m] < hi]
    return Result(
        config,
        backend,
        mode,
        n_subscribers,
        n / args.duration,
        pct(lats, 0.5) * 1e3,
        pct(lats, 0.99) * 1e3,
        pct(feed, 0.99) * 1e3 if n_subscribers else None,
        errors,
        max(load_before, os.getloadavg()[0]),
        (cpu1 - cpu0) / args.duration,
        (loaders1 - loaders0) / args.duration,
        (own1 - own0) / args.duration,
    )


def median_result(rs: list[Result]) -> Result:
    r0 = rs[0]
    feeds = [r.feed_p99_ms for r in rs if r.feed_p99_ms is not None]
    errors: dict[str, int] = {}
    for r in rs:
        for k, v in r.errors.items():
            errors[k] = errors.get(k, 0) + v
    return Result(
        r0.config,
        r0.backend,
        r0.mode,
        r0.subscribers,
        statistics.median(r.rate for r in rs),
        statistics.median(r.p50_ms for r in rs),
        statistics.median(r.p99_ms for r in rs),
        statistics.median(feeds) if feeds else None,
        errors,
        statistics.median(r.load for r in rs),
        statistics.median(r.server_cpu for r in rs),
        statistics.median(r.client_cpu for r in rs),
        statistics.median(r.writer_cpu for r in rs),
    )


@contextlib.contextmanager
def baseline_tree(ref: str | None, work: Path) -> Any:
    """``src/`` of ``git archive REF`` of this repository in *work* (None without a ref)."""
    if not ref:
        yield None
        return
    root = Path(__file__).resolve().parent.parent
    dest = work / "baseline"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    yield dest / "src"


def parse_configs(text: str, ref: str | None) -> list[tuple[str, list[str]]]:
    """``baseline,workers=1,workers=2/v=1`` → ``[(name, serve options)]``."""
    out: list[tuple[str, list[str]]] = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        if item == "baseline":
            if ref:
                out.append(("baseline", []))
        elif item.startswith("workers="):  # workers=N or workers=N/v=K (--verify-workers K)
            workers, _, verify = item.split("=", 1)[1].partition("/v=")
            opts = ["--workers", workers] + (["--verify-workers", verify] if verify else [])
            out.append((item, opts))
        else:
            raise SystemExit(f"--configs: {item!r} is not 'baseline' or 'workers=N[/v=K]'")
    return out


def print_table(medians: list[Result], args: argparse.Namespace) -> None:
    """Markdown table: one row per (backend, endpoint, subscribers, config), ratios to the
    first configuration of the same row group (the baseline when there is one)."""
    ref: dict[tuple[str, str, int], Result] = {}
    head = (
        "| backend | endpoint | subscribers | config | ack msg/s | ÷ first | ack p50 ms | "
        "ack p99 ms | feed p99 ms | ÷ first | server CPU | msg per CPU-s | load avg |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in sorted(medians, key=lambda r: (r.backend, r.subscribers, r.mode)):
        first = ref.setdefault((r.backend, r.mode, r.subscribers), r)
        feed = f"{r.feed_p99_ms:.1f}" if r.feed_p99_ms is not None else "–"
        feed_ratio = (
            f"{r.feed_p99_ms / first.feed_p99_ms:.2f}"
            if r.feed_p99_ms is not None and first.feed_p99_ms
            else "–"
        )
        endpoint = "POST /v1/messages" if r.mode == "single" else f"…:batch ({args.batch}/req)"
        if r.subscribers and args.feed_rate:
            endpoint += f" paced {args.feed_rate:g}/s"
        print(
            f"| {r.backend} | {endpoint} | {r.subscribers} | {r.config} | {r.rate:,.0f} | "
            f"{r.rate / first.rate:.2f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {feed} | "
            f"{feed_ratio} | {r.server_cpu:.2f} | {r.rate / max(r.server_cpu, 1e-9):,.0f} | "
            f"{r.load:.2f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds per phase")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--runs", type=int, default=3, help="fresh database + server per run")
    ap.add_argument("--partners", type=int, default=64)
    ap.add_argument("--senders", type=int, default=64, help="concurrent connections")
    ap.add_argument("--procs", type=int, default=2, help="load-generator processes")
    ap.add_argument("--subscribers", type=int, default=50)
    ap.add_argument("--batch", type=int, default=0, help="also run POST /v1/messages:batch")
    ap.add_argument("--skip-single", action="store_true", help="only the batch endpoint")
    ap.add_argument("--max-rate", type=int, default=1500, help="pre-signed messages/s, single")
    ap.add_argument("--max-rate-batch", type=int, default=4000, help="same, batch endpoint")
    ap.add_argument(
        "--feed-rate",
        type=float,
        default=0.0,
        help="pace the phases with subscribers at this many messages/s in total (0: closed loop)",
    )
    ap.add_argument(
        "--configs",
        default="baseline,workers=1,workers=2",
        help="server configurations measured side by side in each run: 'baseline' (the "
        "previous architecture, from --baseline-ref) and 'workers=N' (serve --workers N)",
    )
    ap.add_argument(
        "--baseline-ref",
        default=None,
        help="git commit whose src/ is the 'baseline' server (e.g. the commit before the "
        "multi-process serving path); without it 'baseline' is skipped",
    )
    ap.add_argument("--server-arg", action="append", default=[], help="extra serve option")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()
    if args.senders > args.partners:
        ap.error("--senders must not exceed --partners (one connection per sender)")
    configs = parse_configs(args.configs, args.baseline_ref)

    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and not os.environ.get(PG_ENV):
        print(f"{PG_ENV} is not set: skipping PostgreSQL", file=sys.stderr)
        backends.remove("postgres")
    modes = [*([] if args.skip_single else ["single"]), *(["batch"] if args.batch else [])]
    phases = [(m, 0) for m in modes] + [(m, args.subscribers) for m in modes if args.subscribers]

    medians: list[Result] = []
    with (
        tempfile.TemporaryDirectory(prefix="openbmd-bench-") as tmp,
        baseline_tree(args.baseline_ref, Path(tmp)) as base_src,
    ):
        work = Path(tmp)
        for backend in backends:
            per: dict[tuple[str, str, int], list[Result]] = {}
            for run in range(args.runs):
                for name, opts in configs:  # interleaved: each run sees the same machine load
                    src = base_src if name == "baseline" else None
                    with fresh_database(backend, work) as url:
                        setup_partners(url, args.partners)
                        extra = [*opts, *args.server_arg]
                        with server(url, work / "server.log", extra, src) as (port, pid):
                            for mode, subs in phases:
                                r = run_load(pid, port, args, subs, backend, mode, name)
                                per.setdefault((name, mode, subs), []).append(r)
                                feed = f", feed p99 {r.feed_p99_ms:.1f} ms" if subs else ""
                                print(
                                    f"{backend} run {run + 1} {name} {mode} subs={subs}: "
                                    f"{r.rate:,.0f} msg/s, ack p50 {r.p50_ms:.1f} ms "
                                    f"p99 {r.p99_ms:.1f} ms{feed}, load {r.load:.2f}, CPU "
                                    f"server {r.server_cpu:.2f} (own process "
                                    f"{r.writer_cpu:.2f}) client {r.client_cpu:.2f}, "
                                    f"errors {r.errors or 0}",
                                    flush=True,
                                )
            medians.extend(median_result(rs) for rs in per.values())
        if (work / "server.log").exists():
            tail = (work / "server.log").read_text(errors="replace").splitlines()
            bad = [ln for ln in tail if "Traceback" in ln or "ERROR" in ln]
            if bad:
                print("server log had errors:", *bad[:5], sep="\n  ", file=sys.stderr)

    print()
    print(
        f"Exchange centre, {os.cpu_count()} CPUs, server + load generator on loopback, "
        f"{args.senders} connections, {args.duration:g} s measured after {args.warmup:g} s "
        f"warm-up, median of {args.runs} runs; messages pre-signed; configurations "
        f"interleaved within each run; ratios to the first configuration listed."
    )
    print()
    print_table(medians, args)
    print()
    print("Anchors (writes/s): " + ", ".join(f"{k} ≈ {v:,.0f}" for k, v in ANCHORS.items()))
    print("Command: python benchmarks/bench_exchange.py " + " ".join(sys.argv[1:]))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in medians], indent=2))


if __name__ == "__main__":
    main()
