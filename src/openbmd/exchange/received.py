"""What a partner received, checked against the log entry it carries (pure functions).

Every item of a partner's view (``GET /v1/messages``, the feed) carries ``leaf_b64``, the exact
log entry at its index. An item is *consistent with its leaf* when, for a version-3 leaf
(:mod:`openbmd.exchange.entries`):

* own message (level ``own``): the item's metadata document (``opening_b64``, under
  ``salt_b64``) is committed in a slot of the leaf, names the partner as sender, the item's
  type, and SHA-256 of the RFC 8785 bytes of the message as ``message_hash``;
* received item: SHA-256(salt ‖ RFC 8785 bytes of the item's message) is committed in a slot
  of the leaf, and the item's sender and type are those of its (committed) message;
* with the partner's tag key, that slot must carry the partner's tag for this index.

For a version-2 leaf (logged before the upgrade; it names its parties): the leaf's sender and
type are the item's; an own message matches the leaf's ``message_hash``; a received item's
``projections[partner]`` is SHA-256(salt ‖ RFC 8785 bytes) (version 1: no salt), and a full
(L3) one also matches ``message_hash``.

Whether the leaf itself is in the log is a separate check: its RFC 9162 leaf hash against a
signed checkpoint, by inclusion proof or by the entries a verifier fetched
(:mod:`openbmd.exchange.verify`). :func:`expected_for` says which entries a partner must have
been sent, so a verifier notices an item that was withheld or deleted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from openbmd.errors import InputError
from openbmd.exchange import entries
from openbmd.exchange.domain import Agreement
from openbmd.exchange.policy import projection_commitment
from openbmd.exchange.signing import canonical_json, load_public_key, verify

__all__ = [
    "agreement_problems",
    "commitment_of",
    "expected_for",
    "item_leaf",
    "item_problem",
    "parse_leaf",
    "routing_problems",
]


def parse_leaf(leaf: bytes) -> dict[str, Any] | None:
    """The JSON object of a log entry (None if it is not one)."""
    try:
        doc = json.loads(leaf)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def expected_for(leaf: Mapping[str, Any], partner: str) -> bool:
    """Must *partner*'s view hold the entry *leaf* (it sent it, or the leaf commits to it)?"""
    projections = leaf.get("projections")
    return leaf.get("sender") == partner or (
        isinstance(projections, dict) and partner in projections
    )


def commitment_of(data: bytes, salt: bytes | None) -> bytes:
    """The leaf's commitment to *data*: salted (version 2) or plain SHA-256 (version 1)."""
    return projection_commitment(salt, data) if salt is not None else hashlib.sha256(data).digest()


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"{what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not base64") from None


def item_leaf(item: Mapping[str, Any]) -> bytes:
    """The exact leaf bytes an item carries (``InputError`` if absent or malformed)."""
    return _b64(item.get("leaf_b64"), f"item {item.get('index')}: leaf_b64")


def _v3_problem(
    item: Mapping[str, Any],
    partner: str,
    slots: list[tuple[bytes, bytes]],
    salt: bytes | None,
    tag_key: bytes | None,
) -> str | None:
    where = f"item {item.get('index')}"
    message = item.get("message")
    index = item.get("index")
    if salt is None or not isinstance(message, dict) or not isinstance(index, int):
        return f"{where}: no salt, message or index to check against the log entry"
    tag = entries.party_tag(tag_key, index) if tag_key else None
    data = canonical_json(message)
    if item.get("level") == "own":
        try:
            opening = _b64(item.get("opening_b64"), f"{where}: opening_b64")
        except InputError as exc:
            return str(exc)
        meta = parse_leaf(opening)
        problem = entries.opening_problem(slots, tag, salt, opening)
        if problem is not None or meta is None:
            return f"{where}: {problem or 'the metadata is not JSON'}"
        if meta.get("sender") != partner or item.get("sender") != partner:
            return f"{where}: shown as our own message but sent by {meta.get('sender')!r}"
        if meta.get("message_hash") != hashlib.sha256(data).hexdigest():
            return f"{where}: our own message differs from what the log recorded"
        if meta.get("type") != item.get("type"):
            return f"{where}: sender or type differs from the log entry"
        return None
    if message.get("sender") != item.get("sender") or message.get("type") != item.get("type"):
        return f"{where}: sender or type differs from the committed message"
    problem = entries.opening_problem(slots, tag, salt, data)
    if problem is not None:
        return f"{where}: {problem} (for {partner!r})"
    return None


