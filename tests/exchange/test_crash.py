"""Crash durability: a real server SIGKILLed repeatedly under concurrent load, then restarted.

Three partners submit concurrently (one thread each, sequence numbers in order, a message that
got no answer is resent unchanged until it is answered); another thread keeps fetching signed
checkpoints. The server is SIGKILLed at random moments and restarted on the same database.
Afterwards:

* every acknowledged message (201, or 200 for a resend) is in the log at the index it was
  acknowledged with — its leaf carries the hash of exactly that message, and the sender's own
  view lists it at that index;
* no index holds two messages and no message has two indices; every leaf after the set-up's
  key and agreement entries is a message that was really sent (nothing invented) — read from
  the senders' own openings of the private (version-3) entries;
* the final log is consistent with every checkpoint handed out during the run (the root of its
  first *size* entries is the checkpoint's root, the served consistency proof verifies), and
  checkpoints never went backwards across restarts;
* ``verify.verify_log`` passes after every restart, against the state it saved before the crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.exchange.conftest import KEYS, NAMES, body, now_iso, setup_db
from tests.exchange.live import LiveServer

from openbmd.cli.exchange_examples import example_payload
from openbmd.exchange import client as xclient
from openbmd.exchange import merkle, note
from openbmd.exchange import verify as xverify
from openbmd.exchange.auth import sign_request
from openbmd.exchange.domain import Agreement, Rule
from openbmd.exchange.signing import canonical_json, load_public_key

KILLS = 5
RUN_BETWEEN_KILLS_S = (0.3, 1.2)
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=2.0)


def agreements() -> list[Agreement]:
    """Every partner shares everything (L3) with the two others."""
    return [
        Agreement(
            f"{s}-to-all",
            s,
            tuple(Rule(r, frozenset({"*"}), "L3") for r in NAMES if r != s),
        )
        for s in NAMES
    ]


@dataclass
class Record:
    """What the load generator saw."""

    sent: dict[str, str] = field(default_factory=dict)  # message hash hex -> message_id
    acks: dict[str, set[int]] = field(default_factory=dict)  # message_id -> indices answered
    ack_hash: dict[str, str] = field(default_factory=dict)  # message_id -> message hash hex
    checkpoints: list[tuple[int, bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def new_message(sender: str, seq: int) -> dict[str, Any]:
    others = [n for n in NAMES if n != sender]
    msg_type = "track_update" if seq % 3 == 0 else "free_text"
    m = example_payload(msg_type, sender, others[0], f"{sender}-to-all")
    m.update(
        recipients=others,
        message_id=str(uuid.uuid4()),
        sent_at=now_iso(),
        nonce=uuid.uuid4().hex,
        seq=seq,
    )
    if msg_type == "free_text":
        m["text"] = f"{sender} #{seq}"
    return m


def submitter(url: str, sender: str, stop: threading.Event, rec: Record) -> None:
    """Submit in order until *stop*; resend a message unchanged until the server answers it."""
    seq = 0
    with httpx.Client(timeout=HTTP_TIMEOUT) as http:
        while not stop.is_set():
            seq += 1
            msg = new_message(sender, seq)
            digest = hashlib.sha256(canonical_json(msg)).hexdigest()
            with rec.lock:
                rec.sent[digest] = msg["message_id"]
            payload = body(msg)
            while not stop.is_set():
                try:
                    resp = http.post(
                        f"{url}/v1/messages",
                        json=payload,
                        headers={"X-OpenBMD-Partner": sender},
                    )
                except httpx.HTTPError:  # killed mid-request, or down: resend the same message
                    time.sleep(0.02)
                    continue
                if resp.status_code == 503:
                    time.sleep(0.02)
                    continue
                if resp.status_code in (200, 201):
                    doc = resp.json()
                    with rec.lock:
                        rec.acks.setdefault(doc["message_id"], set()).add(int(doc["index"]))
                        rec.ack_hash[doc["message_id"]] = digest
                    if doc["message_id"] != msg["message_id"]:
                        rec.errors.append(f"ack for another message_id: {doc}")
                    break
                rec.errors.append(f"{sender} seq {seq}: HTTP {resp.status_code} {resp.text[:300]}")
                return


def checkpoint_watcher(url: str, key: Any, stop: threading.Event, rec: Record) -> None:
    """Fetch and verify signed checkpoints until *stop*; record (size, root) of each."""
    with httpx.Client(timeout=HTTP_TIMEOUT) as http:
        while not stop.is_set():
            try:
                resp = http.get(f"{url}/v1/log/checkpoint")
            except httpx.HTTPError:
                time.sleep(0.02)
                continue
            if resp.status_code == 503:  # a front whose writer process was just killed
                time.sleep(0.02)
                continue
            text = resp.text
            try:
                _, cp, _ = note.open_checkpoint(text, key)
            except note.NoteError as exc:
                rec.errors.append(f"checkpoint does not verify: {exc}: {text!r}")
                return
            with rec.lock:
                rec.checkpoints.append((cp.size, cp.root_hash))
            time.sleep(0.005)


def own_view(url: str, partner: str) -> dict[int, str]:
    """index -> message_id of every message in *partner*'s view (signed reads, all pages)."""
    out: dict[int, str] = {}
    after = -1
    with httpx.Client(timeout=HTTP_TIMEOUT) as http:
        for _ in range(10_000):
            params = {"after": after, "limit": 1000}
            headers = sign_request(KEYS[partner], partner, "GET", "/v1/messages", params)
            resp = http.get(f"{url}/v1/messages", params=params, headers=headers)
            resp.raise_for_status()
            page = resp.json()
            if not page["items"]:
                return out
            for item in page["items"]:
                assert item["index"] not in out, f"index {item['index']} listed twice"
                out[item["index"]] = item["message_id"]
            after = page["next_after"]
    raise AssertionError("view paging did not end")


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_under_load_loses_no_acknowledged_message(
    db_url: str, tmp_path: Path, workers: int
) -> None:
    """With ``--workers 2`` every other kill is of one front process (the writer process
    restarts it; the server is not restarted), the others of the writer process (whose
    fronts die with it)."""
    setup_db(db_url, agreements())
    seed = int(os.environ.get("OPENBMD_CRASH_SEED", random.randrange(2**32)))
    rnd = random.Random(seed)
    rec = Record()
    state = tmp_path / "verify-state.json"
    server = LiveServer(db_url, tmp_path / "serve.log", serve_args=("--workers", str(workers)))
    restarts = 0
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        server.start()
        url = server.url
        key = load_public_key(httpx.get(f"{url}/v1/log/key").text)
        threads = [
            threading.Thread(target=submitter, args=(url, s, stop, rec), daemon=True) for s in NAMES
        ]
        threads.append(
            threading.Thread(target=checkpoint_watcher, args=(url, key, stop, rec), daemon=True)
        )
        for t in threads:
            t.start()
        for k in range(KILLS):
            time.sleep(rnd.uniform(*RUN_BETWEEN_KILLS_S))
            report = xverify.verify_log(url, state, key, partner="alpha", partner_key=KEYS["alpha"])
            assert report.ok, f"seed {seed}: {report.reason}"
            if workers > 1 and k % 2 == 0:
                fronts = server.fronts()
                assert len(fronts) == workers, f"fronts {fronts}"
                os.kill(rnd.choice(fronts), signal.SIGKILL)
                continue
            restarts += 1
            server.kill()
            time.sleep(rnd.uniform(0.0, 0.2))
            server.start()
            assert load_public_key(httpx.get(f"{url}/v1/log/key").text).public_bytes_raw() == (
                key.public_bytes_raw()
            ), "the log key changed across a restart"
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=20)
            assert not t.is_alive(), "a load thread did not stop"
        assert not rec.errors, f"seed {seed}: {rec.errors[:5]}"
        check_final_log(url, key, rec, state, seed)
    finally:
        stop.set()
        server.stop()
    assert server.starts == restarts + 1


