"""Partner-side HTTP client of the exchange centre: the transport, submit, fetch log data.

Functions take the centre's base URL (``http://127.0.0.1:8000``) and an optional ``client``
(any ``httpx.Client``, e.g. Starlette's ``TestClient``). HTTP failures raise
:class:`ExchangeHTTPError` (with the RFC 7807 problem document if any); malformed log answers
raise :class:`LogVerificationError`. Endpoints: ``GET /v1/log/checkpoint``, ``/v1/log/key``,
``/v1/log/entries`` (a signed read), ``/v1/log/proof/{inclusion,consistency}`` (fetched
unverified) and
``POST /v1/messages`` (format in :func:`submit_message`). Checking what was fetched is the job
of :mod:`openbmd.exchange.verify`.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openbmd.errors import InputError, OpenBMDError
from openbmd.exchange import auth, merkle, note, signing, statements

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


@contextlib.contextmanager
def session(client: httpx.Client | None) -> Iterator[httpx.Client]:
    own = httpx.Client(timeout=TIMEOUT) if client is None else contextlib.nullcontext(client)
    with own as http:
        yield http


def request(
    client: httpx.Client | None, method: str, url: str, path: str, **kwargs: Any
) -> httpx.Response:
    full = url.rstrip("/") + path
    try:
        with session(client) as http:
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


def _decoded(resp: httpx.Response, kind: type, what: str) -> Any:
    try:
        data = resp.json()
    except ValueError:
        raise ExchangeHTTPError(f"{resp.request.url}: answer is not JSON") from None
    if not isinstance(data, kind):
        raise ExchangeHTTPError(f"{resp.request.url}: answer is not a JSON {what}")
    return data


def _json(resp: httpx.Response) -> dict[str, Any]:
    data: dict[str, Any] = _decoded(resp, dict, "object")
    return data


def _json_list(resp: httpx.Response) -> list[Any]:
    data: list[Any] = _decoded(resp, list, "list")
    return data


def b64_field(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise LogVerificationError(f"{what} is not a base64 string")
    try:
        return note.b64decode_strict(text, what)
    except note.NoteError as exc:
        raise LogVerificationError(str(exc)) from None


def fetch_checkpoint(
    url: str, *, min_cosigners: int = 0, client: httpx.Client | None = None
) -> str:
    """The current signed checkpoint note, as text (unverified); with *min_cosigners*, the
    largest one that many witnesses cosigned (``GET /v1/log/checkpoint/cosigned``)."""
    if min_cosigners:
        path = f"/v1/log/checkpoint/cosigned?min_cosigners={min_cosigners}"
        try:
            return request(client, "GET", url, path).text
        except ExchangeHTTPError as exc:
            if exc.status == 404:
                raise LogVerificationError(
                    f"no checkpoint carries {min_cosigners} witness cosignatures"
                ) from None
            raise
    return request(client, "GET", url, "/v1/log/checkpoint").text


def fetch_log_key(url: str, *, client: httpx.Client | None = None) -> Ed25519PublicKey:
    """The log's public key as served at ``GET /v1/log/key`` (to be pinned, not trusted)."""
    return signing.load_public_key(request(client, "GET", url, "/v1/log/key").text)


@dataclass(frozen=True)
class LogRecord:
    """One entry as a signed reader is shown it (unverified): its leaf hash, the leaf bytes
    when shown, and the openings ``(party, salt, document bytes)`` of its own and public
    slots."""

    index: int
    leaf_hash: bytes
    leaf: bytes | None
    openings: tuple[tuple[str, bytes, bytes], ...] = ()


def _record(entry: Any, index: int) -> LogRecord:
    if not isinstance(entry, dict) or entry.get("index") != index:
        raise LogVerificationError(f"log entry {index} is missing or out of order")
    leaf_hash = b64_field(entry.get("leaf_hash_b64"), f"leaf hash {index}")
    leaf = b64_field(entry["leaf_b64"], f"leaf {index}") if entry.get("leaf_b64") else None
    if leaf is not None and merkle.leaf_hash(leaf) != leaf_hash:
        raise LogVerificationError(f"log entry {index}: the leaf does not have its leaf hash")
    opened = entry.get("openings")
    if not isinstance(opened, list) or not all(isinstance(o, dict) for o in opened):
        raise LogVerificationError(f"log entry {index}: openings is not a list")
    openings = tuple(
        (
            str(o.get("party")),
            b64_field(o.get("salt_b64"), f"entry {index} salt"),
            b64_field(o.get("document_b64"), f"entry {index} document"),
        )
        for o in opened
    )
    return LogRecord(index, leaf_hash, leaf, openings)


