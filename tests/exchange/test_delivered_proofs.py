"""Issue 12.5: edits to delivered content are detected.

The operator (root on the database) edits a recipient's view, a stored message, deletes rows or
Merkle nodes — keeping every row self-consistent (recomputed hashes), but unable to change the
log entries partners verified. Each delivered item carries the log entry at its index, so the
partner's ``verify --partner`` notices an edited or withheld item, and ``openbmd exchange
audit`` re-checks the whole database offline and names each bad row. A lost Merkle node is a
named error, not a centre that will not start.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.exchange.conftest import BASE, KEYS, message, post, problem_slug, signed_get

from openbmd.cli import main
from openbmd.exchange import merkle
from openbmd.exchange import verify as xv
from openbmd.exchange.audit import audit
from openbmd.exchange.received import item_problem
from openbmd.exchange.signing import canonical_json

URL = "http://testserver"


def _fill(client: Any) -> None:
    """Seven entries: alpha → bravo (free text, L2), alpha → charlie (L0), bravo → alpha."""
    for i in range(7):
        if i % 3 == 2:
            m = message("free_text", sender="bravo", recipient="alpha")
        else:
            m = message("free_text", recipient="bravo" if i % 3 == 0 else "charlie")
        assert post(client, m).status_code == 201, "setup"


def _sql(db_url: str, statement: str, **params: Any) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def _edit_view(db_url: str) -> None:
    """Forge bravo's view of the first message and make the row self-consistent."""
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        row = conn.execute(
            sa.text(f"SELECT projection, salt FROM projections WHERE log_index = {BASE}")
        ).one()
        doc = json.loads(row.projection)
        doc["text"] = "Exercise cancelled; ignore the notification."
        data = canonical_json(doc)
        conn.execute(
            sa.text(
                "UPDATE projections SET projection = :p, projection_hash = :h "
                f"WHERE log_index = {BASE}"
            ),
            {"p": data, "h": hashlib.sha256(bytes(row.salt) + data).digest()},
        )
    engine.dispose()


def _edit_message(db_url: str) -> None:
    """Rewrite alpha's first stored message (body hash recomputed)."""
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        q = sa.text(f"SELECT original FROM messages WHERE log_index = {BASE}")
        original = conn.execute(q).one()
        doc = json.loads(original[0])
        doc["text"] = "forged"
        data = canonical_json(doc)
        conn.execute(
            sa.text(f"UPDATE messages SET original = :o, body_hash = :h WHERE log_index = {BASE}"),
            {"o": data, "h": hashlib.sha256(data).digest()},
        )
    engine.dispose()


TAMPER: dict[str, tuple[Callable[[str], None], str, str]] = {
    # name: (tamper, whose view shows it, what verify names)
    "edited view": (_edit_view, "bravo", f"item {BASE}: the content differs"),
    "edited message": (_edit_message, "alpha", f"item {BASE}: our own message differs"),
    "deleted view": (
        lambda u: _sql(u, f"DELETE FROM projections WHERE log_index = {BASE}"),
        "bravo",
        f"entry {BASE} is addressed to 'bravo' but missing",
    ),
    "deleted message": (
        lambda u: _sql(u, f"DELETE FROM messages WHERE log_index = {BASE + 2}"),
        "alpha",
        f"entry {BASE + 2} is addressed to 'alpha' but missing",
    ),
}


def test_view_items_carry_their_log_entry(make_client: Any) -> None:
    client = make_client()
    _fill(client)
    cp = client.get("/v1/log/checkpoint").text.splitlines()
    size, root = int(cp[1]), base64.b64decode(cp[2])
    tag_keys = {
        p: base64.b64decode(
            signed_get(client, p, "/v1/log/entries", start=0, end=1).json()["tag_key_b64"]
        )
        for p in ("alpha", "bravo", "charlie")
    }
    for partner in ("alpha", "bravo", "charlie"):
        items = signed_get(client, partner, "/v1/messages").json()["items"]
        assert items
        for item in items:
            assert item_problem(item, partner, tag_keys[partner]) is None, item
            leaf = base64.b64decode(item["leaf_b64"])
            proof = client.get(
                "/v1/log/proof/inclusion", params={"index": item["index"], "tree_size": size}
            ).json()["hashes_b64"]
            hashes = [base64.b64decode(h) for h in proof]
            assert merkle.verify_inclusion(
                merkle.leaf_hash(leaf), item["index"], size, hashes, root
            )
            other = "charlie" if partner != "charlie" else "bravo"
            assert item_problem(item, other, tag_keys[other]) is not None


@pytest.mark.parametrize("attack", sorted(TAMPER))
def test_verify_detects_what_the_operator_changed(
    make_client: Any, db_url: str, attack: str
) -> None:
    client = make_client()
    _fill(client)
    tamper, partner, named = TAMPER[attack]
    honest = xv.verify_log(URL, partner=partner, partner_key=KEYS[partner], client=client)
    assert honest.ok and honest.items_checked >= 3, honest.reason
    tamper(db_url)
    report = xv.verify_log(URL, partner=partner, partner_key=KEYS[partner], client=client)
    assert not report.ok and named in str(report.reason), report.reason
    other = xv.verify_log(URL, partner="charlie", partner_key=KEYS["charlie"], client=client)
    assert other.ok, other.reason  # the log itself is intact: only views changed
    found = audit(db_url)
    assert not found.ok and any(p.startswith(("messages", "projections")) for p in found.problems)


