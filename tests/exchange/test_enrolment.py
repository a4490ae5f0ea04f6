"""Open enrolment over HTTP: POST /v1/partners (proof of possession) and POST /v1/agreements
(signed by the granting sender), off unless the centre allows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.exchange.conftest import KEYS, problem_slug, signed_get

from openbmd.cli.exchange_agreements import sign_agreement
from openbmd.exchange.auth import sign_request
from openbmd.exchange.domain import Agreement, Rule
from openbmd.exchange.enrolment import is_loopback
from openbmd.exchange.signing import generate_keypair, public_key_pem

RADAR = frozenset({"radar_report"})


def _enrol(
    client: Any, name: str, key: Any, pem: str | None = None, signer: str | None = None
) -> Any:
    doc = {"name": name, "public_key_pem": pem or public_key_pem(key.public_key())}
    headers = sign_request(key, signer or name, "POST", "/v1/partners")
    return client.post("/v1/partners", json=doc, headers=headers)


def _post_agreement(client: Any, doc: dict[str, Any], partner: str, key: Any) -> Any:
    headers = sign_request(key, partner, "POST", "/v1/agreements")
    return client.post("/v1/agreements", json=doc, headers=headers)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("192.0.2.7", False), ("::", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_enrolment_is_off_by_default(make_client: Callable[..., Any]) -> None:
    client = make_client()
    key, _ = generate_keypair()
    r = _enrol(client, "delta", key)
    assert r.status_code == 403 and problem_slug(r) == "enrolment-disabled"
    doc = sign_agreement(
        Agreement("alpha-x", "alpha", (Rule("bravo", RADAR, "L3"),)), KEYS["alpha"]
    )
    r = _post_agreement(client, doc, "alpha", KEYS["alpha"])
    assert r.status_code == 403 and problem_slug(r) == "enrolment-disabled"
    assert "delta" not in [p["name"] for p in client.get("/v1/partners").json()]


def test_enrolment_needs_the_new_keys_signature(make_client: Callable[..., Any]) -> None:
    client = make_client(open_enrolment=True)
    key, _ = generate_keypair()
    other, _ = generate_keypair()
    r = _enrol(client, "delta", other, pem=public_key_pem(key.public_key()))  # not its key
    assert r.status_code == 401 and problem_slug(r) == "bad-signature"
    r = client.post(
        "/v1/partners", json={"name": "delta", "public_key_pem": public_key_pem(key.public_key())}
    )
    assert r.status_code == 401 and problem_slug(r) == "missing-credentials"
    r = _enrol(client, "delta", key, signer="alpha")  # the headers must name the new partner
    assert r.status_code == 403 and problem_slug(r) == "sender-mismatch"
    for pem in ("/etc/passwd", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"):
        r = _enrol(client, "delta", key, pem=pem)  # never read as a path
        assert r.status_code == 400 and problem_slug(r) == "bad-key", r.text
    r = _enrol(client, "delta", key)
    assert r.status_code == 201, r.text
    assert r.json()["fingerprint"] in [p["fingerprint"] for p in client.get("/v1/partners").json()]
    assert _enrol(client, "delta", key).status_code == 200  # the same key again: no change
    r = _enrol(client, "delta", other)  # the name is taken by another key
    assert r.status_code == 409 and problem_slug(r) == "name-taken"
    r = _enrol(client, "echo", key)  # the key is registered under another name
    assert r.status_code == 409 and problem_slug(r) == "name-taken"
    # the new partner is a partner: its signed reads work at once
    headers = sign_request(key, "delta", "GET", "/v1/messages", {})
    assert client.get("/v1/messages", headers=headers).status_code == 200


def test_agreements_posted_by_their_signed_sender(make_client: Callable[..., Any]) -> None:
    client = make_client(open_enrolment=True)
    agreement = Agreement("alpha-radar", "alpha", (Rule("bravo", RADAR, "fused-only"),))
    doc = sign_agreement(agreement, KEYS["alpha"])
    r = _post_agreement(client, doc, "bravo", KEYS["bravo"])  # only the sender may post it
    assert r.status_code == 403 and problem_slug(r) == "sender-mismatch"
    forged = sign_agreement(agreement, KEYS["bravo"])  # not alpha's signature
    r = _post_agreement(client, forged, "alpha", KEYS["alpha"])
    assert r.status_code == 422 and problem_slug(r) == "bad-signature"
    r = _post_agreement(client, agreement.to_dict(), "alpha", KEYS["alpha"])  # unsigned
    assert r.status_code == 400 and problem_slug(r) == "bad-request"
    stranger = sign_agreement(
        Agreement("alpha-z", "alpha", (Rule("zulu", RADAR, "L3"),)), KEYS["alpha"]
    )
    r = _post_agreement(client, stranger, "alpha", KEYS["alpha"])
    assert r.status_code == 422 and problem_slug(r) == "unknown-recipient"
    r = _post_agreement(client, doc, "alpha", KEYS["alpha"])
    assert r.status_code == 201, r.text
    mine = signed_get(client, "alpha", "/v1/agreements").json()
    assert {"name": "alpha-radar", "signature_b64": doc["signature_b64"]}.items() <= next(
        a for a in mine if a["name"] == "alpha-radar"
    ).items()
    seen = signed_get(client, "bravo", "/v1/agreements").json()
    assert [r["level"] for a in seen if a["name"] == "alpha-radar" for r in a["rules"]] == [
        "fused-only"
    ]
