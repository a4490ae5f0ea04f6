"""The load side of ``bench_exchange.py``: partners, pre-signed messages, the server under test,
and the closed-loop loader and feed-subscriber processes (spawned, so importable here).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ANCHORS = {"Tessera": 2900.0, "Sectigo CT": 3000.0, "Trillian": 60.0}
TYPES = (
    "free_text",
    "track_update",
    "pre_launch_notification",
    "post_launch_notification",
    "launch_event",
    "space_event",
    "ack",
)
PG_ENV = "OPENBMD_TEST_POSTGRES_URL"


def partner_name(i: int) -> str:
    return f"p{i:03d}"


def partner_key(i: int) -> Any:
    from openbmd.exchange.signing import private_key_from_seed

    return private_key_from_seed(i.to_bytes(4, "big") * 8)


# ------------------------------------------------------------------------------ databases
@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path) -> Any:
    """A URL of an empty database (a new SQLite file, or a new PostgreSQL database)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    import sqlalchemy as sa

    base = os.environ[PG_ENV]
    name = f"openbmd_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def setup_partners(url: str, n: int) -> None:
    """Register p000..p(n-1) and agreements p_i → p_(i+1 mod n)."""
    from openbmd.cli.exchange_examples import example_agreement
    from openbmd.exchange.domain import Agreement
    from openbmd.exchange.signing import public_key_pem
    from openbmd.exchange.store import Store

    store = Store(url)
    store.migrate()
    for i in range(n):
        store.add_partner(partner_name(i), public_key_pem(partner_key(i)))
    for i in range(n):
        a, b = partner_name(i), partner_name((i + 1) % n)
        store.put_agreement(Agreement.from_dict(example_agreement(a, b)["agreements"][0]))
    store.close()


# ------------------------------------------------------------------------------ server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as resp:
        return bytes(resp.read())


