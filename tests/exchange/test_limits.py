"""Issue 12.9: limits and strictness. Body cap (413), feeds per partner, strict schema types,
ASCII-only timestamps (400), and a database outage answered 503 problem+json on every route."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.websockets import WebSocketDisconnect
from tests.exchange.conftest import KEYS, body, message, post, problem_slug, signed_get

from openbmd.exchange.auth import sign_request, signed_query


def test_a_body_over_the_cap_is_413_problem_json(make_client: Any) -> None:
    client = make_client(max_body_bytes=4096)
    big = message("free_text", text="x" * 5000)
    r = post(client, big)
    assert r.status_code == 413 and problem_slug(r) == "payload-too-large"

    def chunks() -> Any:  # no Content-Length: counted as it streams
        data = json.dumps({"items": [body(big)]}).encode()
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    r = client.post("/v1/messages:batch", content=chunks(), headers={"X-OpenBMD-Partner": "alpha"})
    assert r.status_code == 413 and problem_slug(r) == "payload-too-large"
    assert post(client, message("free_text")).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [("simulated", "no"), ("simulated", 0), ("apogee_km", "610"), ("azimuth_deg", "137.4")],
)
def test_schema_types_are_strict(client: Any, field: str, value: Any) -> None:
    r = post(client, message("launch_event", **{field: value}))
    assert r.status_code == 422 and problem_slug(r) == "invalid-field", r.text
    assert field in r.json()["detail"]


def test_a_timestamp_of_non_ascii_digits_is_400(client: Any) -> None:
    headers: dict[str, Any] = sign_request(KEYS["bravo"], "bravo", "GET", "/v1/messages", {})
    headers["X-OpenBMD-Timestamp"] = "²".encode("latin-1")  # str.isdigit() is True for it
    r = client.get("/v1/messages", headers=headers)
    assert r.status_code == 400 and problem_slug(r) == "bad-request"


def _feed_url(partner: str) -> str:
    q = signed_query(KEYS[partner], partner, "/v1/feed", {"after": -1})
    return "/v1/feed?" + "&".join(f"{k}={v}" for k, v in q.items()).replace("+", "%2B")


def test_feeds_per_partner_are_capped(make_client: Any) -> None:
    client = make_client(feeds_per_partner=2)
    with client.websocket_connect(_feed_url("bravo")), client.websocket_connect(_feed_url("bravo")):
        with (
            pytest.raises(WebSocketDisconnect) as info,
            client.websocket_connect(_feed_url("bravo")),
        ):
            pass
        assert info.value.code == 1008 and "too-many-feeds" in str(info.value.reason)
        with client.websocket_connect(_feed_url("alpha")):  # another partner is not affected
            pass
    with client.websocket_connect(_feed_url("bravo")):  # slots were given back
        pass


def test_a_database_outage_is_503_on_every_route(client: Any, db_url: str) -> None:
    for _ in range(3):
        assert post(client, message("free_text")).status_code == 201
    store = client.app.state.centre.store
    healthy = store.engine
    if db_url.startswith("sqlite"):
        store.engine = sa.create_engine("sqlite:////nonexistent-dir/openbmd/x.db")
    else:
        down = sa.engine.make_url(db_url).set(port=1)
        store.engine = sa.create_engine(down, connect_args={"connect_timeout": 2})
    client.app.state.centre._keys.clear()  # force key lookups to reach the database
    try:
        answers = {
            "partners": client.get("/v1/partners"),
            "agreements": signed_get(client, "alpha", "/v1/agreements"),
            "view": signed_get(client, "bravo", "/v1/messages"),
            "entries": signed_get(client, "charlie", "/v1/log/entries", start=0, end=1),
            "inclusion": client.get("/v1/log/proof/inclusion", params={"index": 0, "tree_size": 3}),
            "submit": post(client, message("free_text")),
            "batch": client.post(
                "/v1/messages:batch",
                json={"items": [body(message("free_text"))]},
                headers={"X-OpenBMD-Partner": "alpha"},
            ),
        }
    finally:
        store.engine.dispose()
        store.engine = healthy
    for name, r in answers.items():
        assert r.status_code == 503, (name, r.status_code, r.text)
        assert problem_slug(r) == "unavailable", name
