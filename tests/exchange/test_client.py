"""Unit tests of the partner-side client (``openbmd.exchange.client``) against the in-process app.

Misbehaving logs are simulated by an ``httpx.Client`` whose transport forwards to the app and
rewrites chosen answers (a tampered entry, a forked or shrunk checkpoint signed with the
centre's real key, a broken signature, a swapped log key).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.exchange.conftest import BASE, KEYS, message, post, signed_get
from tests.exchange.live import free_port

from openbmd.cli.exchange_examples import example_payload
from openbmd.errors import InputError
from openbmd.exchange import client as xc
from openbmd.exchange import merkle, note
from openbmd.exchange import verify as xv
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import (
    canonical_json,
    private_key_from_seed,
    public_key_pem,
    verify,
    write_keypair,
)
from openbmd.exchange.store import Store

URL = "http://testserver"
ORIGIN = Settings().origin


def own_items(tc: Any, partner: str) -> list[dict[str, Any]]:
    resp = signed_get(tc, partner, "/v1/messages", after=-1, limit=1000)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response]


def proxy(tc: Any, rewrite: Rewrite) -> httpx.Client:
    """An httpx client that sends every request to the app *tc* and passes answers through
    *rewrite* (which may return them unchanged)."""

    def handler(request: httpx.Request) -> httpx.Response:
        real = tc.request(
            request.method, str(request.url), headers=request.headers, content=request.content
        )
        answer = httpx.Response(real.status_code, headers=real.headers, content=real.content)
        return rewrite(request, answer)

    return httpx.Client(transport=httpx.MockTransport(handler))


def fill(tc: Any, n: int) -> None:
    for _ in range(n):
        assert post(tc, message()).status_code == 201


def centre_key(db_url: str) -> Any:
    store = Store(db_url)
    try:
        return store.centre_key(Settings(database_url=db_url).key_path)
    finally:
        store.close()


def signed_checkpoint(db_url: str, size: int, root: bytes) -> str:
    """A checkpoint of (*size*, *root*) validly signed by the centre's own key."""
    body = note.format_checkpoint(ORIGIN, size, root)
    return note.assemble_note(body, [note.sign_note(body, ORIGIN, centre_key(db_url))])


