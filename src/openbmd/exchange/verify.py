"""Partner-side verification: check the log the centre serves, witness it, read an inbox.

A log that fails verification gives ``VerifyReport(ok=False, reason=…)`` from
:func:`verify_log` and raises :class:`~openbmd.exchange.client.LogVerificationError` from
:func:`run_witness`. Endpoints read: ``GET /v1/log/checkpoint``, ``/v1/log/key``,
``/v1/log/proof/consistency`` (public), ``/v1/log/entries`` (a signed read, with a partner's
key only); written: ``POST /v1/log/cosignatures``
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
from openbmd.exchange import merkle, note, partner_checks, received, signing
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
from openbmd.exchange.domain import CENTRE_SENDER
from openbmd.exchange.partner_checks import load_received

__all__ = [
    "FUTURE_SKEW_S",
    "LogVerificationError",
    "VerifyReport",
    "load_received",
    "read_inbox",
    "run_witness",
    "verify_log",
]

FUTURE_SKEW_S = 300.0
"""Clock difference tolerated for a checkpoint time in the future (s)."""


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
    partner: str | None = None  # whose view was checked
    items_checked: int = 0  # view or received items checked against the log
    items_pending: int = 0  # items beyond the verified checkpoint (checked by a later run)
    checkpoint_time: int | None = None  # POSIX s: the log's timestamp (or the quorum's)
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


def _resume(
    state: Mapping[str, Any], partner: str | None
) -> tuple[int, dict[merkle.NodeKey, bytes]]:
    """Where this run starts reading entries, and the saved right edge of the tree there.

    Incremental from the saved state when it holds the tree's right edge (and, for a view
    check, the view was checked up to the same size); otherwise from the first entry.
    """
    if "tree_size" not in state or not isinstance(state.get("frontier"), list):
        return 0, {}
    size = int(state["tree_size"])
    if partner is not None and state.get("view") != {"partner": partner, "size": size}:
        return 0, {}
    try:
        frontier = {
            (int(lv), int(ix)): b64_field(h, "saved frontier") for lv, ix, h in state["frontier"]
        }
    except (TypeError, ValueError):
        raise InputError("state file: malformed 'frontier'") from None
    return size, frontier


def _check_root(
    state: Mapping[str, Any],
    cp: note.Checkpoint,
    start: int,
    frontier: Mapping[merkle.NodeKey, bytes],
    hashes: list[bytes],
) -> dict[merkle.NodeKey, bytes]:
    """Check the checkpoint's root from the leaf hashes read; return the new right edge."""
    nodes = merkle.append_leaves(start, hashes, merkle.MappingReader(frontier))
    tree = dict(frontier) | {(lv, ix): h for lv, ix, h in nodes}
    if start == 0:  # everything read: the naive oracle, independent of the node algebra
        if merkle.root_from_leaves(hashes) != cp.root_hash:
            raise LogVerificationError(f"root recomputed from {cp.size} entries differs")
        old = int(state.get("tree_size", 0))
        if old and merkle.root_from_leaves(hashes[:old]) != b64_field(
            state["root_hash_b64"], "saved root"
        ):
            raise LogVerificationError("entries no longer match the saved checkpoint's root")
    else:
        if merkle.root_hash(start, merkle.MappingReader(frontier)) != b64_field(
            state["root_hash_b64"], "saved root"
        ):
            raise InputError("state file: the saved frontier does not give the saved root")
        if merkle.root_hash(cp.size, merkle.MappingReader(tree)) != cp.root_hash:
            raise LogVerificationError(
                f"root recomputed from the saved tree and {len(hashes)} new entries differs"
            )
    return {k: tree[k] for k in merkle.compact_range_keys(cp.size)}


def _cosigners(
    body: str, sigs: list[note.NoteSignature], witness_keys: Mapping[str, Ed25519PublicKey]
) -> dict[str, int]:
    """``{witness: cosignature time}`` for the witnesses among *witness_keys* whose
    cosignature of *body* verifies (a line that claims a known witness's key and fails is an
    error; unknown lines are ignored)."""
    out: dict[str, int] = {}
    for name, wkey in witness_keys.items():
        wid = note.key_id(name, note.SIG_TYPE_COSIGNATURE, wkey)
        for sig in (s for s in sigs if s.name == name and s.key_id == wid):
            ok, ts = note.verify_cosignature(body, sig, name, wkey)
            if not ok or ts is None:
                raise LogVerificationError(f"cosignature by witness {name!r} does not verify")
            out[name] = max(ts, out.get(name, ts))
    return out


