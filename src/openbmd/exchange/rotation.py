"""Partner key rotation signed by the old key, and its verification by other partners.

A partner that replaces its key signs, with the **old** key, the RFC 8785 statement
``{"partner": name, "previous_fingerprint": old, "public_key_pem": new}``. The centre accepts a
rotation only with that signature and serves every statement it accepted with the partner
(``GET /v1/partners``, ``rotations``) and logs it as a key entry of its own
(:mod:`openbmd.exchange.entries`). A partner's verifier follows each partner's key through the
logged entries only by such statements, each signed by the previous logged key: an operator who
swaps a key in the database cannot produce one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
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

__all__ = ["rotation_problem", "sign_rotation", "statement_bytes"]


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