@contextlib.contextmanager
def server(url: str, log_path: Path, extra: list[str], src: Path | None = None) -> Any:
    """``openbmd exchange serve`` on a free loopback port; yields ``(port, pid)``.

    *src*: run the package from this source tree (``PYTHONPATH``) instead — the previous
    architecture, from ``git archive`` of ``--baseline-ref``."""
    port = free_port()
    exe = shutil.which("openbmd")
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
        exe = None
    cmd = [exe] if exe else [sys.executable, "-c", "from openbmd.cli import main; main()"]
    cmd += ["exchange", "serve", "--database-url", url, "--host", "127.0.0.1", "--port", str(port)]
    cmd += extra
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60.0
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log_path}")
            try:
                http_get(port, "/v1/log/checkpoint", timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start in 60 s; see {log_path}") from None
                time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tree_size(port: int) -> int:
    return int(http_get(port, "/v1/log/checkpoint").decode().split("\n")[1])


# ------------------------------------------------------------------------------ load generator
def presign(senders: list[int], n_partners: int, per_sender: int) -> dict[int, list[Any]]:
    """Per sender, *per_sender* signed messages: (message_id, POST body bytes)."""
    from openbmd.cli.exchange_examples import example_payload
    from openbmd.exchange.signing import canonical_json, sign

    try:
        from openbmd.exchange.statements import sign_projections
    except ImportError:  # a tree from before the projection statements
        sign_projections = None

    out: dict[int, list[Any]] = {}
    sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    seq0 = time.time_ns() // 1000  # above every earlier run's sequence numbers
    templates = {
        (i, t): example_payload(t, partner_name(i), partner_name((i + 1) % n_partners))
        for i in senders
        for t in TYPES
    }
    for i in senders:
        key = partner_key(i)
        msgs = []
        for k in range(per_sender):
            m = dict(templates[(i, TYPES[(i + k) % len(TYPES)])])
            m.update(
                message_id=str(uuid.uuid4()),
                sent_at=sent_at,
                nonce=secrets.token_urlsafe(16),
                seq=seq0 + k,
            )
            sig = base64.b64encode(sign(key, canonical_json(m))).decode()
            body = {"message": m, "signature": sig}
            if sign_projections is not None:  # as `submit` sends it (issue 12.6), where known
                body["projection"] = sign_projections(key, m)
            msgs.append((m["message_id"], body))
        out[i] = msgs
    return out


def _request(port: int, path: str, partner: str, payload: Any) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nX-OpenBMD-Partner: {partner}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def _sender(
    port: int,
    i: int,
    msgs: list[Any],
    batch: int,
    start: float,
    stop: float,
    acks: dict[str, float],
    lat: list[tuple[float, float]],
    errors: dict[str, int],
    interval: float = 0.0,
) -> None:
    """One connection, one request in flight, until *stop* or the messages run out; with
    *interval* > 0 a request is sent at most every *interval* seconds (paced load)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    partner = partner_name(i)
    if batch:
        path = "/v1/messages:batch"
        reqs = [
            (
                [mid for mid, _ in msgs[j : j + batch]],
                _request(port, path, partner, {"items": [b for _, b in msgs[j : j + batch]]}),
            )
            for j in range(0, len(msgs), batch)
        ]
    else:
        reqs = [([mid], _request(port, "/v1/messages", partner, b)) for mid, b in msgs]
    # paced senders start spread over one interval, so the load is smooth
    due = start + (i * 0.618034 % 1.0) * interval
    await asyncio.sleep(max(0.0, due - time.monotonic()))
    try:
        for mids, req in reqs:
            if interval:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                due += interval
            t0 = time.monotonic()
            if t0 >= stop:
                break
            writer.write(req)
            status, data = await _read_response(reader)
            t1 = time.monotonic()
            if batch and status == 200:
                results = json.loads(data)["results"]
                for mid, r in zip(mids, results, strict=True):
                    if r.get("status") == 201:
                        acks[mid] = t1
                        lat.append((t1, t1 - t0))
                    else:
                        key = str(r.get("status"))
                        errors[key] = errors.get(key, 0) + 1
            elif status == 201:
                acks[mids[0]] = t1
                lat.append((t1, t1 - t0))
            else:
                errors[str(status)] = errors.get(str(status), 0) + len(mids)
                if errors[str(status)] <= 3:
                    print(f"  [{partner}] HTTP {status}: {data[:300]!r}", file=sys.stderr)
        else:
            errors["exhausted"] = errors.get("exhausted", 0) + 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def loader_main(
    port: int,
    senders: list[int],
    n_partners: int,
    per_sender: int,
    batch: int,
    ready: Any,
    go: Any,
    times: Any,
    out: Any,
    interval: float = 0.0,
) -> None:
    """A load-generator process: pre-sign, report ready, wait for the start time, run."""
    msgs = presign(senders, n_partners, per_sender)
    ready.put(len(senders))
    go.wait()
    start, stop = times[0], times[1]
    acks: dict[str, float] = {}
    lat: list[tuple[float, float]] = []
    errors: dict[str, int] = {}

    async def run() -> None:
        await asyncio.gather(
            *(
                _sender(port, i, msgs[i], batch, start, stop, acks, lat, errors, interval)
                for i in senders
            )
        )

    asyncio.run(run())
    out.put((acks, lat, errors))


def subscriber_main(
    port: int, subscribers: list[int], after: int, ready: Any, times: Any, go: Any, out: Any
) -> None:
    """50 WebSocket subscribers in one process; records (message_id, receive time)."""
    from websockets.asyncio.client import connect

    from openbmd.exchange.auth import signed_query

    received: list[tuple[str, float]] = []

    async def one(i: int, connected: asyncio.Event, count: list[int]) -> None:
        q = signed_query(partner_key(i), partner_name(i), "/v1/feed", {"after": after})
        query = "&".join(f"{k}={urllib.parse.quote(str(v), safe='')}" for k, v in q.items())
        async with connect(f"ws://127.0.0.1:{port}/v1/feed?{query}", max_queue=None) as ws:
            count[0] += 1
            if count[0] == len(subscribers):
                connected.set()
            while True:
                remaining = times[1] + 3.0 - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    frame = await asyncio.wait_for(ws.recv(), remaining)
                except TimeoutError:
                    break
                t = time.monotonic()
                j = frame.find('"message_id":"')
                mid = frame[j + 14 : frame.index('"', j + 14)]
                received.append((mid, t))

    async def run() -> None:
        connected = asyncio.Event()
        count = [0]
        tasks = [asyncio.create_task(one(i, connected, count)) for i in subscribers]
        await asyncio.wait_for(connected.wait(), 30.0)
        ready.put(-len(subscribers))
        await asyncio.gather(*tasks, return_exceptions=True)

    go.wait()  # wait for the loaders' pre-signing to be done before connecting
    asyncio.run(run())
    out.put(received)


# ------------------------------------------------------------------------------ one run
