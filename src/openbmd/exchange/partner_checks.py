"""What one partner checks of what the centre served it (used by :mod:`verify`).

The partner reads the entries of the verified tree with a signed request
(:func:`~openbmd.exchange.client.fetch_entries`) and checks:

* **openings**: each opening it is shown (its own slots, the public ones) is committed in a slot
  with its tag (or the public tag) of that entry's leaf;
* **keys**: the key history of every partner is the log's — a registration entry, then only
  rotations signed by the previous logged key — and the key the centre serves
  (``GET /v1/partners``) is the last logged one (an operator who swaps a key in the database,
  or logs a second registration, is caught);
* **agreements**: every agreement entry in the partner's name is signed by it, every agreement
  the centre serves in its name is one of those, and every message it sent was routed under
  one of them;
* **items**: every item of its view (or saved from its inbox or feed) is the log's entry at its
  index and committed in its slot there (:mod:`openbmd.exchange.received`), full-detail items
  carry the sender's signature under a logged key, projected (L0–L2) items the sender's
  signature over its projections (:mod:`openbmd.exchange.statements`), and no entry with its
  tag (or, for old version-2 leaves, naming it) is missing.

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
from openbmd.exchange import entries, merkle, note, received, rotation, signing, statements
from openbmd.exchange.client import (
    LogRecord,
    LogVerificationError,
    fetch_agreements,
    fetch_inclusion_proof,
    fetch_partners,
    fetch_view,
)
from openbmd.exchange.domain import CENTRE_SENDER

__all__ = [
    "Verified",
    "check_agreements",
    "check_items",
    "check_view",
    "fail_on",
    "load_received",
    "logged_keys",
    "opened_documents",
    "sender_signature_ok",
]


@dataclass(frozen=True)
class Verified:
    """The tree a run verified: the centre, its checkpoint, the entries ``[start, size)`` read
    (and checked against the checkpoint) in this run, and the reader's tag key."""

    url: str
    cp: note.Checkpoint
    start: int
    records: list[LogRecord]
    http: httpx.Client
    tag_key: bytes = b""

    def tag(self, index: int) -> bytes:
        """The reader's tag in the entry at *index*."""
        return entries.party_tag(self.tag_key, index)


Opened = tuple[int, str, dict[str, Any]]
"""``(index, party, document)`` of a verified opening."""