def item_problem(item: Mapping[str, Any], partner: str, tag_key: bytes | None = None) -> str | None:
    """Why *item* of *partner*'s view does not match the leaf it carries (None: it does).

    With *tag_key* (the partner's, from its signed log reads) the commitment must sit in the
    partner's own slot; without it in any slot of the leaf.
    """
    where = f"item {item.get('index')}"
    try:
        leaf_bytes = item_leaf(item)
        salt = _b64(item["salt_b64"], f"{where}: salt_b64") if item.get("salt_b64") else None
    except InputError as exc:
        return str(exc)
    slots = entries.slots_of(leaf_bytes)
    if slots is not None:
        return _v3_problem(item, partner, slots, salt, tag_key)
    leaf = parse_leaf(leaf_bytes)
    message = item.get("message")
    if leaf is None or not isinstance(message, dict):
        return f"{where}: the carried leaf or message is not a JSON object"
    if leaf.get("sender") != item.get("sender") or leaf.get("type") != item.get("type"):
        return f"{where}: sender or type differs from the log entry"
    data = canonical_json(message)
    full_hash = hashlib.sha256(data).hexdigest()
    if item.get("level") == "own":
        if item.get("sender") != partner:
            return f"{where}: shown as our own message but sent by {item.get('sender')!r}"
        if leaf.get("message_hash") != full_hash:
            return f"{where}: our own message differs from what the log recorded"
        return None
    projections = leaf.get("projections")
    committed = projections.get(partner) if isinstance(projections, dict) else None
    if not isinstance(committed, str):
        return f"{where}: the log entry commits to nothing for {partner!r}"
    if commitment_of(data, salt).hex() != committed:
        return f"{where}: the content differs from what the log committed to for {partner!r}"
    if item.get("level") == "L3" and leaf.get("message_hash") != full_hash:
        return f"{where}: the full message differs from the logged message hash"
    return None


def agreement_problems(
    docs: Sequence[Mapping[str, Any]], partner: str, own_keys: Sequence[str]
) -> tuple[set[str], list[str]]:
    """Check the agreements the centre serves *partner* (``GET /v1/agreements``).

    Every agreement in *partner*'s name must carry its signature (``signature_b64``) under one
    of its keys *own_keys* (PEM): otherwise the operator wrote or widened it. Returns the
    hex :meth:`Agreement.digest` of each validly signed one, and the problems.
    """
    digests: set[str] = set()
    problems: list[str] = []
    for doc in docs:
        if doc.get("sender") != partner:
            continue
        body = {k: v for k, v in doc.items() if k != "signature_b64"}
        try:
            agreement = Agreement.from_dict(body)
            sig = _b64(doc.get("signature_b64"), "signature_b64")
        except (InputError, KeyError, TypeError, ValueError):
            problems.append(f"agreement {doc.get('name')!r} in {partner!r}'s name is unsigned")
            continue
        data = canonical_json(agreement.to_dict())
        if not any(verify(load_public_key(pem), data, sig) for pem in own_keys):
            problems.append(f"agreement {agreement.name!r} is not signed by {partner!r}")
            continue
        digests.add(agreement.digest().hex())
    return digests, problems


def routing_problems(
    leaves: Sequence[tuple[int, bytes]],
    metadata: Sequence[tuple[int, Mapping[str, Any]]],
    partner: str,
    signed: set[str],
) -> list[str]:
    """Entries *partner* sent that name an agreement digest it did not sign: among the
    version-2 *leaves* ``(index, bytes)`` (public metadata) and the metadata documents of its
    version-3 entries (entries without ``agreement_sha256`` predate it and are skipped)."""
    docs = [
        (i, leaf) for i, b in leaves if (leaf := parse_leaf(b)) is not None and leaf.get("v") != 3
    ]
    out = []
    for index, doc in sorted([*docs, *metadata], key=lambda d: d[0]):
        if doc.get("sender") != partner or "agreement_sha256" not in doc:
            continue
        if doc["agreement_sha256"] not in signed:
            out.append(f"entry {index} was routed under an agreement {partner!r} did not sign")
    return out