def _log_time(body: str, sigs: list[note.NoteSignature], key: Ed25519PublicKey) -> int | None:
    """The time the log's own timestamp line (type 0x04 by the log key) states, if any."""
    for sig in sigs:
        if sig.key_id == note.key_id(sig.name, note.SIG_TYPE_COSIGNATURE, key):
            ok, ts = note.verify_cosignature(body, sig, sig.name, key)
            if not ok or ts is None:
                raise LogVerificationError("the log's timestamp signature does not verify")
            return ts
    return None


def _check_time(
    state: Mapping[str, Any], cp: note.Checkpoint, ts: int | None, max_age_s: float | None
) -> None:
    """The checkpoint's time: not in the future, not before a smaller saved tree's, and (with
    *max_age_s*) recent — a centre that keeps showing an old tree withholds newer entries."""
    now = time.time()
    if ts is not None and ts > now + FUTURE_SKEW_S:
        raise LogVerificationError(f"checkpoint time {ts} is in the future")
    saved = state.get("checkpoint_time")
    if (
        ts is not None
        and isinstance(saved, int)
        and cp.size > int(state["tree_size"])
        and ts < saved
    ):
        raise LogVerificationError(
            f"a larger tree ({cp.size}) is stamped {saved - ts} s before the saved one"
        )
    if max_age_s is not None:
        if ts is None:
            raise LogVerificationError("--max-age: the checkpoint carries no time")
        if now - ts > max_age_s:
            raise LogVerificationError(
                f"the checkpoint is {now - ts:.0f} s old (more than --max-age {max_age_s:g} s)"
            )


