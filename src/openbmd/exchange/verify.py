"""Partner-side verification: check the log the centre serves, witness it, read an inbox.

A log that fails verification gives ``VerifyReport(ok=False, reason=…)`` from
:func:`verify_log` and raises :class:`~openbmd.exchange.client.LogVerificationError` from
:func:`run_witness`. Endpoints read: ``GET /v1/log/checkpoint``, ``/v1/log/key``,
``/v1/log/entries``, ``/v1/log/proof/consistency``; written: ``POST /v1/log/cosignatures``
(format in :func:`run_witness`). State files are JSON, written atomically (temp file, fsync,
rename).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openbmd.errors import InputError
from openbmd.exchange import merkle, note, signing
from openbmd.exchange.client import (
    LogVerificationError,
    b64_field,
    fetch_checkpoint,
    fetch_consistency_proof,
    fetch_entries,
    fetch_log_key,
    fetch_partner_keys,
    fetch_view,
    request,
    session,
)

__all__ = ["LogVerificationError", "VerifyReport", "read_inbox", "run_witness", "verify_log"]


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_log`; ``ok`` is False with a one-line ``reason`` on failure."""

    ok: bool
    url: str
    origin: str | None = None
    tree_size: int | None = None
    root_hash_b64: str | None = None
    previous_size: int | None = None
    entries_checked: int = 0
    key_fingerprint: str | None = None
    key_source: str | None = None  # "given", "pinned" or "first-use"
    cosigners: list[str] = field(default_factory=list)  # witnesses whose cosignature verified
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the report."""
        return asdict(self)


def _load_state(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable state file: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: state file is not a JSON object")
    return data


def _save_state(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _log_key(
    url: str,
    given: Ed25519PublicKey | Path | str | None,
    state: Mapping[str, Any],
    http: httpx.Client,
) -> tuple[Ed25519PublicKey, str]:
    """The log key to trust and where it came from: given > pinned in state > first use."""
    pinned = signing.load_public_key(state["log_key_pem"]) if "log_key_pem" in state else None
    if given is not None:
        key = given if isinstance(given, Ed25519PublicKey) else signing.load_public_key(given)
        if pinned is not None and signing.key_fingerprint(pinned) != signing.key_fingerprint(key):
            raise LogVerificationError("the given log key differs from the one pinned in state")
        return key, "given"
    if pinned is not None:
        served = fetch_log_key(url, client=http)
        if signing.key_fingerprint(served) != signing.key_fingerprint(pinned):
            raise LogVerificationError("the log now serves a different key than the pinned one")
        return pinned, "pinned"
    return fetch_log_key(url, client=http), "first-use"


def _state_of(
    url: str, cp: note.Checkpoint, text: str, log_key: Ed25519PublicKey, **extra: Any
) -> dict[str, Any]:
    """The JSON state recording a verified checkpoint (and the log key now pinned)."""
    root = base64.b64encode(cp.root_hash).decode("ascii")
    state = {"version": 1, "url": url, "origin": cp.origin, "tree_size": cp.size}
    state.update(root_hash_b64=root, checkpoint=text, log_key_pem=signing.public_key_pem(log_key))
    return state | extra


def _signed_checkpoint(
    text: str, key: Ed25519PublicKey
) -> tuple[str, note.Checkpoint, list[note.NoteSignature]]:
    try:
        return note.open_checkpoint(text, key)
    except note.NoteError as exc:
        raise LogVerificationError(f"checkpoint: {exc}") from None


def _check_extends(
    url: str, state: Mapping[str, Any], cp: note.Checkpoint, http: httpx.Client
) -> int | None:
    """Check *cp* is consistent with the checkpoint saved in *state*; return the old size."""
    if "tree_size" not in state:
        return None
    if state.get("origin") != cp.origin:
        raise LogVerificationError(f"origin {cp.origin!r} differs from saved {state['origin']!r}")
    old_size, old_root = int(state["tree_size"]), b64_field(state["root_hash_b64"], "saved root")
    if cp.size < old_size:
        raise LogVerificationError(f"log shrank from {old_size} to {cp.size} entries")
    if cp.size == old_size and cp.root_hash != old_root:
        raise LogVerificationError(f"fork: a different root for the saved size {old_size}")
    proof = fetch_consistency_proof(url, old_size, cp.size, client=http)
    if not merkle.verify_consistency(old_size, cp.size, old_root, cp.root_hash, proof):
        raise LogVerificationError(
            f"checkpoint of size {cp.size} is not consistent with the saved one of size {old_size}"
        )
    return old_size


def verify_log(
    url: str,
    state_file: Path | str | None = None,
    log_public_key: Ed25519PublicKey | Path | str | None = None,
    *,
    witness_keys: Mapping[str, Ed25519PublicKey] | None = None,
    client: httpx.Client | None = None,
) -> VerifyReport:
    """Independently verify the log from its public endpoints; save state only on success.

    Checks: the checkpoint's signature by the log key (given, else pinned in *state_file*, else
    trusted on first use from ``GET /v1/log/key`` and pinned); the root recomputed from every
    entry with :func:`merkle.root_from_leaves`; against the saved checkpoint, both the served
    consistency proof and the root of the first *saved size* entries; cosignatures of any of
    *witness_keys* (a failing one is an error, unknown ones are ignored).
    """
    path = Path(state_file) if state_file is not None else None
    state = _load_state(path)
    report = VerifyReport(ok=False, url=url)
    try:
        with session(client) as http:
            key, report.key_source = _log_key(url, log_public_key, state, http)
            report.key_fingerprint = signing.key_fingerprint(key)
            text = fetch_checkpoint(url, client=http)
            body, cp, sigs = _signed_checkpoint(text, key)
            report.origin, report.tree_size = cp.origin, cp.size
            report.root_hash_b64 = base64.b64encode(cp.root_hash).decode("ascii")
            report.previous_size = _check_extends(url, state, cp, http)
            leaves = [merkle.leaf_hash(e) for e in fetch_entries(url, 0, cp.size, client=http)]
        report.entries_checked = len(leaves)
        if merkle.root_from_leaves(leaves) != cp.root_hash:
            raise LogVerificationError(f"root recomputed from {cp.size} entries differs")
        if report.previous_size is not None:
            old_root = b64_field(state["root_hash_b64"], "saved root")
            if merkle.root_from_leaves(leaves[: report.previous_size]) != old_root:
                raise LogVerificationError("entries no longer match the saved checkpoint's root")
        for name, wkey in (witness_keys or {}).items():
            wid = note.key_id(name, note.SIG_TYPE_COSIGNATURE, wkey)
            for sig in (s for s in sigs if s.name == name and s.key_id == wid):
                if not note.verify_cosignature(body, sig, name, wkey)[0]:
                    raise LogVerificationError(f"cosignature by witness {name!r} does not verify")
                report.cosigners.append(name)
    except (LogVerificationError, InputError) as exc:
        report.reason = str(exc)
        return report
    report.ok = True
    if path is not None:
        _save_state(path, _state_of(url, cp, text, key))
    return report


def run_witness(
    url: str,
    key_file: Path | str,
    name: str,
    state_file: Path | str,
    *,
    log_public_key: Ed25519PublicKey | Path | str | None = None,
    timestamp: int | None = None,
    client: httpx.Client | None = None,
) -> str:
    """Cosign the log's current checkpoint as witness *name*; return the cosignature line.

    Follows C2SP tlog-witness semantics, pulled by the witness: verify the log signature (key
    given, else pinned in *state_file*, else first use), verify consistency with the last
    checkpoint this witness cosigned (refusing a smaller tree or a different root at equal
    size), record the new checkpoint in *state_file* **before** releasing the cosignature (so a
    crash can never lead to cosigning a fork), then post it.

    Wire format: ``POST /v1/log/cosignatures`` with ``Content-Type: text/plain; charset=utf-8``
    and as body the signed note ``<checkpoint body>\\n— <name> <base64(keyID ‖ ts ‖ sig)>\\n``
    (the exact checkpoint body served, a blank line, exactly one type-0x04 cosignature line).
    The server verifies it against the key registered for *name* and stores it; the answer is
    JSON. Raises :class:`LogVerificationError` if the log misbehaves.
    """
    key = signing.load_private_key(key_file)
    path = Path(state_file)
    state = _load_state(path)
    with session(client) as http:
        log_key, _ = _log_key(url, log_public_key, state, http)
        text = fetch_checkpoint(url, client=http)
        body, cp, _ = _signed_checkpoint(text, log_key)
        _check_extends(url, state, cp, http)
        ts = int(time.time()) if timestamp is None else timestamp
        line = note.cosign_checkpoint(body, name, key, ts)
        _save_state(path, _state_of(url, cp, text, log_key, witness=name, cosigned_at=ts))
        posted = note.assemble_note(body, [line]).encode("utf-8")
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        request(http, "POST", url, "/v1/log/cosignatures", content=posted, headers=headers)
    return line


def read_inbox(
    url: str,
    partner: str,
    private_key: Ed25519PrivateKey | Path | str,
    after: int = -1,
    *,
    client: httpx.Client | None = None,
) -> list[dict[str, Any]]:
    """What *partner* was sent (and sent itself) after *after*, each sender signature checked.

    Parameters are those of :func:`~openbmd.exchange.client.fetch_view`; *private_key* may
    also be the path of the partner's key file.

    Returns
    -------
    list[dict[str, Any]]
        The ``ViewItem`` documents, each with ``signature_ok``: True when the sender's
        Ed25519 signature over the RFC 8785 form of the message verifies, False when it does
        not (or the sender is unknown), None for a projected item (it carries no signature).
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        private_key = signing.load_private_key(private_key)
    with session(client) as http:
        items = fetch_view(url, partner, private_key, after, client=http)
        keys = fetch_partner_keys(url, client=http) if items else {}
    for item in items:
        item["signature_ok"] = _sender_signature_ok(item, keys)
    return items


def _sender_signature_ok(
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