def fetch_entries(
    url: str,
    start: int,
    end: int,
    partner: str,
    private_key: Ed25519PrivateKey,
    *,
    client: httpx.Client | None = None,
) -> tuple[list[LogRecord], bytes]:
    """Entries ``start … end-1`` as *partner* is shown them (signed reads, following the
    server's page cap), and *partner*'s tag key."""
    out: list[LogRecord] = []
    tag_key = b""
    with session(client) as http:
        while start + len(out) < end:
            at = start + len(out)
            params = {"start": at, "end": end}
            headers = auth.sign_request(private_key, partner, "GET", "/v1/log/entries", params)
            resp = request(http, "GET", url, "/v1/log/entries", params=params, headers=headers)
            page = _json(resp)
            entries = page.get("entries")
            if not isinstance(entries, list) or not entries:
                raise LogVerificationError(f"log returned no entries at index {at} (< {end})")
            key = b64_field(page.get("tag_key_b64"), "tag_key_b64")
            if tag_key and key != tag_key:
                raise LogVerificationError("the centre changed our tag key between pages")
            tag_key = key
            out += [_record(e, at + i) for i, e in enumerate(entries[: end - at])]
    return out, tag_key


def _proof(
    client: httpx.Client | None, url: str, what: str, query: Mapping[str, int]
) -> list[bytes]:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    data = _json(request(client, "GET", url, f"/v1/log/proof/{what}?{params}"))
    if any(data.get(k) != v for k, v in query.items()):
        raise LogVerificationError(f"{what} proof answers for other sizes than {params}")
    hashes = data.get("hashes_b64")
    if not isinstance(hashes, list):
        raise LogVerificationError(f"{what} proof has no hashes_b64 list")
    out = [b64_field(h, f"{what} proof hash") for h in hashes]
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
    ``{"message": <message>, "signature": base64(Ed25519(canonical_json(message))),
    "projection": {"salts_b64": {"L0", "L1", "L2"}, "signature"}}``, where *message* is the
    filled payload without any ``signature`` field (standard base64, padded) and
    ``projection`` the signature over its projections
    (:func:`openbmd.exchange.statements.sign_projections`).
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
    body = {
        "message": message,
        "signature": base64.b64encode(signature).decode("ascii"),
        "projection": statements.sign_projections(key, message),  # for coarse recipients
    }
    resp = request(
        client, "POST", url, "/v1/messages", json=body, headers={PARTNER_HEADER: partner}
    )
    return _json(resp)


def fetch_view(
    url: str,
    partner: str,
    private_key: Ed25519PrivateKey,
    after: int = -1,
    *,
    client: httpx.Client | None = None,
) -> list[dict[str, Any]]:
    """Every item of *partner*'s view after index *after* (signed ``GET /v1/messages``, paged).

    Parameters
    ----------
    url : str
        Base URL of the centre.
    partner : str
        The reading partner.
    private_key : Ed25519PrivateKey
        Its key (signs each read).
    after : int
        Last index already seen (-1: from the start).
    client : httpx.Client, optional
        Transport to use.

    Returns
    -------
    list[dict[str, Any]]
        The ``ViewItem`` documents in log order (unverified).
    """
    out: list[dict[str, Any]] = []
    with session(client) as http:
        while True:
            params = {"after": after, "limit": 1000}
            headers = auth.sign_request(private_key, partner, "GET", "/v1/messages", params)
            page = _json(request(http, "GET", url, "/v1/messages", params=params, headers=headers))
            items = page.get("items")
            if not isinstance(items, list) or not items:
                return out
            out.extend(items)
            after = int(page["next_after"])


def fetch_agreements(
    url: str, partner: str, private_key: Ed25519PrivateKey, *, client: httpx.Client | None = None
) -> list[dict[str, Any]]:
    """The agreements *partner* is party to (signed ``GET /v1/agreements``, unverified)."""
    headers = auth.sign_request(private_key, partner, "GET", "/v1/agreements", {})
    rows = _json_list(request(client, "GET", url, "/v1/agreements", headers=headers))
    return [r for r in rows if isinstance(r, dict)]


def fetch_partners(url: str, *, client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """The partners as the centre serves them (``GET /v1/partners``, unverified)."""
    rows = _json_list(request(client, "GET", url, "/v1/partners"))
    return [r for r in rows if isinstance(r, dict)]


def fetch_partner_keys(
    url: str, *, client: httpx.Client | None = None
) -> dict[str, Ed25519PublicKey]:
    """The partners' public keys as the centre serves them (``GET /v1/partners``)."""
    rows = fetch_partners(url, client=client)
    return {str(r["name"]): signing.load_public_key(str(r["public_key_pem"])) for r in rows}
