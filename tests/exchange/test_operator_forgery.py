"""Issue 12.6: the operator can neither forge nor widen — keys, agreements and projected items.

* keys are log entries: the operator swaps alpha's key in the database and forges a launch
  event "from alpha"; bravo's verifier — even one that never ran before — takes alpha's key
  from the log and fails;
* agreements are log entries signed by the granting partner: raising bravo from L1 to L3 by
  editing the table is caught by alpha's verifier (and named by the audit);
* projected items carry the sender's signature over its projections: a projection altered in
  the database, altered by the centre *before* logging (so the log commits to the forgery),
  or stripped of that signature, is caught by the recipient's verifier.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tests.exchange.conftest import BASE, KEYS, message, post, signed_get

from openbmd.exchange import verify as xv
from openbmd.exchange import writer as xwriter
from openbmd.exchange.audit import audit
from openbmd.exchange.signing import canonical_json, key_fingerprint, private_key_from_seed
from openbmd.exchange.signing import public_key_pem as pem_of

URL = "http://testserver"
EVIL = private_key_from_seed(b"\x5a" * 32)


def _verify(client: Any, partner: str, state: Path | None = None) -> xv.VerifyReport:
    return xv.verify_log(URL, state, partner=partner, partner_key=KEYS[partner], client=client)


def _sql(db_url: str, statement: str, **params: Any) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def test_a_swapped_key_cannot_forge_a_launch_event(
    make_client: Any, db_url: str, tmp_path: Path
) -> None:
    client = make_client()
    assert post(client, message("launch_event")).status_code == 201
    assert _verify(client, "bravo").ok
    _sql(
        db_url,
        "UPDATE partners SET public_key_pem = :p, fingerprint = :f WHERE name = 'alpha'",
        p=pem_of(EVIL),
        f=key_fingerprint(EVIL.public_key()),
    )
    client.app.state.centre._keys.clear()  # the running centre now serves and checks EVIL
    forged = message("launch_event", confidence="confirmed")
    assert post(client, forged, key=EVIL).status_code == 201  # the centre accepts it
    items = signed_get(client, "bravo", "/v1/messages").json()["items"]
    assert items[-1]["message"]["confidence"] == "confirmed"  # and bravo is shown it
    for state in (None, tmp_path / "bravo.json"):  # a verifier with nothing pinned, too
        report = _verify(client, "bravo", state)
        assert not report.ok and "is not its last key in the log" in str(report.reason)
    assert any("the key of 'alpha' is not its last logged key" in p for p in audit(db_url).problems)


def test_raising_a_recipient_from_l1_to_l3_is_caught_by_the_sender(
    make_client: Any, db_url: str
) -> None:
    client = make_client()
    assert post(client, message("launch_event")).status_code == 201
    assert _verify(client, "alpha").ok
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        row = conn.execute(
            sa.text("SELECT document FROM agreements WHERE name = 'alpha-to-bravo'")
        ).one()
        doc = json.loads(row.document)
        (rule,) = [r for r in doc["rules"] if r["types"] == ["launch_event"]]
        assert rule["level"] == "L1"
        rule["level"] = "L3"
        conn.execute(
            sa.text("UPDATE agreements SET document = :d, updated_at = 'z' WHERE name = :n"),
            {"d": json.dumps(doc, sort_keys=True), "n": "alpha-to-bravo"},
        )
    engine.dispose()
    assert post(client, message("launch_event")).status_code == 201
    levels = [i["level"] for i in signed_get(client, "bravo", "/v1/messages").json()["items"]]
    assert levels == ["L1", "L3"]  # the widening took effect: bravo got exact coordinates
    report = _verify(client, "alpha")
    assert not report.ok
    assert "agreement 'alpha-to-bravo' is not signed by 'alpha'" in str(report.reason)
    assert f"entry {BASE + 1} was routed under an agreement 'alpha' did not sign" in str(
        report.reason
    )
    problems = audit(db_url).problems
    assert any("'alpha-to-bravo' is not its last logged version" in p for p in problems)


def test_an_altered_projection_is_caught_by_its_recipient(make_client: Any, db_url: str) -> None:
    client = make_client()
    assert post(client, message("launch_event")).status_code == 201  # bravo: L1
    honest = _verify(client, "bravo")
    assert honest.ok and honest.items_checked == 1, honest.reason
    item = signed_get(client, "bravo", "/v1/messages").json()["items"][0]
    assert item["level"] == "L1" and item["sender_statement"]
    # the operator rewrites bravo's view in the database (keeping the row self-consistent)
    doc = dict(item["message"], event_kind="test")
    _sql(
        db_url,
        "UPDATE projections SET projection = :p WHERE log_index = :i",
        p=canonical_json(doc),
        i=item["index"],
    )
    report = _verify(client, "bravo")
    assert not report.ok and "the content differs" in str(report.reason)


def test_a_projection_forged_before_logging_is_caught(
    make_client: Any, db_url: str, monkeypatch: Any
) -> None:
    client = make_client()

    honest = xwriter._view_bytes

    def lying(s: Any, level: str) -> bytes:  # the centre alters what it projects
        view = json.loads(honest(s, level))
        return canonical_json(view | ({"event_kind": "test"} if level != "L3" else {}))

    monkeypatch.setattr(xwriter, "_view_bytes", lying)
    assert post(client, message("launch_event")).status_code == 201
    item = signed_get(client, "bravo", "/v1/messages").json()["items"][0]
    assert item["message"]["event_kind"] == "test"
    report = _verify(client, "bravo")  # the log commits to the forgery; the sender did not
    assert not report.ok
    assert "the content differs from the projection its sender signed" in str(report.reason)
    # nor may the centre drop the sender's signature to hide it
    monkeypatch.undo()
    assert post(client, message("launch_event")).status_code == 201
    _sql(db_url, f"UPDATE messages SET statement = NULL WHERE log_index = {BASE + 1}")
    stripped = xv.verify_log(
        URL, partner="bravo", partner_key=KEYS["bravo"], client=client, received_items=None
    )
    assert not stripped.ok
    assert "carries no signature of its sender" in str(stripped.reason)


def test_the_centre_refuses_a_projection_statement_its_sender_did_not_sign(client: Any) -> None:
    from tests.exchange.conftest import body, problem_slug

    msg = message("launch_event")
    doc = body(msg)
    doc["projection"]["salts_b64"]["L1"] = "A" * 21 + "A=="  # not the salt that was signed
    r = client.post("/v1/messages", json=doc, headers={"X-OpenBMD-Partner": "alpha"})
    assert r.status_code == 401 and problem_slug(r) == "bad-signature", r.text
    assert "projection" in r.json()["detail"]
    assert post(client, msg).status_code == 201  # the same message, its own statement: logged
