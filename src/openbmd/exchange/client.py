"""Partner-side HTTP client of the exchange centre: submit, verify the log, witness it.

Functions take the centre's base URL (``http://127.0.0.1:8000``) and an optional ``client``
(any ``httpx.Client``, e.g. Starlette's ``TestClient``). HTTP failures raise
:class:`ExchangeHTTPError` (with the RFC 7807 problem document if any); a log that fails
verification gives ``VerifyReport(ok=False, reason=…)`` from :func:`verify_log` and raises
:class:`LogVerificationError` from :func:`run_witness`. Endpoints: ``GET /v1/log/checkpoint``,
``/v1/log/key``, ``/v1/log/entries``, ``/v1/log/proof/{inclusion,consistency}``;
``POST /v1/messages`` and ``/v1/log/cosignatures`` (formats in :func:`submit_message` and
:func:`run_witness`). State files are JSON, written atomically (temp file, fsync, rename).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openbmd.errors import InputError, OpenBMDError
from openbmd.exchange import merkle, note, signing

PARTNER_HEADER = "X-OpenBMD-Partner"
TIMEOUT = httpx.Timeout(30.0)


class ExchangeHTTPError(OpenBMDError):
    """The centre answered with an HTTP error (or could not be reached)."""

    def __init__(self, message: str, status: int | None = None, problem: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


class LogVerificationError(OpenBMDError):
    """The log's checkpoint, entries or proofs do not verify: it is broken or misbehaving."""


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


@contextlib.contextmanager
def _session(client: httpx.Client | None) -> Iterator[httpx.Client]:
    own = httpx.Client(timeout=TIMEOUT) if client is None else contextlib.nullcontext(client)
    with own as http:
        yield http


def _request(
    client: httpx.Client | None, method: str, url: str, path: str, **kwargs: Any
) -> httpx.Response:
    full = url.rstrip("/") + path
    try:
        with _session(client) as http:
            resp = http.request(method, full, **kwargs)
    except httpx.HTTPError as exc:
        raise ExchangeHTTPError(f"{method} {full}: {exc}") from None
    if resp.status_code >= 400:
        problem: Any = None
        with contextlib.suppress(ValueError):
            problem = resp.json()
        found = problem if isinstance(problem, dict) else {}
        detail = str(found.get("detail") or found.get("title") or resp.text[:300])
        raise ExchangeHTTPError(
            f"{method} {full}: HTTP {resp.status_code}: {detail}", resp.status_code, problem
        )
    return resp


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        raise ExchangeHTTPError(f"{resp.request.url}: answer is not JSON") from None
    if not isinstance(data, dict):
        raise ExchangeHTTPError(f"{resp.request.url}: answer is not a JSON object")
    return data


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise LogVerificationError(f"{what} is not a base64 string")
    try:
        return note.b64decode_strict(text, what)
    except note.NoteError as exc:
        raise LogVerificationError(str(exc)) from None


def fetch_checkpoint(url: str, *, client: httpx.Client | None = None) -> str:
    """The current signed checkpoint note, as text (unverified)."""
    return _request(client, "GET", url, "/v1/log/checkpoint").text


def fetch_log_key(url: str, *, client: httpx.Client | None = None) -> Ed25519PublicKey:
    """The log's public key as served at ``GET /v1/log/key`` (to be pinned, not trusted)."""
    return signing.load_public_key(_request(client, "GET", url, "/v1/log/key").text)


def fetch_entries(
    url: str, start: int, end: int, *, client: httpx.Client | None = None
) -> list[bytes]:
    """Exact leaf bytes of entries ``start … end-1``, following the server's page cap."""
    out: list[bytes] = []
    with _session(client) as http:
        while start + len(out) < end:
            at = start + len(out)
            page = _json(_request(http, "GET", url, f"/v1/log/entries?start={at}&end={end}"))
            entries = page.get("entries")
            if not isinstance(entries, list) or not entries:
                raise LogVerificationError(f"log returned no entries at index {at} (< {end})")
            for i, entry in enumerate(entries[: end - at]):
                if not isinstance(entry, dict) or entry.get("index") != at + i:
                    raise LogVerificationError(f"log entry {at + i} is missing or out of order")
                out.append(_b64(entry.get("leaf_b64"), f"leaf {at + i}"))
    return out