def serve_checkpoint(text: str) -> Rewrite:
    def rewrite(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        if request.url.path == "/v1/log/checkpoint":
            return httpx.Response(200, text=text)
        return answer

    return rewrite


def true_root(tc: Any, size: int) -> bytes:
    records, _ = xc.fetch_entries(URL, 0, size, "charlie", KEYS["charlie"], client=tc)
    return merkle.root_from_leaves([r.leaf_hash for r in records])


def verify_c(*args: Any, **kwargs: Any) -> xv.VerifyReport:
    """``verify_log`` as charlie (a partner not party to alpha → bravo): the entries are a
    signed read."""
    return xv.verify_log(*args, partner="charlie", partner_key=KEYS["charlie"], **kwargs)


# ------------------------------------------------------------------ submit
def test_submit_fills_and_signs_the_envelope(make_client: Any, tmp_path: Path) -> None:
    tc = make_client()
    payload = example_payload("free_text", "alpha", "bravo")
    payload["signature"] = "stale, must be dropped"
    for key in ("message_id", "sent_at", "nonce", "seq"):
        assert key not in payload
    seq_file = tmp_path / "alpha.seq"
    before = datetime.now(UTC).timestamp()
    first = xc.submit_message(URL, "alpha", KEYS["alpha"], payload, seq_file=seq_file, client=tc)
    second = xc.submit_message(URL, "alpha", KEYS["alpha"], payload, seq_file=seq_file, client=tc)
    assert (first["index"], second["index"]) == (BASE, BASE + 1)
    items = own_items(tc, "alpha")
    assert [i["message_id"] for i in items] == [first["message_id"], second["message_id"]]
    msgs = [i["message"] for i in items]
    for m, item in zip(msgs, items, strict=True):
        assert "signature" not in m and m["sender"] == "alpha"
        assert str(uuid.UUID(m["message_id"])) == m["message_id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", m["sent_at"])
        sent = datetime.fromisoformat(m["sent_at"].replace("Z", "+00:00")).timestamp()
        assert before - 1 <= sent <= datetime.now(UTC).timestamp() + 1
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", m["nonce"])  # 16 bytes, base64url, no '='
        sig = base64.b64decode(item["signature"])
        assert verify(KEYS["alpha"].public_key(), canonical_json(m), sig)
    assert msgs[0]["nonce"] != msgs[1]["nonce"]
    assert msgs[0]["seq"] < msgs[1]["seq"] == int(seq_file.read_text())
    assert {
        k: v for k, v in msgs[0].items() if k not in ("message_id", "sent_at", "nonce", "seq")
    } == {k: v for k, v in payload.items() if k != "signature"}


def test_submit_keeps_given_fields_key_file_and_errors(make_client: Any, tmp_path: Path) -> None:
    tc = make_client()
    key_path, _ = write_keypair(tmp_path / "alpha", KEYS["alpha"])
    payload = example_payload("free_text", "alpha", "bravo")
    payload.update(message_id="fixed-id-1", nonce="n" * 20)
    got = xc.submit_message(URL, "alpha", key_path, payload, client=tc)
    assert got == {"index": BASE, "message_id": "fixed-id-1"}
    assert (tmp_path / "alpha.key.seq").exists()  # default seq file beside the key file
    assert own_items(tc, "alpha")[0]["message"]["nonce"] == "n" * 20
    # resending the identical message is idempotent (200, same index)
    sent = own_items(tc, "alpha")[0]["message"]
    assert xc.submit_message(URL, "alpha", key_path, sent, client=tc)["index"] == BASE
    with pytest.raises(InputError, match="sender"):
        xc.submit_message(URL, "bravo", KEYS["bravo"], payload, client=tc)
    with pytest.raises(xc.ExchangeHTTPError) as err:  # another key: the signature fails
        other = private_key_from_seed(b"\x09" * 32)
        xc.submit_message(URL, "alpha", other, example_payload("free_text"), client=tc)
    assert err.value.status == 401
    assert err.value.problem["type"].endswith("/bad-signature")
    nowhere = f"http://127.0.0.1:{free_port()}"  # a loopback port nothing listens on
    with pytest.raises(xc.ExchangeHTTPError, match=r"127\.0\.0\.1"):
        xc.submit_message(nowhere, "alpha", KEYS["alpha"], payload)


# ------------------------------------------------------------------ verify_log
def test_verify_log_honest_pins_the_key_and_follows_growth(
    make_client: Any, tmp_path: Path
) -> None:
    tc = make_client()
    state = tmp_path / "state.json"
    fill(tc, 5)
    first = verify_c(URL, state, client=tc)
    assert first.ok and first.key_source == "first-use" and first.tree_size == BASE + 5
    assert first.entries_checked == BASE + 5 and first.previous_size is None
    fill(tc, 6)
    again = verify_c(URL, state, client=tc)
    assert again.ok and again.key_source == "pinned" and again.previous_size == BASE + 5
    assert again.tree_size == BASE + 11 and again.entries_checked == 6  # incremental
    saved = json.loads(state.read_text())
    n = BASE + 11
    assert saved["tree_size"] == n and saved["checkpoint"].startswith(f"{ORIGIN}\n{n}\n")


def test_verify_log_detects_a_tampered_entry(make_client: Any, db_url: str) -> None:
    tc = make_client()
    fill(tc, 7)

    def tamper(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        if request.url.path != "/v1/log/entries":
            return answer
        doc = answer.json()
        for e in doc["entries"]:
            if e["index"] == BASE + 3:
                leaf = base64.b64decode(e["leaf_b64"]).replace(b'"v":3', b'"v":7')
                e["leaf_b64"] = base64.b64encode(leaf).decode()
                e["leaf_hash_b64"] = base64.b64encode(merkle.leaf_hash(leaf)).decode()
        return httpx.Response(200, json=doc)

    with proxy(tc, tamper) as http:
        report = verify_c(URL, client=http)
    assert not report.ok and "root recomputed" in (report.reason or "")

    def drop(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        if request.url.path != "/v1/log/entries":
            return answer
        doc = answer.json()
        doc["entries"] = [e for e in doc["entries"] if e["index"] != BASE + 2]
        return httpx.Response(200, json=doc)

    with proxy(tc, drop) as http:
        report = verify_c(URL, client=http)
    assert not report.ok and "out of order" in (report.reason or "")


def test_verify_log_detects_a_forked_root(make_client: Any, db_url: str, tmp_path: Path) -> None:
    tc = make_client()
    state = tmp_path / "state.json"
    fill(tc, 6)
    assert verify_c(URL, state, client=tc).ok
    saved = state.read_text()
    # same size, another root, validly signed by the centre: a fork
    forged = signed_checkpoint(db_url, BASE + 6, b"\x42" * 32)
    with proxy(tc, serve_checkpoint(forged)) as http:
        report = verify_c(URL, state, client=http)
    assert not report.ok and "fork" in (report.reason or "")
    assert state.read_text() == saved  # nothing saved on failure
    # a larger tree whose root does not extend the saved one
    fill(tc, 3)
    forged = signed_checkpoint(db_url, BASE + 9, b"\x43" * 32)
    with proxy(tc, serve_checkpoint(forged)) as http:
        report = verify_c(URL, state, client=http)
    assert not report.ok and "not consistent" in (report.reason or "")
    # a shrunk tree, even with its true root
    forged = signed_checkpoint(db_url, BASE + 4, true_root(tc, BASE + 4))
    with proxy(tc, serve_checkpoint(forged)) as http:
        report = verify_c(URL, state, client=http)
    assert not report.ok and "shrank" in (report.reason or "")
    assert state.read_text() == saved
    assert verify_c(URL, state, client=tc).ok  # the honest log still verifies


def test_verify_log_detects_bad_signatures_and_a_swapped_key(
    make_client: Any, tmp_path: Path
) -> None:
    tc = make_client()
    fill(tc, 3)

    def flip_sig(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        if request.url.path != "/v1/log/checkpoint":
            return answer
        body, _, sigs = answer.text.partition("\n\n")
        name_blob = sigs.split("\n")[0].rsplit(" ", 1)
        blob = bytearray(base64.b64decode(name_blob[1]))
        blob[10] ^= 1
        line = name_blob[0] + " " + base64.b64encode(bytes(blob)).decode()
        return httpx.Response(200, text=f"{body}\n\n{line}\n")

    with proxy(tc, flip_sig) as http:
        report = verify_c(URL, client=http)
    assert not report.ok and (report.reason or "").startswith("checkpoint:")

    # the checkpoint signed by an impostor key that the server also serves at /v1/log/key
    state = tmp_path / "state.json"
    assert verify_c(URL, state, client=tc).ok  # pins the real key
    impostor = private_key_from_seed(b"\x66" * 32)
    root = true_root(tc, BASE + 3)
    body = note.format_checkpoint(ORIGIN, BASE + 3, root)
    text = note.assemble_note(body, [note.sign_note(body, ORIGIN, impostor)])

    def swap(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        if request.url.path == "/v1/log/key":
            return httpx.Response(200, text=public_key_pem(impostor))
        if request.url.path == "/v1/log/checkpoint":
            return httpx.Response(200, text=text)
        return answer

    with proxy(tc, swap) as http:
        pinned = verify_c(URL, state, client=http)
        given = verify_c(URL, None, KEYS["alpha"].public_key(), client=http)
    assert not pinned.ok and "different key" in (pinned.reason or "")
    assert not given.ok and (given.reason or "").startswith("checkpoint:")


# ------------------------------------------------------------------ witness
def test_witness_cosigns_and_refuses_a_shrinking_tree(
    make_client: Any, db_url: str, tmp_path: Path
) -> None:
    tc = make_client()
    key_path, _ = write_keypair(tmp_path / "bravo", KEYS["bravo"])
    state = tmp_path / "witness.json"
    fill(tc, 5)
    line = xv.run_witness(URL, key_path, "bravo", state, client=tc)
    assert line.startswith("\u2014 bravo ")
    assert tc.get("/v1/log/checkpoint").text.endswith(line)
    report = verify_c(URL, witness_keys={"bravo": KEYS["bravo"].public_key()}, client=tc)
    assert report.ok and report.cosigners == ["bravo"]
    fill(tc, 2)
    assert xv.run_witness(URL, key_path, "bravo", state, client=tc)  # grew: cosigns again
    saved = state.read_text()
    assert json.loads(saved)["tree_size"] == BASE + 7

    posted: list[str] = []

    def spy(rewrite: Rewrite) -> Rewrite:
        def inner(request: httpx.Request, answer: httpx.Response) -> httpx.Response:
            if request.url.path == "/v1/log/cosignatures":
                posted.append(request.content.decode())
            return rewrite(request, answer)

        return inner

    shrunk = signed_checkpoint(db_url, BASE + 5, true_root(tc, BASE + 5))
    with proxy(tc, spy(serve_checkpoint(shrunk))) as http:
        with pytest.raises(xc.LogVerificationError, match="shrank"):
            xv.run_witness(URL, key_path, "bravo", state, client=http)
    forked = signed_checkpoint(db_url, BASE + 7, b"\x01" * 32)
    with proxy(tc, spy(serve_checkpoint(forked))) as http:
        with pytest.raises(xc.LogVerificationError, match="fork"):
            xv.run_witness(URL, key_path, "bravo", state, client=http)
    assert not posted and state.read_text() == saved  # nothing cosigned, nothing recorded
