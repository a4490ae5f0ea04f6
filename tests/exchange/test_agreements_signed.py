"""Issue 12.6 (agreements): the operator cannot widen an agreement without the sender knowing.

The attack of the issue: the operator edits alpha's agreement in the database, raising bravo
from L2 to full detail (L3); the centre then sends bravo alpha's exact coordinates. Now every
agreement carries its sender's signature (``agreement sign``), each log entry names the digest
of the agreement it was routed under, and alpha's ``verify --partner`` fails on an agreement in
its name it did not sign and on every entry routed under one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from tests.exchange.conftest import BASE, KEYS, message, post, signed_get

from openbmd.cli import main
from openbmd.cli.exchange_examples import example_agreement
from openbmd.errors import InputError
from openbmd.exchange import verify as xv
from openbmd.exchange.audit import audit
from openbmd.exchange.domain import Agreement
from openbmd.exchange.signing import write_keypair
from openbmd.exchange.store import Store

URL = "http://testserver"


def _alpha(client: Any) -> xv.VerifyReport:
    return xv.verify_log(URL, partner="alpha", partner_key=KEYS["alpha"], client=client)


def test_a_widened_agreement_is_caught_by_its_sender(make_client: Any, db_url: str) -> None:
    client = make_client()
    assert post(client, message("pre_launch_notification")).status_code == 201
    honest = _alpha(client)
    assert honest.ok, honest.reason
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:  # bravo: from L2 to L3, the sender's signature left in place
        doc = json.loads(
            conn.execute(sa.text("SELECT document FROM agreements WHERE name = 'alpha-to-bravo'"))
            .one()
            .document
        )
        doc["rules"][0]["level"] = "L3"
        conn.execute(
            sa.text(
                "UPDATE agreements SET document = :d, updated_at = 'z' "
                "WHERE name = 'alpha-to-bravo'"
            ),
            {"d": json.dumps(doc, sort_keys=True)},
        )
    engine.dispose()
    assert post(client, message("pre_launch_notification")).status_code == 201
    items = signed_get(client, "bravo", "/v1/messages").json()["items"]
    assert [i["level"] for i in items] == ["L2", "L3"]  # the widening took effect
    report = _alpha(client)
    assert not report.ok, "alpha did not notice"
    assert "agreement 'alpha-to-bravo' is not signed by 'alpha'" in str(report.reason)
    assert f"entry {BASE + 1} was routed under an agreement 'alpha' did not sign" in str(
        report.reason
    )
    found = audit(db_url)  # and the operator's own audit names the edited row
    assert "agreements: 'alpha-to-bravo' is not its last logged version" in " ".join(found.problems)
    store = Store(db_url)  # nor can the operator register a forged signature
    with pytest.raises(InputError, match="the signature is not 'alpha'"):
        store.put_agreement(Agreement.from_dict(doc), b"\x00" * 64)
    store.close()


def test_agreement_sign_and_add(make_client: Any, db_url: str, tmp_path: Path) -> None:
    client = make_client()
    plain = tmp_path / "agreements.yaml"
    plain.write_text(yaml.safe_dump(example_agreement(), sort_keys=False), "utf-8")
    key_file, _ = write_keypair(tmp_path / "alpha", KEYS["alpha"])
    signed = tmp_path / "signed.yaml"
    args = ["exchange", "agreement", "sign", str(plain), "--partner", "alpha"]
    assert main([*args, "--key-file", str(key_file), "--out", str(signed)]) == 0
    docs = yaml.safe_load(signed.read_text("utf-8"))["agreements"]
    assert [bool(d.get("signature_b64")) for d in docs] == [True, False]  # alpha's only
    assert main(["exchange", "agreement", "add", str(plain), "--database-url", db_url]) == 0
    assert post(client, message("free_text")).status_code == 201
    unsigned = _alpha(client)
    assert not unsigned.ok and "unsigned" in str(unsigned.reason)
    assert main(["exchange", "agreement", "add", str(signed), "--database-url", db_url]) == 0
    assert post(client, message("free_text")).status_code == 201
    served = signed_get(client, "alpha", "/v1/agreements").json()
    assert served[0]["signature_b64"] == docs[0]["signature_b64"]
    assert signed_get(client, "bravo", "/v1/agreements").json()[0]["signature_b64"] is None
    state = tmp_path / "alpha.json"
    first = xv.verify_log(URL, state, partner="alpha", partner_key=KEYS["alpha"], client=client)
    # entry 0 was routed while the agreement was unsigned, but under the very document alpha
    # signed since (the entries name the document's digest, not its signature)
    assert first.ok and first.items_checked == 2, first.reason
