"""A database written before the private log entries (schema 0006, version-2 leaves) still opens.

The database is built as the centre of schema 0006 wrote it: partners, signed agreements, and
two accepted messages whose version-2 leaves name their parties. Migration 0007 logs the keys
and agreements as entries of their own after them; the centre starts, new messages get
version-3 leaves, and every partner's verifier, the audit and the signed log reads handle the
mixed log. Key and agreement entries appended while the centre runs (the CLI, or a request
handler, through ``Store.add_partner`` / ``put_agreement``) are picked up by the writer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from tests.exchange.conftest import (
    KEYS,
    NAMES,
    TestClient,
    default_agreements,
    message,
    post,
    signed_get,
)

from openbmd.exchange import merkle, store
from openbmd.exchange import verify as xv
from openbmd.exchange.app import create_app
from openbmd.exchange.audit import audit
from openbmd.exchange.domain import Agreement, Rule
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import canonical_json, key_fingerprint, public_key_pem, sign

URL = "http://testserver"


def _schema_0006(db_url: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    engine = store.make_engine(db_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
    engine.dispose()


def _old_centre_writes(db_url: str) -> list[dict[str, Any]]:
    """Partners, signed agreements and two messages alpha → bravo with version-2 leaves."""
    engine = sa.create_engine(db_url)
    agreements = {a.name: a for a in default_agreements()}
    sent = [message("track_update"), message("free_text")]  # bravo: L3, then L2
    leaves = []
    with engine.begin() as conn:
        for n in NAMES:
            conn.execute(
                sa.text("INSERT INTO partners VALUES (:n, :p, :f, '2026-01-01T00:00:00Z', NULL)"),
                {"n": n, "p": public_key_pem(KEYS[n]), "f": key_fingerprint(KEYS[n])},
            )
        for a in agreements.values():
            doc = a.to_dict()
            conn.execute(
                sa.text("INSERT INTO agreements VALUES (:n, :s, :d, '2026-01-01', :g)"),
                {
                    "n": a.name,
                    "s": a.sender,
                    "d": json.dumps(doc, sort_keys=True),
                    "g": sign(KEYS[a.sender], canonical_json(doc)),
                },
            )
        from openbmd.exchange.policy import project, route

        for i, m in enumerate(sent):
            data = canonical_json(m)
            level = route(agreements[m["agreement"]], m)["bravo"]
            view = data if level == "L3" else canonical_json(project(m, level))
            salt = secrets.token_bytes(16)
            commit = hashlib.sha256(salt + view).digest()
            leaf = canonical_json(
                {
                    "v": 2,
                    "message_hash": hashlib.sha256(data).hexdigest(),
                    "sender": "alpha",
                    "type": m["type"],
                    "msg_type": m["msg_type"],
                    "sent_at": m["sent_at"],
                    "logged_at": m["sent_at"],
                    "projections": {"bravo": commit.hex()},
                    "agreement_sha256": agreements[m["agreement"]].digest().hex(),
                }
            )
            leaves.append(leaf)
            conn.execute(
                sa.text(
                    "INSERT INTO messages VALUES (:i, :mid, 'alpha', :seq, :nonce, :t, :h, :o, "
                    ":sig, :at)"
                ),
                {
                    "i": i,
                    "mid": m["message_id"],
                    "seq": m["seq"],
                    "nonce": m["nonce"],
                    "t": m["type"],
                    "h": hashlib.sha256(data).digest(),
                    "o": data,
                    "sig": sign(KEYS["alpha"], data),
                    "at": m["sent_at"],
                },
            )
            conn.execute(sa.text("INSERT INTO log_leaves VALUES (:i, :l)"), {"i": i, "l": leaf})
            conn.execute(
                sa.text("INSERT INTO projections VALUES ('bravo', :i, :lv, :h, :p, :s)"),
                {"i": i, "lv": level, "h": commit, "p": view, "s": salt},
            )
        hashes = [merkle.leaf_hash(x) for x in leaves]
        for lv, ix, h in merkle.append_leaves(0, hashes, merkle.MappingReader({})):
            conn.execute(
                sa.text("INSERT INTO log_nodes VALUES (:l, :i, :h)"), {"l": lv, "i": ix, "h": h}
            )
    engine.dispose()
    return sent


def _everyone_verifies(client: Any, states: Path) -> None:
    for partner in NAMES:
        report = xv.verify_log(
            URL,
            states / f"{partner}.json",
            partner=partner,
            partner_key=KEYS[partner],
            client=client,
        )
        assert report.ok, (partner, report.reason)


def test_a_database_of_schema_0006_opens_and_verifies(db_url: str, tmp_path: Path) -> None:
    _schema_0006(db_url)
    _old_centre_writes(db_url)
    client = TestClient(create_app(Settings(database_url=db_url)))
    with client:
        logged = 2 + len(NAMES) + len(default_agreements())  # 0007 logged keys and agreements
        assert client.get("/v1/log/checkpoint").text.splitlines()[1] == str(logged)
        assert post(client, message("track_update")).json()["index"] == logged
        _everyone_verifies(client, tmp_path)
        bravo = xv.verify_log(URL, partner="bravo", partner_key=KEYS["bravo"], client=client)
        assert bravo.items_checked == 3  # the two old items and the new one
        # charlie, no party of the old entries, gets their hashes, not their bytes
        page = signed_get(client, "charlie", "/v1/log/entries", start=0, end=2).json()
        assert [e.get("leaf_b64") for e in page["entries"]] == [None, None]
        assert all(base64.b64decode(e["leaf_hash_b64"]) for e in page["entries"])
        # keys and agreements registered while the centre runs become entries the writer sees
        s = store.Store(db_url)
        extra = Agreement("alpha-more", "alpha", (Rule("charlie", frozenset({"*"}), "L1"),))
        s.put_agreement(extra, sign(KEYS["alpha"], canonical_json(extra.to_dict())))
        s.close()
        assert post(client, message("free_text")).json()["index"] == logged + 2
        _everyone_verifies(client, tmp_path)
    found = audit(db_url)
    assert found.ok, found.problems
    assert found.messages_checked == 4
