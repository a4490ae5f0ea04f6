"""Log entries of version 3: leaves that commit to every fact and reveal none (pure functions).

A version-3 leaf is the RFC 8785 JSON ``{"v": 3, "slots": [[tag, commitment], …]}`` (hex), the
slots sorted and padded with random ones to ``max(4, next power of two)``. Each *party* of the
entry — the sender of a message and each recipient, the partner of an agreement — owns one slot:

* **tag** = HMAC-SHA256(k, ``"openbmd-tag-v3"`` ‖ index as 8 bytes big-endian), under the
  party's 32-byte *tag key* k (random, kept by the centre, given to the party in its signed log
  reads). Only the party (and the centre) can tell which entries carry its tag: everyone else
  sees random bytes, different at every index. A *public* entry (a partner key) carries the
  public tag SHA-256(``"openbmd-public-v3"`` ‖ index) instead, so every partner knows it must
  be shown the entry's opening.
* **commitment** = SHA-256(salt ‖ RFC 8785 bytes of the party's *document*) under a 16-byte
  random salt that only that party receives: for a recipient the projection it is sent, for the
  sender the message's metadata (:func:`metadata`), for a key or agreement entry
  :func:`key_document` / :func:`agreement_document`.

Nothing in the leaf names a sender, type, time or recipient, and a guess of any of them cannot
be tested without the salt (2¹²⁸ values). What the leaf does show: that an entry exists at its
index, and its padded slot count.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from openbmd.exchange.signing import canonical_json

__all__ = [
    "MIN_SLOTS",
    "PUBLIC",
    "SALT_BYTES",
    "TAG_KEY_BYTES",
    "agreement_document",
    "build_leaf",
    "commitment",
    "key_document",
    "metadata",
    "opening_problem",
    "party_tag",
    "public_tag",
    "seal",
    "slots_of",
]

SALT_BYTES = 16
"""Length of a commitment salt (128 bits)."""
TAG_KEY_BYTES = 32
"""Length of a party's tag key (256 bits)."""
MIN_SLOTS = 4
"""Fewest slots of a leaf (an entry with fewer parties is padded: 0–4 parties look alike)."""
PUBLIC = "*"
"""The party name of a public opening (shown to every registered partner)."""


def party_tag(key: bytes, index: int) -> bytes:
    """The tag of the party holding tag key *key* in the entry at *index* (32 bytes)."""
    return hmac.new(key, b"openbmd-tag-v3" + index.to_bytes(8, "big"), hashlib.sha256).digest()


def public_tag(index: int) -> bytes:
    """The tag of a public entry at *index* (32 bytes; anyone can compute it)."""
    return hashlib.sha256(b"openbmd-public-v3" + index.to_bytes(8, "big")).digest()


def commitment(salt: bytes, data: bytes) -> bytes:
    """SHA-256(salt ‖ data): the slot's commitment to the RFC 8785 bytes *data*."""
    return hashlib.sha256(salt + data).digest()


def seal(tag: bytes, document: Mapping[str, Any]) -> tuple[tuple[bytes, bytes], bytes, bytes]:
    """``((tag, commitment), salt, document bytes)`` for a new slot of *document*."""
    salt = secrets.token_bytes(SALT_BYTES)
    data = canonical_json(dict(document))
    return (tag, commitment(salt, data)), salt, data


def build_leaf(slots: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The leaf bytes of an entry with *slots* (padded with random slots, sorted)."""
    real = list(slots)
    width = MIN_SLOTS
    while width < len(real):
        width *= 2
    real += [(secrets.token_bytes(32), secrets.token_bytes(32)) for _ in range(width - len(real))]
    return canonical_json({"v": 3, "slots": sorted([t.hex(), c.hex()] for t, c in real)})


def slots_of(leaf: bytes) -> list[tuple[bytes, bytes]] | None:
    """The ``(tag, commitment)`` slots of a version-3 leaf (None: not a version-3 leaf)."""
    try:
        doc = json.loads(leaf)
        if not isinstance(doc, dict) or doc.get("v") != 3:
            return None
        return [(bytes.fromhex(t), bytes.fromhex(c)) for t, c in doc["slots"]]
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None


def opening_problem(
    slots: list[tuple[bytes, bytes]], tag: bytes | None, salt: bytes, data: bytes
) -> str | None:
    """Why (*salt*, *data*) is not committed in a slot with *tag* (None: it is). With
    *tag* None any slot will do (a reader that does not hold the party's tag key)."""
    want = commitment(salt, data)
    if any(c == want and (tag is None or t == tag) for t, c in slots):
        return None
    if tag is not None and not any(t == tag for t, _ in slots):
        return "the log entry has no slot for us"
    return "the content differs from what the log entry commits to"


def metadata(
    message: Mapping[str, Any], body_hash: bytes, logged_at: str, agreement_hash: bytes | None
) -> dict[str, Any]:
    """The sender's document of a message entry: what the leaf of version 2 showed publicly."""
    doc = {
        "kind": "message",
        "message_hash": body_hash.hex(),
        "sender": message["sender"],
        "type": message["type"],
        "msg_type": message["msg_type"],
        "sent_at": message["sent_at"],
        "logged_at": logged_at,
    }
    return doc | ({"agreement_sha256": agreement_hash.hex()} if agreement_hash else {})


def key_document(
    partner: str, pem: str, logged_at: str, rotation: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The public document of a key entry: a registration (*rotation* None) or a rotation
    statement signed by the previous key (:mod:`openbmd.exchange.rotation`)."""
    return {
        "kind": "partner_key",
        "partner": partner,
        "public_key_pem": pem,
        "logged_at": logged_at,
        "rotation": dict(rotation) if rotation is not None else None,
    }


def agreement_document(
    agreement: Mapping[str, Any], signature_b64: str | None, logged_at: str
) -> dict[str, Any]:
    """The sender's document of an agreement entry: the agreement and its signature."""
    return {
        "kind": "agreement",
        "agreement": dict(agreement),
        "signature_b64": signature_b64,
        "logged_at": logged_at,
    }
