"""POST /v1/messages: acceptance, authentication, replay, skew, sequence, idempotency, fields."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.exchange.conftest import BASE, KEYS, body, message, now_iso, post, problem_slug


def test_accept_then_idempotent_then_conflict(client: Any) -> None:
    msg = message("launch_event")
    r1 = post(client, msg)
    assert r1.status_code == 201, r1.text
    assert r1.json() == {"index": BASE, "message_id": msg["message_id"]}
    r2 = post(client, msg)
    assert r2.status_code == 200
    assert r2.json() == r1.json()
    changed = dict(msg, text="x") if msg["type"] == "free_text" else dict(msg, azimuth_deg=1.0)
    r3 = post(client, changed)
    assert r3.status_code == 409 and problem_slug(r3) == "conflict"


def test_each_type_accepted(client: Any) -> None:
    types = [
        "pre_launch_notification",
        "post_launch_notification",
        "launch_event",
        "track_update",
        "space_event",
        "free_text",
        "ack",
    ]
    indices = [post(client, message(t)).json()["index"] for t in types]
    assert indices == list(range(BASE, BASE + len(types)))


@pytest.mark.parametrize(
    ("change", "slug", "status"),
    [
        ({"sent_at": now_iso(-3600)}, "stale-timestamp", 422),
        ({"sent_at": now_iso(+3600)}, "future-timestamp", 422),
        ({"recipients": ["zulu"]}, "unknown-recipient", 422),
        ({"agreement": "nope"}, "unknown-agreement", 422),
        (
            {"recipients": ["charlie"], "agreement": "alpha-to-bravo"},
            "not-covered-by-agreement",
            403,
        ),
    ],
)
def test_rejections(client: Any, change: dict[str, Any], slug: str, status: int) -> None:
    r = post(client, message(**change))
    assert r.status_code == status, r.text
    assert problem_slug(r) == slug


def test_bad_signature_unknown_key_and_sender_mismatch(client: Any) -> None:
    msg = message()
    r = post(client, msg, key=KEYS["bravo"])
    assert r.status_code == 401 and problem_slug(r) == "bad-signature"
    ghost = message(sender="zulu")
    r = post(client, ghost, key=KEYS["alpha"])
    assert r.status_code == 401 and problem_slug(r) == "unknown-partner"
    r = post(client, message(), partner="bravo")
    assert r.status_code == 403 and problem_slug(r) == "sender-mismatch"
    r = client.post("/v1/messages", json=body(message()))
    assert r.status_code == 401 and problem_slug(r) == "missing-credentials"


def test_replayed_nonce_and_sequence(client: Any) -> None:
    first = message()
    assert post(client, first).status_code == 201
    replay = message(nonce=first["nonce"])
    r = post(client, replay)
    assert r.status_code == 409 and problem_slug(r) == "replayed-nonce"
    old_seq = message(seq=first["seq"])
    r = post(client, old_seq)
    assert r.status_code == 409 and problem_slug(r) == "sequence-not-increasing"


def test_stale_resubmission_of_accepted_message_is_still_idempotent(make_client: Any) -> None:
    client = make_client(skew_seconds=2.0)
    msg = message(sent_at=now_iso(-1.0))
    assert post(client, msg).status_code == 201
    import time

    time.sleep(1.5)
    r = post(client, msg)
    assert r.status_code == 200 and r.json()["index"] == BASE


def _bad(field_path: list[Any], value: Any, msg_type: str) -> dict[str, Any]:
    msg = message(msg_type)
    target = msg
    for key in field_path[:-1]:
        target = target[key]
    target[field_path[-1]] = value
    return msg


INVALID = [
    ("launch_event", ["azimuth_deg"], 360.0, "azimuth_deg"),
    ("launch_event", ["azimuth_deg"], -0.5, "azimuth_deg"),
    ("pre_launch_notification", ["window_end"], "2000-01-01T00:00:00Z", "window_end"),
    ("pre_launch_notification", ["launch_area", "points", 4, "lat_deg"], 10.0, "points"),
    ("pre_launch_notification", ["launch_area", "points", 0, "lat_deg"], 91.0, "lat_deg"),
    ("pre_launch_notification", ["impact_area", "radius_km"], 0.0, "radius_km"),
    ("track_update", ["covariance", 0, 1], 5.0, "covariance"),
    ("track_update", ["covariance", 2, 2], -1.0, "covariance"),
    ("free_text", ["status"], "Real", "status"),
    ("free_text", ["msg_type"], "Update", "references"),
    ("free_text", ["seq"], 0, "seq"),
    ("free_text", ["sent_at"], "2025-01-01T00:00:00", "sent_at"),
    ("free_text", ["surprise"], 1, "surprise"),
    ("space_event", ["apogee_km"], 100.0, "apogee_km"),
]


@pytest.mark.parametrize(("msg_type", "path", "value", "field"), INVALID)
def test_invalid_fields_name_the_field(
    client: Any, msg_type: str, path: list[Any], value: Any, field: str
) -> None:
    msg = _bad(path, value, msg_type)
    r = post(client, msg)
    assert r.status_code == 422, r.text
    assert problem_slug(r) == "invalid-field"
    assert field in r.json()["detail"]


def test_polygon_needs_four_points(client: Any) -> None:
    msg = message("pre_launch_notification")
    pts = msg["launch_area"]["points"]
    msg["launch_area"]["points"] = [pts[0], pts[1], copy.deepcopy(pts[0])]
    r = post(client, msg)
    assert r.status_code == 422 and "points" in r.json()["detail"]
