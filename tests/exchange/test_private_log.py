"""Issue 12.2: the log no longer tells who said what to whom.

Before, ``GET /v1/log/entries`` was public and each leaf named its sender, type, exact times
and recipients — including a launch event below the notification threshold that its recipient
was to learn nothing about. Now the public endpoints serve only checkpoints, proofs and the
key; entries are a signed read; a leaf holds only tagged, salted commitments, so a partner that
is not a party of an entry learns nothing of it, and guessing its metadata over the small space
of senders × types × recipients (even knowing the exact times) fails for want of the salt.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from typing import Any

from tests.exchange.conftest import BASE, KEYS, NAMES, message, post, signed_get

from openbmd.exchange import entries
from openbmd.exchange.signing import canonical_json

SECRETS = ("alpha", "bravo", "charlie", "launch_event", "free_text", "Alert", "agreement")


def _traffic(client: Any) -> list[dict[str, Any]]:
    """alpha → bravo (free text), alpha → bravo and charlie a launch event below the threshold
    (bravo: L0, charlie: nothing), bravo → alpha."""
    msgs = [message("free_text")]  # built in order: sequence numbers increase
    msgs.append(message("launch_event", apogee_km=120.0, range_km=300.0))
    msgs.append(message("launch_event", recipient="charlie", apogee_km=90.0, range_km=200.0))
    msgs.append(message("free_text", sender="bravo", recipient="alpha"))
    for m in msgs:
        assert post(client, m).status_code == 201
    return msgs


def test_an_unauthenticated_reader_learns_nothing(client: Any) -> None:
    msgs = _traffic(client)
    n = BASE + len(msgs)
    r = client.get("/v1/log/entries", params={"start": 0, "end": n})
    assert r.status_code == 401  # was: every leaf, with sender, type, times and recipients
    public = [
        client.get("/v1/log/checkpoint").text,
        client.get("/v1/log/key").text,
        *(
            client.get("/v1/log/proof/inclusion", params={"index": i, "tree_size": n}).text
            for i in range(n)
        ),
        *(
            client.get("/v1/log/proof/consistency", params={"first": m, "second": n}).text
            for m in range(n + 1)
        ),
    ]
    text = "\n".join(public)
    for secret in (*SECRETS, *(m["sent_at"] for m in msgs), *(m["message_id"] for m in msgs)):
        assert secret not in text, secret


def _as_read_by(client: Any, partner: str, n: int) -> dict[str, Any]:
    page = signed_get(client, partner, "/v1/log/entries", start=0, end=n)
    assert page.status_code == 200, page.text
    doc: dict[str, Any] = page.json()
    return doc


def test_a_third_partner_learns_nothing_of_other_entries(client: Any) -> None:
    msgs = _traffic(client)
    n = BASE + len(msgs)
    page = _as_read_by(client, "charlie", n)
    tag_key = base64.b64decode(page["tag_key_b64"])
    shapes = set()
    for e in page["entries"][BASE:]:
        leaf = base64.b64decode(e["leaf_b64"])
        assert not any(s.encode() in leaf for s in SECRETS), leaf
        assert not any(m["sent_at"].encode() in leaf for m in msgs)
        doc = json.loads(leaf)
        assert set(doc) == {"v", "slots"}
        shapes.add(len(doc["slots"]))
        tag = entries.party_tag(tag_key, e["index"])
        mine = any(t == tag for t, _ in entries.slots_of(leaf) or [])
        # charlie is a party of none of them: the launch event addressed to it was below the
        # threshold ("none"), so it has no slot there either — and no opening anywhere
        assert not mine and e["openings"] == [], e["index"]
    assert shapes == {entries.MIN_SLOTS}  # one, two or three parties: the same shape
    # alpha, the sender, is shown the metadata of its three messages (not of bravo's, where
    # it is a recipient: that slot it checks against its view), and everyone the key entries
    alpha = _as_read_by(client, "alpha", n)
    opened = {e["index"] for e in alpha["entries"] if e["openings"]}
    assert {BASE, BASE + 1, BASE + 2} <= opened and BASE + 3 not in opened
    assert set(range(len(NAMES))) <= opened
    assert [o["party"] for o in alpha["entries"][0]["openings"]] == [entries.PUBLIC]


def test_guessing_the_metadata_of_an_entry_fails_without_the_salt(client: Any) -> None:
    msgs = _traffic(client)
    n = BASE + len(msgs)
    index = BASE + 1  # msgs[1], the below-threshold launch event alpha → bravo
    leaf = base64.b64decode(_as_read_by(client, "charlie", n)["entries"][index]["leaf_b64"])
    commitments = {c for _, c in entries.slots_of(leaf) or []}
    alpha = _as_read_by(client, "alpha", n)["entries"][index]["openings"]
    (opening,) = alpha
    truth = json.loads(base64.b64decode(opening["document_b64"]))
    tried = 0
    # the attacker even knows every field but who, what and to whom: the exact message hash,
    # times and agreement digest of the entry
    for sender, msg_type, recipient in itertools.product(
        NAMES, ["launch_event", "free_text", "track_update", "pre_launch_notification"], NAMES
    ):
        guess = truth | {"sender": sender, "type": msg_type}
        for data in (canonical_json(guess), canonical_json(guess | {"recipient": recipient})):
            tried += 1
            assert hashlib.sha256(data).digest() not in commitments
            assert hashlib.sha256(b"\0" * entries.SALT_BYTES + data).digest() not in commitments
    assert tried == 2 * 3 * 4 * 3
    # with the salt only the sender holds, the commitment opens: the guess space was right
    salt = base64.b64decode(opening["salt_b64"])
    assert entries.commitment(salt, canonical_json(truth)) in commitments
    assert truth["sender"] == "alpha" and truth["type"] == "launch_event"


def test_a_changed_tag_key_is_noticed(client: Any, db_url: str, tmp_path: Any) -> None:
    """An operator who re-keys bravo's tags (so new entries addressed to it could be hidden
    from it) is caught by bravo's next run: the tag key is pinned in its state."""
    import sqlalchemy as sa

    from openbmd.exchange import verify as xv

    state = tmp_path / "bravo.json"
    _traffic(client)
    first = xv.verify_log(
        "http://testserver", state, partner="bravo", partner_key=KEYS["bravo"], client=client
    )
    assert first.ok, first.reason
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE tag_keys SET tag_key = :k WHERE partner = 'bravo'"), {"k": b"\x07" * 32}
        )
    engine.dispose()
    assert post(client, message("free_text")).status_code == 201
    again = xv.verify_log(
        "http://testserver", state, partner="bravo", partner_key=KEYS["bravo"], client=client
    )
    assert not again.ok and "another tag key" in str(again.reason)