def fail_on(problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise LogVerificationError("; ".join(problems[:3]) + more)


def opened_documents(tree: Verified, partner: str) -> list[Opened]:
    """The openings the reader was shown, each checked against its slot, and that it was
    shown every leaf (from the first version-3 one) and every public entry's opening."""
    out: list[Opened] = []
    problems: list[str] = []
    seen_v3 = False
    for rec in tree.records:
        slots = entries.slots_of(rec.leaf) if rec.leaf is not None else None
        seen_v3 = seen_v3 or slots is not None
        if slots is None:
            if seen_v3:
                problems.append(f"entry {rec.index}: the centre withheld a version-3 leaf")
            if rec.openings:
                problems.append(f"entry {rec.index}: an opening of a leaf that is not version 3")
            continue
        public = entries.public_tag(rec.index)
        for party, salt, data in rec.openings:
            if party not in (partner, entries.PUBLIC):
                problems.append(f"entry {rec.index}: an opening for {party!r}")
                continue
            tag = public if party == entries.PUBLIC else tree.tag(rec.index)
            problem = entries.opening_problem(slots, tag, salt, data)
            doc = received.parse_leaf(data)
            if problem is not None or doc is None:
                problems.append(f"entry {rec.index}: {problem or 'the document is not JSON'}")
                continue
            out.append((rec.index, party, doc))
        if any(t == public for t, _ in slots) and not any(
            p == entries.PUBLIC for p, _, _ in rec.openings
        ):
            problems.append(f"entry {rec.index} is public but its opening was withheld")
    fail_on(problems)
    return out


def logged_keys(
    url: str, state: Mapping[str, Any], opened: list[Opened], http: httpx.Client
) -> dict[str, list[str]]:
    """Each partner's logged keys (PEM, oldest first): the chains saved in *state* extended by
    the key entries read in this run, and the served keys checked against them."""
    saved = state.get("logged_keys")
    saved = saved if isinstance(saved, dict) else {}
    chains: dict[str, list[str]] = {
        str(k): list(v) for k, v in saved.items() if isinstance(v, list)
    }
    problems: list[str] = []
    for index, _, doc in (o for o in opened if o[2].get("kind") == "partner_key"):
        name, pem, step = (
            str(doc.get("partner")),
            str(doc.get("public_key_pem")),
            doc.get("rotation"),
        )
        chain = chains.get(name)
        if chain is None:
            if step is not None:
                problems.append(f"entry {index}: the first key of {name!r} is a rotation")
            chains[name] = [signing.public_key_pem(signing.load_public_key(pem))]
            continue
        if not isinstance(step, dict):
            problems.append(
                f"entry {index}: the key of {name!r} changed without a rotation signed by the "
                "old key"
            )
            continue
        why = rotation.rotation_problem(step, name, signing.load_public_key(chain[-1]))
        if why is not None or step.get("public_key_pem") != pem:
            problems.append(f"entry {index}: {why or 'the rotation names another key'}")
            continue
        chain.append(signing.public_key_pem(signing.load_public_key(pem)))
    for row in fetch_partners(url, client=http):
        name = str(row.get("name"))
        served = signing.key_fingerprint(signing.load_public_key(str(row.get("public_key_pem"))))
        chain = chains.get(name)
        last = signing.key_fingerprint(signing.load_public_key(chain[-1])) if chain else None
        if last != served:
            problems.append(
                f"the key of {name!r} the centre serves ({served[:16]}…) is not its last key in "
                f"the log ({last[:16] + '…' if last else 'none'})"
            )
    fail_on(problems)
    return chains


def check_agreements(
    tree: Verified,
    partner: str,
    key: Ed25519PrivateKey,
    keys: Mapping[str, list[str]],
    opened: list[Opened],
    state: Mapping[str, Any],
) -> set[str]:
    """Every agreement the centre serves in *partner*'s name is signed by it and is a logged
    agreement entry, and each entry it sent was routed under a logged agreement it signed (now
    or in an earlier run); return the digests of those."""
    own_keys = keys.get(partner, [])
    # an unsigned or badly signed agreement entry in our name harms only if the centre serves
    # it or routes under it: both are checked below
    logged, _ = received.agreement_problems(
        [
            dict(doc["agreement"]) | {"signature_b64": doc.get("signature_b64")}
            for _, _, doc in opened
            if doc.get("kind") == "agreement" and isinstance(doc.get("agreement"), dict)
        ],
        partner,
        own_keys,
    )
    earlier = state.get("agreement_digests")
    logged |= {str(d) for d in earlier} if isinstance(earlier, list) else set()
    served, problems = received.agreement_problems(
        fetch_agreements(tree.url, partner, key, client=tree.http), partner, own_keys
    )
    problems += [
        f"agreement {d[:16]}… the centre applies in our name is not in the log"
        for d in sorted(served - logged)
    ]
    metas = [
        (i, doc)
        for i, _, doc in opened
        if doc.get("kind") == "message" and doc.get("sender") == partner
    ]
    old = [(r.index, r.leaf) for r in tree.records if r.leaf is not None]
    problems += received.routing_problems(old, metas, partner, logged)
    fail_on(problems)
    return logged


def check_items(
    tree: Verified,
    items: list[dict[str, Any]],
    partner: str,
    keys: Mapping[str, list[str]],
) -> tuple[int, int]:
    """Check received *items* against the verified tree; return (checked, pending).

    An item's carried entry must be the log's entry at its index (compared with the entries
    read in this run, else proven by an inclusion proof against the checkpoint) and must
    commit to the item in the reader's slot (:func:`received.item_problem`); a full (L3) or
    own item must carry the sender's signature under one of the sender's logged keys (*keys*).
    Items beyond the checkpoint are pending (checked by a later run).
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
            in_log = merkle.leaf_hash(leaf) == tree.records[index - tree.start].leaf_hash
        else:
            cp = tree.cp
            proof = fetch_inclusion_proof(tree.url, index, cp.size, client=tree.http)
            in_log = merkle.verify_inclusion(
                merkle.leaf_hash(leaf), index, cp.size, proof, cp.root_hash
            )
        problem = received.item_problem(item, partner, tree.tag_key or None)
        sender = str(item.get("sender"))
        if (
            problem is None
            and item.get("level") in statements.PROJECTED
            and sender != CENTRE_SENDER  # the centre's own entries: the operator is the sender
            and entries.slots_of(leaf) is not None  # logged before 12.6: nothing to check
        ):
            problem = statements.item_problem(item, keys.get(sender, []))
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
    opened: list[Opened],
) -> tuple[int, int]:
    """Read *partner*'s view from *start* and check it item by item against the log, and that
    every entry of ``[start, size)`` it sent or has a slot in is there (nothing withheld)."""
    start = tree.start
    items = fetch_view(tree.url, partner, key, start - 1, client=tree.http)
    seen: set[int] = set()
    for item in items:
        index = item.get("index")
        if isinstance(index, int) and (index < start or index in seen):
            raise LogVerificationError(f"the view repeats or goes back to index {index}")
        seen.add(index)  # type: ignore[arg-type]
    result = check_items(tree, items, partner, keys)
    agreements = {i for i, _, doc in opened if doc.get("kind") == "agreement"}
    missing = []
    for rec in tree.records:
        if rec.index in seen or rec.leaf is None or rec.index in agreements:
            continue
        slots = entries.slots_of(rec.leaf)
        if slots is not None:
            addressed = any(t == tree.tag(rec.index) for t, _ in slots)
        else:
            doc = received.parse_leaf(rec.leaf)
            addressed = doc is not None and received.expected_for(doc, partner)
        if addressed:
            missing.append(rec.index)
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
