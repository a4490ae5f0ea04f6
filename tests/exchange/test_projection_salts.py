"""Issue 12.3: a coarse recipient cannot recover a finer recipient's view from the log.

alpha sends one launch event to bravo at L2 (arc-minute coordinates) and to charlie at L1
(whole degrees). charlie knows its own L1 view and, from side knowledge, the radius and the
azimuth; it enumerates the 61 × 61 arc-minute centres inside its 1° cell and tests each guess
against bravo's commitment in the public log leaf. With unsalted hashes one guess matches (the
attack works); with per-recipient salts none does, while bravo, given its salt, can check what
it received."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from tests.exchange.conftest import message, post, signed_get

from openbmd.exchange import entries
from openbmd.exchange.domain import Agreement, Rule
from openbmd.exchange.signing import canonical_json
from openbmd.exchange.store import Store


def _slots(client: Any, reader: str, index: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The slots of entry *index* as *reader* reads them (signed), and *reader*'s tag there."""
    page = signed_get(client, reader, "/v1/log/entries", start=index, end=index + 1).json()
    slots = entries.slots_of(base64.b64decode(page["entries"][0]["leaf_b64"]))
    assert slots is not None
    return slots, entries.party_tag(base64.b64decode(page["tag_key_b64"]), index)


def test_a_coarse_recipient_cannot_brute_force_a_finer_view(make_client: Any, db_url: str) -> None:
    store = Store(db_url)
    rules = (Rule("bravo", frozenset({"*"}), "L2"), Rule("charlie", frozenset({"*"}), "L1"))
    store.put_agreement(Agreement("alpha-wide", "alpha", rules))
    store.close()
    client = make_client()
    secret = {"lat_deg": 54.7123, "lon_deg": 20.4917}  # bravo sees 54°43', 20°30'
    launch = message("launch_event", recipient="bravo")
    launch.update(
        recipients=["bravo", "charlie"],
        agreement="alpha-wide",
        launch_area={"shape": "circle", "center": secret, "radius_km": 15.0},
        azimuth_deg=137.4,
    )
    launch.pop("impact_area", None)
    assert post(client, launch).status_code == 201, "setup"
    first = signed_get(client, "charlie", "/v1/messages").json()["items"][0]
    coarse, index = first["message"], first["index"]
    # charlie cannot tell which slot is bravo's: it tries every one (its own included)
    commitments = {c.hex() for _, c in _slots(client, "charlie", index)[0]}
    lat0, lon0 = (
        coarse["launch_area"]["center"]["lat_deg"],
        coarse["launch_area"]["center"]["lon_deg"],
    )
    found = None
    for i in range(-30, 31):
        for j in range(-30, 31):
            guess = json.loads(json.dumps(coarse))
            guess["launch_area"] = {
                "shape": "circle",
                "center": {
                    "lat_deg": round(lat0 + i / 60.0, 9),
                    "lon_deg": round(lon0 + j / 60.0, 9),
                },
                "radius_km": 16.0,  # side knowledge: the L2 radius and azimuth
            }
            guess["azimuth_deg"] = 137.0
            if hashlib.sha256(canonical_json(guess)).hexdigest() in commitments:
                found = guess
    assert found is None, f"charlie recovered bravo's view: {found['launch_area']}"
    # bravo, and only bravo, holds the salt that opens its commitment
    item = signed_get(client, "bravo", "/v1/messages").json()["items"][0]
    salt = base64.b64decode(item["salt_b64"])
    assert len(salt) >= 16
    slots, tag = _slots(client, "bravo", index)
    assert (tag, hashlib.sha256(salt + canonical_json(item["message"])).digest()) in slots
    charlie_item = signed_get(client, "charlie", "/v1/messages").json()["items"][0]
    assert charlie_item["salt_b64"] != item["salt_b64"]