def check_final_log(url: str, key: Any, rec: Record, state: Path, seed: int) -> None:
    where = f"seed {seed}"
    text = httpx.get(f"{url}/v1/log/checkpoint").text
    _, final, _ = note.open_checkpoint(text, key)
    n = final.size
    base = len(NAMES) + len(agreements())  # the set-up's key and agreement entries
    leaf_msg: dict[int, str] = {}
    hashes: list[bytes] = []
    with httpx.Client(timeout=HTTP_TIMEOUT) as http:
        for partner in NAMES:
            records, _ = xclient.fetch_entries(url, 0, n, partner, KEYS[partner], client=http)
            seen = [r.leaf_hash for r in records]
            assert hashes in ([], seen), f"{where}: partners are shown different leaves"
            hashes = seen
            for r in records:
                for _, _, data in r.openings:
                    doc = json.loads(data)
                    if doc["kind"] == "message":
                        assert doc["sender"] == partner, where
                        assert (
                            leaf_msg.setdefault(r.index, doc["message_hash"]) == doc["message_hash"]
                        )
    assert merkle.root_from_leaves(hashes) == final.root_hash, where

    # every leaf after the set-up is a message somebody really sent, and none is logged twice
    assert set(leaf_msg) == set(range(base, n)), f"{where}: an entry is not a message"
    assert len(set(leaf_msg.values())) == n - base, f"{where}: a message is logged twice"
    assert set(leaf_msg.values()) <= set(rec.sent), f"{where}: a message nobody sent is logged"

    # every acknowledgement: one index, below the size, whose leaf is that exact message
    assert rec.acks, f"{where}: nothing was acknowledged"
    index_of: dict[str, int] = {}
    for mid, indices in rec.acks.items():
        assert len(indices) == 1, f"{where}: {mid} acknowledged at {sorted(indices)}"
        (index_of[mid],) = indices
    assert len(set(index_of.values())) == len(index_of), f"{where}: an index acked twice"
    for mid, i in index_of.items():
        assert i < n, f"{where}: acknowledged index {i} lost (log size {n})"
        assert leaf_msg[i] == rec.ack_hash[mid], f"{where}: index {i} holds another message"

    # the senders' own views agree, and no index has two messages across views
    by_index: dict[int, str] = {}
    for partner in NAMES:
        for i, mid in own_view(url, partner).items():
            assert by_index.setdefault(i, mid) == mid, f"{where}: index {i} has two messages"
    assert set(by_index) == set(range(base, n)), f"{where}: views do not cover the log"
    for mid, i in index_of.items():
        assert by_index[i] == mid, where

    # consistent with every checkpoint handed out, which never went backwards
    assert len(rec.checkpoints) > KILLS, where
    sizes = [s for s, _ in rec.checkpoints]
    assert sizes == sorted(sizes), f"{where}: a checkpoint went backwards"
    seen: dict[int, bytes] = {}
    for size, root in rec.checkpoints:
        assert seen.setdefault(size, root) == root, f"{where}: two roots for size {size}"
    with httpx.Client(timeout=HTTP_TIMEOUT) as http:
        for size, root in seen.items():
            assert size <= n, where
            assert merkle.root_from_leaves(hashes[:size]) == root, f"{where}: size {size}"
            proof = xclient.fetch_consistency_proof(url, size, n, client=http)
            assert merkle.verify_consistency(size, n, root, final.root_hash, proof), where
    report = xverify.verify_log(url, state, key, partner="alpha", partner_key=KEYS["alpha"])
    assert report.ok and report.tree_size == n, f"{where}: {report.reason}"
