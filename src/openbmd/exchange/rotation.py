"""Partner key rotation signed by the old key, and its verification by other partners.

A partner that replaces its key signs, with the **old** key, the RFC 8785 statement
``{"partner": name, "previous_fingerprint": old, "public_key_pem": new}``. The centre accepts a
rotation only with that signature and serves every statement it accepted with the partner
(``GET /v1/partners``, ``rotations``). A partner that pinned another partner's key (its
``verify`` state) accepts a different served key only through an unbroken chain of such
statements from the pinned key: an operator who swaps a key in the database cannot produce one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from openbmd.errors import InputError
from openbmd.exchange.signing import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    canonical_json,
    key_fingerprint,
    load_public_key,
    public_key_pem,
    sign,
    verify,
)

__all__ = ["key_chain", "rotation_problem", "sign_rotation", "statement_bytes"]


def statement_bytes(partner: str, previous_pem: str, new_pem: str) -> bytes:
    """The RFC 8785 bytes the old key signs."""
    doc = {"partner": partner, "previous_public_key_pem": previous_pem}
    return canonical_json(doc | {"public_key_pem": new_pem})


def sign_rotation(partner: str, old: Ed25519PrivateKey, new: Ed25519PublicKey) -> dict[str, Any]:
    """The rotation statement of *partner* from key *old* to *new*, signed by *old*."""
    previous, pem = public_key_pem(old.public_key()), public_key_pem(new)
    sig = sign(old, statement_bytes(partner, previous, pem))
    return {
        "partner": partner,
        "previous_public_key_pem": previous,
        "public_key_pem": pem,
        "signature_b64": base64.b64encode(sig).decode("ascii"),
    }


def rotation_problem(doc: Mapping[str, Any], partner: str, old: Ed25519PublicKey) -> str | None:
    """Why *doc* is not a valid rotation of *partner* away from key *old* (None: it is)."""
    try:
        previous, pem = str(doc["previous_public_key_pem"]), str(doc["public_key_pem"])
        sig = base64.b64decode(str(doc["signature_b64"]), validate=True)
        claimed = key_fingerprint(load_public_key(previous))
        load_public_key(pem)
    except (KeyError, binascii.Error, ValueError, InputError):
        return f"rotation of {partner!r}: malformed statement"
    if doc.get("partner") != partner or claimed != key_fingerprint(old):
        return f"rotation of {partner!r}: not a statement about key {key_fingerprint(old)[:16]}…"
    if not verify(old, statement_bytes(partner, previous, pem), sig):
        return f"rotation of {partner!r}: not signed by its old key {claimed[:16]}…"
    return None


def key_chain(
    partner: str, pinned_pem: str | None, served_pem: str, rotations: Sequence[Mapping[str, Any]]
) -> list[str] | str:
    """The keys (PEM, oldest first) from *pinned_pem* to *served_pem* by valid rotations, or
    why there is no such chain. Without a pinned key the chain starts at the first key the
    rotations name (trusted on first use) — or is just the served key."""
    first = pinned_pem
    if first is None:
        first = str(rotations[0].get("previous_public_key_pem")) if rotations else served_pem
    try:
        current = load_public_key(first)
        target = key_fingerprint(load_public_key(served_pem))
    except InputError:
        return f"the key of {partner!r} is not an Ed25519 public key"
    chain = [public_key_pem(current)]
    for _ in range(len(rotations) + 1):
        if key_fingerprint(current) == target:
            return chain
        step = next(
            (r for r in rotations if rotation_problem(r, partner, current) is None),
            None,
        )
        if step is None:
            break
        current = load_public_key(str(step["public_key_pem"]))
        chain.append(public_key_pem(current))
    pinned = key_fingerprint(load_public_key(first))
    return (
        f"the key of {partner!r} changed from {pinned[:16]}… to {target[:16]}… "
        "without a rotation signed by the old key"
    )
