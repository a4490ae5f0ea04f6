"""What one partner checks of what the centre served it (used by :mod:`verify`).

* **keys**: each partner's key pinned on first use, then followed only through rotations
  signed by the old key (:mod:`openbmd.exchange.rotation`);
* **agreements**: every agreement in the partner's name signed by it, and each entry it sent
  routed under one it signed;
* **items**: every item of its view (or saved from its inbox or feed) is the log's entry at its
  index and committed there (:mod:`openbmd.exchange.received`), full-detail items carry the
  sender's signature, and no entry addressed to it is missing.

Each check raises :class:`~openbmd.exchange.client.LogVerificationError` naming what is wrong.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openbmd.errors import InputError
from openbmd.exchange import merkle, note, received, rotation, signing
from openbmd.exchange.client import (
    LogVerificationError,
    fetch_agreements,
    fetch_inclusion_proof,
    fetch_partners,
    fetch_view,
)

__all__ = [
    "Verified",
    "check_agreements",
    "check_items",
    "check_view",
    "fail_on",
    "load_received",
    "partner_keys",
    "sender_signature_ok",
]


@dataclass(frozen=True)
class Verified:
    """The tree a run verified: the centre, its checkpoint, and the entries ``[start, size)``
    read (and checked against the checkpoint) in this run."""

    url: str
    cp: note.Checkpoint
    start: int
    leaves: list[bytes]
    http: httpx.Client


def partner_keys(url: str, state: Mapping[str, Any], http: httpx.Client) -> dict[str, list[str]]:
    """Each partner's trusted keys (PEM, oldest first): from the key pinned in *state* (or, on
    first use, the first one served) to the served one, by rotations signed by the old key."""
    pinned = state.get("partner_keys")
    pinned = pinned if isinstance(pinned, dict) else {}
    out: dict[str, list[str]] = {k: list(v) for k, v in pinned.items() if isinstance(v, list)}
    problems: list[str] = []
    for row in fetch_partners(url, client=http):
        name, pem = str(row.get("name")), str(row.get("public_key_pem"))
        rotations = row.get("rotations")
        steps = [r for r in rotations if isinstance(r, dict)] if isinstance(rotations, list) else []
        known = out.get(name)
        chain = rotation.key_chain(name, known[-1] if known else None, pem, steps)
        if isinstance(chain, str):
            problems.append(chain)
        else:
            out[name] = (known or [])[:-1] + chain
    fail_on(problems)
    return out


def check_agreements(
    tree: Verified,
    partner: str,
    key: Ed25519PrivateKey,
    keys: Mapping[str, list[str]],
    state: Mapping[str, Any],
) -> set[str]:
    """Every agreement in *partner*'s name is signed by it, and each of its entries read in this
    run was routed under one it signed (now or in an earlier run); return those digests."""
    docs = fetch_agreements(tree.url, partner, key, client=tree.http)
    signed, problems = received.agreement_problems(docs, partner, keys.get(partner, []))
    earlier = state.get("agreement_digests")
    signed |= {str(d) for d in earlier} if isinstance(earlier, list) else set()
    fail_on(problems + received.routing_problems(tree.leaves, tree.start, partner, signed))
    return signed


def fail_on(problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise LogVerificationError("; ".join(problems[:3]) + more)


def check_items(
    tree: Verified,
    items: list[dict[str, Any]],
    partner: str,
    keys: Mapping[str, list[str]],
) -> tuple[int, int]:
    """Check received *items* against the verified tree; return (checked, pending).

    An item's carried entry must be the log's entry at its index (compared with the entries
    read in this run, else proven by an inclusion proof against the checkpoint) and must
    commit to the item (:func:`received.item_problem`); a full (L3) or own item must carry
    the sender's signature under the sender's trusted key (*keys*). Items beyond the
    checkpoint are pending (checked by a later run).
    """
    checked = pending = 0
    problems: list[str] = []
    for item in items:
        index = item.get("index")
        if not isinstance(index, int) or index < 0:
            problems.append(f"item with index {index!r}")
            continue
        if index >= tree.cp.size:
            pending += 1
            continue
        try:
            leaf = received.item_leaf(item)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if index >= tree.start:
            in_log = leaf == tree.leaves[index - tree.start]
        else:
            cp = tree.cp
            proof = fetch_inclusion_proof(tree.url, index, cp.size, client=tree.http)
            in_log = merkle.verify_inclusion(
                merkle.leaf_hash(leaf), index, cp.size, proof, cp.root_hash
            )
        problem = received.item_problem(item, partner)
        if problem is None and item.get("level") in ("L3", "own"):
            sender = str(item.get("sender"))
            if not any(
                sender_signature_ok(item, {sender: signing.load_public_key(pem)})
                for pem in keys.get(sender, [])
            ):
                problem = f"item {index}: the sender's signature does not verify under its keys"
        if not in_log:
            problems.append(f"item {index}: the entry it carries is not the log's entry {index}")
        elif problem is not None:
            problems.append(problem)
        checked += 1
    fail_on(problems)
    return checked, pending


def check_view(
    tree: Verified,
    partner: str,
    key: Ed25519PrivateKey,
    keys: Mapping[str, list[str]],
) -> tuple[int, int]:
    """Read *partner*'s view from *start* and check it item by item against the log, and that
    every entry of ``[start, size)`` it sent or is committed to is there (nothing withheld)."""
    start = tree.start
    items = fetch_view(tree.url, partner, key, start - 1, client=tree.http)
    seen: set[int] = set()
    for item in items:
        index = item.get("index")
        if isinstance(index, int) and (index < start or index in seen):
            raise LogVerificationError(f"the view repeats or goes back to index {index}")
        seen.add(index)  # type: ignore[arg-type]
    result = check_items(tree, items, partner, keys)
    missing = [
        start + off
        for off, entry in enumerate(tree.leaves)
        if start + off not in seen
        and (doc := received.parse_leaf(entry)) is not None
        and received.expected_for(doc, partner)
    ]
    fail_on([f"entry {i} is addressed to {partner!r} but missing from its view" for i in missing])
    return result


def load_received(path: Path | str) -> list[dict[str, Any]]:
    """Items a partner saved (``inbox --json`` output, a ``{"items": …}`` page, or feed frames
    one JSON object per line)."""
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise InputError(f"--received: {exc}", field="received") from None
    try:
        doc: Any = json.loads(text)
    except ValueError:
        try:
            doc = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            raise InputError(f"--received: {path} is not JSON", field="received") from None
    if isinstance(doc, dict):
        doc = doc.get("items", [doc])
    if not isinstance(doc, list) or not all(isinstance(i, dict) for i in doc):
        raise InputError(f"--received: {path} holds no list of items", field="received")
    return doc


def sender_signature_ok(
    item: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]
) -> bool | None:
    sig = item.get("signature")
    if sig is None:
        return None
    key = keys.get(str(item.get("sender")))
    message = item.get("message")
    if key is None or not isinstance(message, dict) or not isinstance(sig, str):
        return False
    try:
        return signing.verify(key, signing.canonical_json(message), base64.b64decode(sig))
    except (InputError, ValueError):
        return False