def verify_log(
    url: str,
    state_file: Path | str | None = None,
    log_public_key: Ed25519PublicKey | Path | str | None = None,
    *,
    witness_keys: Mapping[str, Ed25519PublicKey] | None = None,
    quorum: int = 0,
    max_age_s: float | None = None,
    partner: str | None = None,
    partner_key: Ed25519PrivateKey | Path | str | None = None,
    received_items: list[dict[str, Any]] | None = None,
    client: httpx.Client | None = None,
) -> VerifyReport:
    """Independently verify the log from its public endpoints; save state only on success.

    Checks: the checkpoint's signature by the log key (given, else pinned in *state_file*, else
    trusted on first use from ``GET /v1/log/key`` and pinned); against the saved checkpoint,
    the served consistency proof; cosignatures of any of *witness_keys* (a failing one is an
    error, unknown ones are ignored). With a partner's key (the entries are a signed read),
    also the root, recomputed from every entry's leaf hash (first run) or from the saved right
    edge of the tree and the new entries (incremental).

    With *quorum* K > 0 the checkpoint verified (and saved) is the largest one the centre holds
    K cosignatures for (``GET /v1/log/checkpoint/cosigned``), and at least K distinct
    *witness_keys* must have validly cosigned it: a view shown to this verifier and to no
    witness (a split view) fails.

    The checkpoint's time (the log's own timestamp line, or with a quorum the K-th newest
    cosignature) must not be in the future nor earlier than a smaller saved tree's; with
    *max_age_s* it must be at most that old.

    With *partner* and its *partner_key*, also what the partner is served: its view (signed
    reads) from where the last run stopped, every item against the log entry at its index and
    the commitment in the partner's slot there, that no entry with its tag is missing, the
    sender's signature on full-detail items under the sender's *logged* key (a registration
    entry, then rotations signed by the old key), that the keys the centre serves are the
    logged ones, and that the agreements it serves in the partner's name and routes its
    messages under are logged entries it signed (:mod:`partner_checks`). *received_items*
    (what the partner saved from its inbox or feed) are checked the same way.
    """
    path = Path(state_file) if state_file is not None else None
    state = _load_state(path)
    report = VerifyReport(ok=False, url=url, partner=partner)
    try:
        if not 0 <= quorum <= len(witness_keys or {}):
            raise InputError(
                f"--quorum: {quorum} needs at least as many --witness-key (got "
                f"{len(witness_keys or {})})",
                field="quorum",
            )
        if partner is not None and partner_key is None:
            raise InputError("--key-file: the partner's key is needed to read its view")
        pkey = partner_key
        if pkey is not None and not isinstance(pkey, Ed25519PrivateKey):
            pkey = signing.load_private_key(pkey)
        with session(client) as http:
            key, report.key_source = _log_key(url, log_public_key, state, http)
            report.key_fingerprint = signing.key_fingerprint(key)
            text = fetch_checkpoint(url, min_cosigners=quorum, client=http)
            body, cp, sigs = _signed_checkpoint(text, key)
            report.origin, report.tree_size = cp.origin, cp.size
            report.root_hash_b64 = base64.b64encode(cp.root_hash).decode("ascii")
            report.previous_size = _check_extends(url, state, cp, http)
            if received_items is not None and partner is None:
                raise InputError("--partner: needed to check received items")
            if partner is not None and pkey is not None:
                start, frontier = _resume(state, partner)
                records, tag_key = fetch_entries(url, start, cp.size, partner, pkey, client=http)
                pinned = state.get("tag_key_b64")
                pinned_tag = b64_field(pinned, "saved tag key") if start and pinned else b""
                if pinned_tag and tag_key and pinned_tag != tag_key:
                    raise LogVerificationError("the centre now serves us another tag key")
                tag_key = tag_key or pinned_tag  # no new entries: nothing was served
                frontier = _check_root(state, cp, start, frontier, [r.leaf_hash for r in records])
                report.entries_checked = len(records)
                tree = partner_checks.Verified(url, cp, start, records, http, tag_key)
                opened = partner_checks.opened_documents(tree, partner)
                keys = partner_checks.logged_keys(url, state, opened, http)
                # the centre's own entries (fused notifications) are signed by the log key
                item_keys = {**keys, CENTRE_SENDER: [signing.public_key_pem(key)]}
                signed = partner_checks.check_agreements(tree, partner, pkey, keys, opened, state)
                report.items_checked, report.items_pending = partner_checks.check_view(
                    tree, partner, pkey, item_keys, opened
                )
                if received_items is not None:
                    checked, pending = partner_checks.check_items(
                        tree, received_items, partner, item_keys
                    )
                    report.items_checked += checked
                    report.items_pending += pending
        cosigned = _cosigners(body, sigs, witness_keys or {})
        report.cosigners = list(cosigned)
        if len(report.cosigners) < quorum:
            raise LogVerificationError(
                f"only {len(report.cosigners)} of the required {quorum} witnesses "
                f"({', '.join(sorted(witness_keys or {}))}) cosigned the checkpoint"
            )
        # with a quorum, the checkpoint is as recent as its quorum-th newest cosignature
        stamps = sorted(cosigned.values(), reverse=True)
        log_time = _log_time(body, sigs, key)
        report.checkpoint_time = stamps[quorum - 1] if quorum else log_time
        _check_time(state, cp, report.checkpoint_time, max_age_s)
    except (LogVerificationError, InputError) as exc:
        report.reason = str(exc)
        return report
    report.ok = True
    if path is not None:
        extra: dict[str, Any] = {}
        if partner is not None:  # the entries were read: the right edge, keys, agreements
            extra["frontier"] = [
                [lv, ix, base64.b64encode(h).decode("ascii")] for (lv, ix), h in frontier.items()
            ]
            extra["view"] = {"partner": partner, "size": cp.size}
            extra["logged_keys"] = keys
            extra["agreement_digests"] = sorted(signed)
            extra["tag_key_b64"] = base64.b64encode(tag_key).decode("ascii")
        else:  # a log-only run keeps what the last partner run learnt
            extra |= {k: state[k] for k in ("logged_keys", "tag_key_b64") if k in state}
        if report.checkpoint_time is not None:
            extra["checkpoint_time"] = report.checkpoint_time
        _save_state(path, _state_of(url, cp, text, key, **extra))
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
        not (or the sender is unknown), None for a projected item (it carries no signature);
        and ``entry_ok``: whether the log entry the item carries commits to it
        (:func:`received.item_problem`; ``verify --partner`` also proves that entry is in the
        log).
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        private_key = signing.load_private_key(private_key)
    with session(client) as http:
        items = fetch_view(url, partner, private_key, after, client=http)
        keys = fetch_partner_keys(url, client=http) if items else {}
        if any(i.get("sender") == CENTRE_SENDER for i in items):  # fused notifications
            keys[CENTRE_SENDER] = fetch_log_key(url, client=http)
    for item in items:
        item["signature_ok"] = partner_checks.sender_signature_ok(item, keys)
        item["entry_ok"] = received.item_problem(item, partner) is None
    return items