def test_verify_checks_saved_items_by_inclusion_proof(
    make_client: Any, db_url: str, tmp_path: Path
) -> None:
    client = make_client()
    _fill(client)
    state = tmp_path / "bravo.json"
    saved = xv.read_inbox(URL, "bravo", KEYS["bravo"], client=client)
    assert saved and all(i["entry_ok"] for i in saved)
    first = xv.verify_log(URL, state, partner="bravo", partner_key=KEYS["bravo"], client=client)
    assert first.ok and first.entries_checked == BASE + 7
    for _ in range(2):
        assert post(client, message("free_text")).status_code == 201
    again = xv.verify_log(
        URL, state, partner="bravo", partner_key=KEYS["bravo"], received_items=saved, client=client
    )
    assert again.ok, again.reason
    assert again.entries_checked == 2  # incremental: only the new entries were read
    assert again.items_checked == len(saved) + 2  # the saved ones by inclusion proof
    forged = json.loads(json.dumps(saved))
    forged[0]["message"]["text"] = "forged"
    bad = xv.verify_log(
        URL, partner="bravo", partner_key=KEYS["bravo"], received_items=forged, client=client
    )
    assert not bad.ok and f"item {BASE}: the content differs" in str(bad.reason)
    _edit_view(db_url)  # served from now on: the inbox itself flags it
    assert not xv.read_inbox(URL, "bravo", KEYS["bravo"], client=client)[0]["entry_ok"]


def _node(db_url: str, level: int, index: int) -> bytes | None:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT hash FROM log_nodes WHERE level = :l AND idx = :i"),
            {"l": level, "i": index},
        ).first()
    engine.dispose()
    return None if row is None else bytes(row[0])


def test_audit_names_every_bad_row(make_client: Any, db_url: str, capsys: Any) -> None:
    client = make_client()
    _fill(client)
    client.__exit__(None, None, None)
    clean = audit(db_url)
    assert clean.ok, clean.problems
    n = BASE + 7
    assert clean.nodes_checked == sum(n >> lv for lv in range(n.bit_length()))
    assert clean.messages_checked == 7
    assert main(["exchange", "audit", "--database-url", db_url]) == 0
    _edit_view(db_url)
    _edit_message(db_url)
    _sql(db_url, f"DELETE FROM projections WHERE log_index = {BASE + 3}")
    _sql(db_url, f"DELETE FROM messages WHERE log_index = {BASE + 5}")
    _sql(db_url, "UPDATE log_nodes SET hash = :h WHERE level = 1 AND idx = 0", h=b"\x00" * 32)
    _sql(db_url, "DELETE FROM log_nodes WHERE level = 0 AND idx = 4")
    capsys.readouterr()
    assert main(["exchange", "audit", "--database-url", db_url]) == 1
    out = capsys.readouterr().out
    for named in (
        f"projections: index {BASE} recipient 'bravo': the stored view differs",
        f"messages: index {BASE}: the stored message differs",
        f"projections: index {BASE + 3} recipient 'bravo': the row is missing",
        f"messages: index {BASE + 5}: the row is missing",
        "log_nodes: node (level 1, index 0) differs",
        "log_nodes: node (level 0, index 4) is missing",
        f"messages: index {BASE}: the sender's signature does not verify",
        "audit FAILED (7 problems)",
    ):
        assert named in out, out


def test_a_lost_or_corrupted_node_is_named_not_fatal(
    make_client: Any, db_url: str, tmp_path: Path
) -> None:
    client = make_client()
    for _ in range(3):
        assert post(client, message("free_text")).status_code == 201
    state = tmp_path / "v.json"
    assert xv.verify_log(URL, state, client=client).ok
    for _ in range(4):
        assert post(client, message("free_text")).status_code == 201
    # a corrupted interior node, the largest perfect subtree of the saved tree (it is in the
    # consistency proof): the served proof no longer verifies
    top = (BASE + 3).bit_length() - 1
    good = _node(db_url, top, 0)
    edit = "UPDATE log_nodes SET hash = :h WHERE level = :l AND idx = 0"
    _sql(db_url, edit, h=b"\x01" * 32, l=top)
    report = xv.verify_log(URL, state, client=client)
    assert not report.ok and "not consistent" in str(report.reason)
    _sql(db_url, edit, h=good, l=top)
    client.__exit__(None, None, None)
    # lost nodes: ``edge`` is on the right edge of the tree (not in the consistency proof
    # from the saved size), (0, 0) is in the inclusion proof asked below
    edge = merkle.compact_range_keys(BASE + 7)[1]
    _sql(db_url, f"DELETE FROM log_nodes WHERE level = {edge[0]} AND idx = {edge[1]}")
    _sql(db_url, "DELETE FROM log_nodes WHERE level = 0 AND idx = 0")
    client = make_client()  # starts: the right edge is recomputed from the entries
    assert post(client, message("free_text")).status_code == 201
    r = client.get("/v1/log/proof/inclusion", params={"index": 1, "tree_size": BASE + 8})
    assert r.status_code == 503 and problem_slug(r) == "log-damaged"
    assert "(0, 0)" in r.json()["detail"] and "openbmd exchange audit" in r.json()["detail"]
    assert xv.verify_log(URL, state, client=client).ok  # the tree partners see is unchanged
    found = audit(db_url)
    assert "log_nodes: node (level 0, index 0) is missing" in found.problems
    assert f"log_nodes: node (level {edge[0]}, index {edge[1]}) is missing" in found.problems
