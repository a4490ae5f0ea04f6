"""GET /v1/messages and WS /v1/feed: the caller's projected view, signed reads, resume."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.exchange.conftest import BASE, KEYS, message, post, problem_slug, signed_get

from openbmd.exchange import entries
from openbmd.exchange.auth import sign_request, signed_query
from openbmd.exchange.signing import canonical_json


def test_views_respect_addressing_and_levels(client: Any) -> None:
    le = message("launch_event")  # alpha→bravo at L1 (apogee above threshold)
    tu = message("track_update")  # alpha→bravo at L3
    to_c = message("free_text", recipient="charlie")  # alpha→charlie at L0
    for m in (le, tu, to_c):
        assert post(client, m).status_code == 201
    bravo = signed_get(client, "bravo", "/v1/messages").json()["items"]
    assert [(i["index"], i["level"]) for i in bravo] == [(BASE, "L1"), (BASE + 1, "L3")]
    assert bravo[0]["message"]["azimuth_deg"] == 140.0
    assert "apogee_km" not in bravo[0]["message"] and "nonce" not in bravo[0]["message"]
    assert bravo[0]["signature"] is None
    assert bravo[1]["message"] == tu and bravo[1]["signature"]
    charlie = signed_get(client, "charlie", "/v1/messages").json()["items"]
    assert [(i["index"], i["level"]) for i in charlie] == [(BASE + 2, "L0")]
    assert set(charlie[0]["message"]) == {
        "message_id",
        "sender",
        "sent_at",
        "type",
        "status",
        "msg_type",
    }
    alpha = signed_get(client, "alpha", "/v1/messages", after=BASE).json()
    assert [i["level"] for i in alpha["items"]] == ["own", "own"]
    assert alpha["next_after"] == BASE + 2
    # the log records, in bravo's slot, the salted hash of exactly what it is shown
    page = signed_get(client, "bravo", "/v1/log/entries", start=BASE, end=BASE + 1).json()
    import base64

    leaf = base64.b64decode(page["entries"][0]["leaf_b64"])
    assert leaf == base64.b64decode(bravo[0]["leaf_b64"])
    salt = base64.b64decode(bravo[0]["salt_b64"])
    assert len(salt) == 16
    digest = hashlib.sha256(salt + canonical_json(bravo[0]["message"])).digest()
    tag = entries.party_tag(base64.b64decode(page["tag_key_b64"]), BASE)
    assert (tag, digest) in (entries.slots_of(leaf) or [])
    record = json.loads(leaf)
    assert set(record) == {"v", "slots"} and len(record["slots"]) == entries.MIN_SLOTS


def test_below_threshold_gets_l0_or_nothing(client: Any) -> None:
    low = message("launch_event", apogee_km=120.0)  # quickstart rule: below → L0
    assert post(client, low).status_code == 201
    bravo = signed_get(client, "bravo", "/v1/messages").json()["items"]
    assert [i["level"] for i in bravo] == ["L0"]


def test_signed_read_failures(client: Any) -> None:
    r = client.get("/v1/messages")
    assert r.status_code == 401 and problem_slug(r) == "missing-credentials"
    h = sign_request(KEYS["alpha"], "bravo", "GET", "/v1/messages", {})
    r = client.get("/v1/messages", headers=h)
    assert r.status_code == 401 and problem_slug(r) == "bad-signature"
    h = sign_request(KEYS["bravo"], "bravo", "GET", "/v1/messages", {"after": 5})
    r = client.get("/v1/messages", headers=h)  # query not the one signed
    assert r.status_code == 401 and problem_slug(r) == "bad-signature"
    h = sign_request(KEYS["bravo"], "bravo", "GET", "/v1/messages", {}, timestamp=1000)
    r = client.get("/v1/messages", headers=h)
    assert r.status_code == 422 and problem_slug(r) == "stale-timestamp"
    h = sign_request(KEYS["bravo"], "bravo", "GET", "/v1/messages", {})
    assert client.get("/v1/messages", headers=h).status_code == 200
    r = client.get("/v1/messages", headers=h)
    assert r.status_code == 409 and problem_slug(r) == "replayed-nonce"
    h = sign_request(KEYS["bravo"], "zulu", "GET", "/v1/messages", {})
    r = client.get("/v1/messages", headers=h)
    assert r.status_code == 401 and problem_slug(r) == "unknown-partner"


def _feed(client: Any, partner: str, after: int, count: int) -> list[dict[str, Any]]:
    q = signed_query(KEYS[partner], partner, "/v1/feed", {"after": after})
    qs = "&".join(f"{k}={v}" for k, v in q.items()).replace("+", "%2B")
    with client.websocket_connect(f"/v1/feed?{qs}") as ws:
        return [ws.receive_json() for _ in range(count)]


def test_feed_live_and_resume_across_restart(make_client: Any) -> None:
    first = make_client()
    sent = [message("free_text") for _ in range(3)]
    for m in sent:
        assert post(first, m).status_code == 201
    got = _feed(first, "bravo", -1, 2)
    assert [g["index"] for g in got] == [BASE, BASE + 1]
    first.__exit__(None, None, None)
    second = make_client()  # a restarted server on the same database
    more = [message("free_text") for _ in range(2)]
    q = signed_query(KEYS["bravo"], "bravo", "/v1/feed", {"after": got[-1]["index"]})
    qs = "&".join(f"{k}={v}" for k, v in q.items()).replace("+", "%2B")
    with second.websocket_connect(f"/v1/feed?{qs}") as ws:
        assert ws.receive_json()["index"] == BASE + 2  # backlog from the database
        for m in more:  # then live, as commits happen
            assert post(second, m).status_code == 201
        rest = [ws.receive_json() for _ in range(2)]
    ids = [g["message_id"] for g in got] + [sent[2]["message_id"]] + [g["message_id"] for g in rest]
    assert ids == [m["message_id"] for m in sent + more]


def test_feed_refuses_unsigned(client: Any) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/v1/feed"):
        pass
    assert info.value.code == 1008
