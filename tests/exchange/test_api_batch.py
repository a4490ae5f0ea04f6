"""``POST /v1/messages:batch``: items judged one by one, one answer per item, acks after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import BASE, KEYS, body, message, problem_slug, signed_get


def batch(client: Any, items: list[dict[str, Any]], partner: str = "alpha") -> Any:
    return client.post(
        "/v1/messages:batch", json={"items": items}, headers={"X-OpenBMD-Partner": partner}
    )


def test_batch_items_are_independent(client: Any) -> None:
    good = [message("free_text"), message("launch_event"), message("track_update")]
    forged = body(message("free_text"), key=KEYS["bravo"])
    foreign = body(message("free_text", sender="bravo", recipient="alpha"))
    invalid = body(message("free_text"))
    invalid["message"]["status"] = "Bogus"
    items = [body(good[0]), forged, body(good[1]), foreign, invalid, body(good[2])]
    resp = batch(client, items)
    assert resp.status_code == 200, resp.text
    res = resp.json()["results"]
    assert [r["status"] for r in res] == [201, 401, 201, 403, 422, 201]
    assert [res[i]["index"] for i in (0, 2, 5)] == [BASE, BASE + 1, BASE + 2]
    assert res[1]["type"].endswith("/bad-signature") and res[1]["item"] == 1
    assert res[3]["type"].endswith("/sender-mismatch")
    assert res[4]["type"].endswith("/invalid-field")
    assert [r["message_id"] for r in (res[0], res[2], res[5])] == [m["message_id"] for m in good]
    # acknowledged means logged: the recipient sees all three, in order
    view = signed_get(client, "bravo", "/v1/messages").json()["items"]
    assert [v["message_id"] for v in view] == [m["message_id"] for m in good]
    # idempotent per item; a replay of a logged nonce under a new id is refused
    again = batch(client, [body(good[0]), body(message("free_text", nonce=good[1]["nonce"]))])
    assert [r["status"] for r in again.json()["results"]] == [200, 409]
    assert again.json()["results"][0]["index"] == BASE


def test_batch_sequence_order_and_worker_pool(make_client: Callable[..., Any]) -> None:
    client = make_client(verify_workers=1)
    client.app.state.centre.verifier.start()  # else the first batch runs inline while it starts
    msgs = [message("free_text") for _ in range(20)]
    items = [body(m) for m in msgs]
    items[7]["signature"] = items[8]["signature"]  # a valid signature of another message
    items[9]["message"]["seq"] = 2**60  # no exact JSON number: no RFC 8785 form
    res = batch(client, items).json()["results"]
    assert [r["status"] for r in res] == [201] * 7 + [401, 201, 422] + [201] * 10
    assert res[9]["type"].endswith("/invalid-field")
    assert [r["index"] for r in res if r["status"] == 201] == list(range(BASE, BASE + 18))
    # out-of-order sequence numbers inside one batch: the later, lower one is refused
    a, b = message("free_text"), message("free_text")
    res = batch(client, [body(b), body(a)]).json()["results"]
    assert [r["status"] for r in res] == [201, 409]
    assert res[1]["type"].endswith("/sequence-not-increasing")


def test_batch_request_problems(client: Any) -> None:
    resp = client.post("/v1/messages:batch", json={"items": [body(message())]})
    assert resp.status_code == 401 and problem_slug(resp) == "missing-credentials"
    resp = batch(client, [])
    assert resp.status_code == 422 and problem_slug(resp) == "invalid-field"
    resp = client.post(
        "/v1/messages:batch", content=b"{not json", headers={"X-OpenBMD-Partner": "alpha"}
    )
    assert resp.status_code == 400 and problem_slug(resp) == "bad-request"
