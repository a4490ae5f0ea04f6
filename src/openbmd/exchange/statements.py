"""The sender's signature over its projections (issue 12.6): a coarse view checked against the
sender, not against the centre.

A full (L3) item carries the sender's signature over the whole message; a projected one (L0–L2)
cannot, since its recipient may not see the message. So the sender projects its own message at
L0, L1 and L2 (:func:`openbmd.exchange.policy.project`: public, deterministic rules), draws a
16-byte random salt per level and signs, with its own key, the RFC 8785 *projection
statement*::

    {"v": 1, "kind": "projections", "sender", "message_id", "message_sha256",
     "L0": hex, "L1": hex, "L2": hex}       L = SHA-256(salt_L ‖ RFC 8785 of project(message, L))

and submits the three salts and that signature beside the message (``projection`` in the
``POST /v1/messages`` body; :func:`sign_projections`). The centre rebuilds the statement from
the message and refuses the submission if the signature does not verify (an honest centre
never delivers a projection its sender did not sign). A recipient at level L is sent the
statement, its signature and salt_L — never the other salts, so the other levels' commitments
stay closed to it — and checks that its item is the projection the sender signed
(:func:`item_problem`) under the sender's logged key. An operator who alters a projected item
(before or after logging) or forges one cannot produce that signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from openbmd.exchange.policy import project
from openbmd.exchange.signing import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    canonical_json,
    load_public_key,
    sign,
    verify,
)

__all__ = ["PROJECTED", "check_submitted", "item_problem", "sign_projections", "statement_bytes"]

PROJECTED = ("L0", "L1", "L2")
"""The levels a projection statement covers (L3 items carry the message's own signature)."""


def _commit(salt: bytes, data: bytes) -> str:
    return hashlib.sha256(salt + data).hexdigest()


def statement_bytes(message: Mapping[str, Any], salts: Mapping[str, bytes]) -> bytes:
    """The RFC 8785 projection statement of *message* under the per-level *salts*."""
    return _statement(message, salts)[0]


def _statement(
    message: Mapping[str, Any], salts: Mapping[str, bytes]
) -> tuple[bytes, dict[str, bytes]]:
    """The statement and the RFC 8785 bytes of each projection it commits to."""
    views = {lv: canonical_json(project(message, lv)) for lv in PROJECTED}  # type: ignore[arg-type]
    doc: dict[str, Any] = {
        "v": 1,
        "kind": "projections",
        "sender": message["sender"],
        "message_id": message["message_id"],
        "message_sha256": hashlib.sha256(canonical_json(dict(message))).hexdigest(),
    }
    for level in PROJECTED:
        doc[level] = _commit(salts[level], views[level])
    return canonical_json(doc), views


def sign_projections(key: Ed25519PrivateKey, message: Mapping[str, Any]) -> dict[str, Any]:
    """The ``projection`` member of a submission: fresh salts and the sender's signature."""
    salts = {level: secrets.token_bytes(16) for level in PROJECTED}
    sig = sign(key, statement_bytes(message, salts))
    return {
        "salts_b64": {k: base64.b64encode(v).decode("ascii") for k, v in salts.items()},
        "signature": base64.b64encode(sig).decode("ascii"),
    }


Checked = tuple[bytes, bytes, dict[str, bytes], dict[str, bytes]]
"""``(statement, signature, salts, projections)``: a verified projection statement, the salts
and the RFC 8785 bytes of the projection of each level (the writer logs those, unchanged)."""


def check_submitted(
    message: Mapping[str, Any], doc: Mapping[str, Any], key: Ed25519PublicKey
) -> Checked | str:
    """The verified statement of a submitted ``projection`` *doc* (:data:`Checked`), or why
    it is not the sender's signature over *message*'s projections."""
    try:
        salts = {k: base64.b64decode(doc["salts_b64"][k], validate=True) for k in PROJECTED}
        sig = base64.b64decode(doc["signature"], validate=True)
    except (KeyError, TypeError, binascii.Error, ValueError):
        return "projection: malformed salts or signature"
    if any(len(s) != 16 for s in salts.values()):
        return "projection: each salt must be 16 bytes"
    data, views = _statement(message, salts)
    if not verify(key, data, sig):
        return "projection: the signature does not verify over the statement of this message"
    return data, sig, salts, views


def item_problem(item: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    """Why projected *item* is not what its sender signed under one of *keys* (PEM)."""
    where = f"item {item.get('index')}"
    carried = item.get("sender_statement")
    if not isinstance(carried, dict):
        return f"{where}: the projected item carries no signature of its sender"
    try:
        data = base64.b64decode(str(carried.get("statement_b64")), validate=True)
        sig = base64.b64decode(str(carried.get("signature")), validate=True)
        salt = base64.b64decode(str(carried.get("salt_b64")), validate=True)
        doc = json.loads(data)
    except (binascii.Error, ValueError):
        return f"{where}: the sender's statement is malformed"
    if not any(verify(load_public_key(pem), data, sig) for pem in keys):
        return f"{where}: the projection statement is not signed by the sender's logged key"
    level, message = item.get("level"), item.get("message")
    if (
        not isinstance(doc, dict)
        or not isinstance(message, dict)
        or doc.get("sender") != item.get("sender")
        or doc.get("message_id") != item.get("message_id")
        or level not in PROJECTED
    ):
        return f"{where}: the sender's statement is about another message"
    if doc.get(str(level)) != _commit(salt, canonical_json(message)):
        return f"{where}: the content differs from the projection its sender signed"
    return None
