"""The public log endpoints, witnesses, problem documents and the OpenAPI snapshot."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from tests.exchange.conftest import BASE, KEYS, message, post, problem_slug, signed_get

from openbmd.exchange import merkle, note
from openbmd.exchange import verify as partner_verify
from openbmd.exchange.signing import load_public_key

SNAPSHOT = Path(__file__).with_name("openapi.json")
REGEN_ENV = "OPENBMD_REGEN_OPENAPI"


def _fill(client: Any, n: int) -> None:
    for _ in range(n):
        assert post(client, message("free_text")).status_code == 201


def test_checkpoint_entries_and_proofs_verify(client: Any) -> None:
    key = load_public_key(client.get("/v1/log/key").text)
    empty = client.get("/v1/log/checkpoint")
    assert empty.headers["content-type"].startswith("text/plain")
    body0 = note.open_note(empty.text, "openbmd.org/exchange/log", key)
    assert note.parse_checkpoint(body0).size == BASE  # the key and agreement entries
    _fill(client, 7)
    n = BASE + 7
    body = note.open_note(client.get("/v1/log/checkpoint").text, "openbmd.org/exchange/log", key)
    cp = note.parse_checkpoint(body)
    assert cp.size == n
    entries = signed_get(client, "charlie", "/v1/log/entries", start=0, end=100).json()["entries"]
    hashes = [base64.b64decode(e["leaf_hash_b64"]) for e in entries]
    assert merkle.root_from_leaves(hashes) == cp.root_hash
    for i in range(n):
        p = client.get("/v1/log/proof/inclusion", params={"index": i, "tree_size": n}).json()
        proof = [base64.b64decode(h) for h in p["hashes_b64"]]
        assert merkle.verify_inclusion(hashes[i], i, n, proof, cp.root_hash)
    for m in range(1, n + 1):
        p = client.get("/v1/log/proof/consistency", params={"first": m, "second": n}).json()
        proof = [base64.b64decode(h) for h in p["hashes_b64"]]
        old = merkle.root_from_leaves(hashes[:m])
        assert merkle.verify_consistency(m, n, old, cp.root_hash, proof)
    for params in ({"index": n, "tree_size": n}, {"index": 0, "tree_size": n + 1}):
        r = client.get("/v1/log/proof/inclusion", params=params)
        assert r.status_code == 422 and problem_slug(r) == "invalid-field"


def test_verify_and_witness_with_partner_client(client: Any, tmp_path: Path) -> None:
    _fill(client, 3)
    url = str(client.base_url)
    report = partner_verify.verify_log(url, tmp_path / "v.json", client=client)
    assert report.ok, report.reason
    key_file = tmp_path / "bravo.key"
    from openbmd.exchange.signing import write_keypair

    write_keypair(tmp_path / "bravo", KEYS["bravo"])
    line = partner_verify.run_witness(url, key_file, "bravo", tmp_path / "w.json", client=client)
    text = client.get("/v1/log/checkpoint").text
    assert text.endswith(line)
    _fill(client, 2)
    assert partner_verify.verify_log(url, tmp_path / "v.json", client=client).ok
    assert "— bravo" not in client.get("/v1/log/checkpoint").text  # new size: not cosigned yet


def test_bad_cosignatures(client: Any) -> None:
    _fill(client, 1)
    text = client.get("/v1/log/checkpoint").text
    body, _ = note.parse_note(text)
    line = note.cosign_checkpoint(body, "bravo", KEYS["alpha"], 1_700_000_000)
    r = client.post("/v1/log/cosignatures", content=note.assemble_note(body, [line]))
    assert r.status_code == 422 and problem_slug(r) == "bad-cosignature"
    forged = body.replace(f"\n{BASE + 1}\n", f"\n{BASE}\n")
    line = note.cosign_checkpoint(forged, "bravo", KEYS["bravo"], 1_700_000_000)
    r = client.post("/v1/log/cosignatures", content=note.assemble_note(forged, [line]))
    assert r.status_code == 422 and problem_slug(r) == "bad-cosignature"
    line = note.cosign_checkpoint(body, "zulu", KEYS["bravo"], 1_700_000_000)
    r = client.post("/v1/log/cosignatures", content=note.assemble_note(body, [line]))
    assert r.status_code == 401 and problem_slug(r) == "unknown-partner"
    r = client.post("/v1/log/cosignatures", content=b"garbage")
    assert r.status_code == 422 and problem_slug(r) == "invalid-field"


def test_problem_documents(client: Any) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and problem_slug(r) == "not-found"
    r = client.delete("/v1/log/checkpoint")
    assert r.status_code == 405 and problem_slug(r) == "method-not-allowed"
    r = client.post("/v1/messages", content=b"{not json", headers={"X-OpenBMD-Partner": "a"})
    assert r.status_code == 422 and problem_slug(r) == "invalid-field"
    r = signed_get(client, "alpha", "/v1/log/entries", start=5, end=2)
    assert r.status_code == 422 and "end" in r.json()["detail"]
    partners = client.get("/v1/partners").json()
    assert [p["name"] for p in partners] == ["alpha", "bravo", "charlie"]


def test_openapi_snapshot(client: Any) -> None:
    doc = client.get("/openapi.json").json()
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if os.environ.get(REGEN_ENV):
        SNAPSHOT.write_text(text, "utf-8")
    assert json.loads(SNAPSHOT.read_text("utf-8")) == doc, (
        f"OpenAPI changed; regenerate with {REGEN_ENV}=1 pytest {__file__}"
    )