def _proof(
    client: httpx.Client | None, url: str, what: str, query: Mapping[str, int]
) -> list[bytes]:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    data = _json(_request(client, "GET", url, f"/v1/log/proof/{what}?{params}"))
    if any(data.get(k) != v for k, v in query.items()):
        raise LogVerificationError(f"{what} proof answers for other sizes than {params}")
    hashes = data.get("hashes_b64")
    if not isinstance(hashes, list):
        raise LogVerificationError(f"{what} proof has no hashes_b64 list")
    out = [_b64(h, f"{what} proof hash") for h in hashes]
    if any(len(h) != merkle.HASH_SIZE for h in out):
        raise LogVerificationError(f"{what} proof hash is not {merkle.HASH_SIZE} bytes")
    return out


def fetch_inclusion_proof(
    url: str, index: int, tree_size: int, *, client: httpx.Client | None = None
) -> list[bytes]:
    """Audit path of leaf *index* in the tree of *tree_size* leaves (unverified)."""
    return _proof(client, url, "inclusion", {"index": index, "tree_size": tree_size})


def fetch_consistency_proof(
    url: str, first: int, second: int, *, client: httpx.Client | None = None
) -> list[bytes]:
    """Consistency proof between tree sizes *first* ≤ *second* (unverified)."""
    return _proof(client, url, "consistency", {"first": first, "second": second})


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


def submit_message(
    url: str,
    partner: str,
    private_key: Ed25519PrivateKey | Path | str,
    payload: Mapping[str, Any],
    *,
    seq_file: Path | str | None = None,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """Fill the envelope, sign and ``POST /v1/messages``; return the server's JSON answer.

    Absent envelope fields are filled: ``sender`` (= *partner*), ``message_id`` (uuid4 string),
    ``sent_at`` (RFC 3339 UTC, milliseconds, ``Z``), ``nonce`` (16 random bytes, base64url
    without padding) and ``seq`` (:func:`signing.next_sequence`; the state file defaults to
    ``<key file>.seq`` when *private_key* is a path, and is locked, so concurrent submits from
    one key file stay strictly increasing).

    Wire format: header ``X-OpenBMD-Partner: <partner>`` and JSON body
    ``{"message": <message>, "signature": base64(Ed25519(canonical_json(message)))}``, where
    *message* is the filled payload without any ``signature`` field (standard base64, padded).
    """
    key_path: Path | None = None
    if isinstance(private_key, Ed25519PrivateKey):
        key = private_key
    else:
        key_path = Path(private_key)
        key = signing.load_private_key(key_path)
    message = {k: v for k, v in payload.items() if k != "signature"}
    if message.setdefault("sender", partner) != partner:
        raise InputError(f"payload sender {message['sender']!r} is not partner {partner!r}")
    message.setdefault("message_id", str(uuid.uuid4()))
    if "sent_at" not in message:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        message["sent_at"] = now.replace("+00:00", "Z")
    if "nonce" not in message:
        message["nonce"] = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
    if "seq" not in message:
        if seq_file is None and key_path is not None:
            seq_file = key_path.with_name(key_path.name + ".seq")
        message["seq"] = signing.next_sequence(Path(seq_file) if seq_file is not None else None)
    signature = signing.sign(key, signing.canonical_json(message))
    body = {"message": message, "signature": base64.b64encode(signature).decode("ascii")}
    resp = _request(
        client, "POST", url, "/v1/messages", json=body, headers={PARTNER_HEADER: partner}
    )
    return _json(resp)


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
    old_size, old_root = int(state["tree_size"]), _b64(state["root_hash_b64"], "saved root")
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
        with _session(client) as http:
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
            old_root = _b64(state["root_hash_b64"], "saved root")
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
    with _session(client) as http:
        log_key, _ = _log_key(url, log_public_key, state, http)
        text = fetch_checkpoint(url, client=http)
        body, cp, _ = _signed_checkpoint(text, log_key)
        _check_extends(url, state, cp, http)
        ts = int(time.time()) if timestamp is None else timestamp
        line = note.cosign_checkpoint(body, name, key, ts)
        _save_state(path, _state_of(url, cp, text, log_key, witness=name, cosigned_at=ts))
        posted = note.assemble_note(body, [line]).encode("utf-8")
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        _request(http, "POST", url, "/v1/log/cosignatures", content=posted, headers=headers)
    return line
