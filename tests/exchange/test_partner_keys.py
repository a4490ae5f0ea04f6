"""Issue 12.6 (keys): an operator who swaps a partner's key cannot forge its messages.

The attack of the issue: the operator replaces alpha's public key in the database with one it
holds, signs a full-detail (L3) message "from alpha" and the centre delivers it to bravo; the
inbox checked the signature against the key the centre serves, so it passed. Now every key
registration and rotation is a log entry, and bravo's ``verify --partner`` takes each partner's
keys from the log (a registration, then rotations signed by the previous key) and checks the
served key is the last logged one; the swap is caught, even by a verifier with nothing pinned.
A genuine rotation (``partner sign-rotation`` by alpha, ``partner rotate`` by the operator)
passes.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.exchange.conftest import KEYS, message, post

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from openbmd.cli import main
from openbmd.errors import InputError
from openbmd.exchange import verify as xv
from openbmd.exchange.app import create_app
from openbmd.exchange.rotation import sign_rotation
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import (
    key_fingerprint,
    private_key_from_seed,
    public_key_pem,
    write_keypair,
)
from openbmd.exchange.store import Store

URL = "http://testserver"
EVIL = private_key_from_seed(b"\x66" * 32)


def _restart(client: TestClient, db_url: str) -> TestClient:
    client.__exit__(None, None, None)
    fresh = TestClient(create_app(Settings(database_url=db_url)))
    fresh.__enter__()
    return fresh


def _bravo(state: Path, client: Any) -> xv.VerifyReport:
    return xv.verify_log(URL, state, partner="bravo", partner_key=KEYS["bravo"], client=client)


def test_a_swapped_key_is_caught(make_client: Any, db_url: str, tmp_path: Path) -> None:
    client = make_client()
    assert post(client, message("track_update")).status_code == 201
    state = tmp_path / "bravo.json"
    assert _bravo(state, client).ok  # pins alpha's key
    # the operator cannot rotate alpha's key through the centre without alpha's old key …
    fake = sign_rotation("alpha", EVIL, EVIL.public_key()) | {
        "previous_public_key_pem": public_key_pem(KEYS["alpha"])
    }
    store = Store(db_url)
    with pytest.raises(InputError, match="not signed by its old key"):
        store.rotate_partner(fake)
    store.close()
    # … so it swaps it in the database, with that forged statement beside it
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE partners SET public_key_pem = :p, fingerprint = :f, rotations = :r "
                "WHERE name = 'alpha'"
            ),
            {
                "p": public_key_pem(EVIL),
                "f": key_fingerprint(EVIL.public_key()),
                "r": json.dumps([fake]),
            },
        )
    engine.dispose()
    client = _restart(client, db_url)
    forged = message("track_update", missile_class="ICBM")
    assert post(client, forged, key=EVIL).status_code == 201  # the centre accepts it
    inbox = xv.read_inbox(URL, "bravo", KEYS["bravo"], client=client)
    assert inbox[-1]["signature_ok"] is True  # against the served key: the attack works there
    report = _bravo(state, client)
    assert not report.ok, "the forged message passed"
    assert "the key of 'alpha' the centre serves" in str(report.reason)
    assert "is not its last key in the log" in str(report.reason)
    # a verifier that never ran before (nothing pinned) is not fooled either: the log's key
    # history, not the centre's table, says which key is alpha's
    fresh = _bravo(tmp_path / "fresh.json", client)
    assert not fresh.ok and "is not its last key in the log" in str(fresh.reason)
    # logging the swap as a second registration does not help the operator
    store = Store(db_url)
    from openbmd.exchange import entries, entrylog

    doc = entries.key_document("alpha", public_key_pem(EVIL), "2030-01-01T00:00:00Z", None)
    entrylog.logged(store.engine, lambda conn: [(entries.PUBLIC, doc)])
    store.close()
    client = _restart(client, db_url)
    assert post(client, message("free_text")).status_code == 401  # alpha's real key: refused
    again = _bravo(tmp_path / "fresh2.json", client)
    assert not again.ok
    assert "the key of 'alpha' changed without a rotation signed by the old key" in str(
        again.reason
    )
    client.__exit__(None, None, None)


def test_a_signed_rotation_is_followed(
    make_client: Any, db_url: str, tmp_path: Path, capsys: Any
) -> None:
    client = make_client()
    assert post(client, message("track_update")).status_code == 201
    state = tmp_path / "bravo.json"
    assert _bravo(state, client).ok
    old_file, _ = write_keypair(tmp_path / "alpha-old", KEYS["alpha"])
    new = private_key_from_seed(b"\x77" * 32)
    _, new_pub = write_keypair(tmp_path / "alpha-new", new)
    statement = tmp_path / "rotation.json"
    capsys.readouterr()
    args = ["exchange", "partner", "sign-rotation", "alpha", "--key-file", str(old_file)]
    assert main([*args, "--public-key-file", str(new_pub)]) == 0
    statement.write_text(capsys.readouterr().out, "utf-8")
    assert main(["exchange", "partner", "rotate", str(statement), "--database-url", db_url]) == 0
    client = _restart(client, db_url)
    assert post(client, message("track_update"), key=new).status_code == 201
    assert post(client, message("track_update")).status_code == 401  # the old key is retired
    report = _bravo(state, client)
    assert report.ok, report.reason
    assert report.items_checked == 1  # incremental: the new item, its signature by the new key
    again = xv.verify_log(
        URL, tmp_path / "fresh.json", partner="bravo", partner_key=KEYS["bravo"], client=client
    )
    assert again.ok and again.items_checked == 2, again.reason
    client.__exit__(None, None, None)
