"""Signed requests for authenticated reads (``GET /v1/messages``, ``WS /v1/feed``).

A partner proves who it is by signing the request with its Ed25519 key. The signed bytes are::

    openbmd-request-v1\\n<METHOD>\\n<PATH>\\n<QUERY>\\n<TIMESTAMP>\\n<NONCE>\\n<PARTNER>

* METHOD upper case (``GET``; a WebSocket handshake counts as ``GET``); PATH as sent
  (e.g. ``/v1/messages``), no query;
* QUERY the request's query parameters **other than the auth ones**, sorted by name then value,
  form-encoded (:func:`canonical_query`), empty when there are none;
* TIMESTAMP integer POSIX seconds, accepted within the server's skew window (± 300 s default);
* NONCE 16–128 characters of ``[A-Za-z0-9_-]``, never reused by the partner within the window.

HTTP carries them in headers ``X-OpenBMD-Partner``, ``X-OpenBMD-Timestamp``,
``X-OpenBMD-Nonce`` and ``X-OpenBMD-Signature`` (standard base64 of the 64-byte signature).
A WebSocket client (whose library may not set headers) may put the same four values in the query
string as ``partner``, ``ts``, ``nonce`` and ``sig`` instead (:func:`signed_query`).
Message submission (``POST /v1/messages``) does not use this scheme: the message itself is
signed and carries its own sender, nonce, time and sequence number.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from openbmd.exchange.signing import Ed25519PrivateKey, Ed25519PublicKey, sign, verify

__all__ = [
    "AUTH_QUERY",
    "HEADER_NONCE",
    "HEADER_PARTNER",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "NonceCache",
    "canonical_query",
    "new_nonce",
    "sign_request",
    "signed_query",
    "signing_bytes",
    "verify_request",
]

HEADER_PARTNER = "X-OpenBMD-Partner"
HEADER_TIMESTAMP = "X-OpenBMD-Timestamp"
HEADER_NONCE = "X-OpenBMD-Nonce"
HEADER_SIGNATURE = "X-OpenBMD-Signature"
AUTH_QUERY = ("partner", "ts", "nonce", "sig")

_NONCE = re.compile(r"[A-Za-z0-9_-]{16,128}")

Params = Mapping[str, object] | Iterable[tuple[str, object]]


def new_nonce() -> str:
    """A fresh random nonce (22 URL-safe characters, 128 bits)."""
    return secrets.token_urlsafe(16)


def _pairs(params: Params | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(k), str(v)) for k, v in items]


def canonical_query(params: Params | None) -> str:
    """Sorted, form-encoded query without the auth parameters."""
    pairs = sorted((k, v) for k, v in _pairs(params) if k not in AUTH_QUERY)
    return urlencode(pairs)


def signing_bytes(
    method: str, path: str, params: Params | None, timestamp: int, nonce: str, partner: str
) -> bytes:
    """The exact bytes a request signature covers."""
    text = "\n".join(
        [
            "openbmd-request-v1",
            method.upper(),
            path,
            canonical_query(params),
            str(int(timestamp)),
            nonce,
            partner,
        ]
    )
    return text.encode("utf-8")


def sign_request(
    key: Ed25519PrivateKey,
    partner: str,
    method: str,
    path: str,
    params: Params | None = None,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four ``X-OpenBMD-*`` headers for a request by *partner*."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    nonce = nonce or new_nonce()
    sig = sign(key, signing_bytes(method, path, params, ts, nonce, partner))
    return {
        HEADER_PARTNER: partner,
        HEADER_TIMESTAMP: str(ts),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: base64.b64encode(sig).decode("ascii"),
    }


def signed_query(
    key: Ed25519PrivateKey,
    partner: str,
    path: str,
    params: Params | None = None,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """*params* plus ``partner``, ``ts``, ``nonce`` and ``sig`` (for a WebSocket URL)."""
    h = sign_request(key, partner, "GET", path, params, timestamp=timestamp, nonce=nonce)
    out = dict(_pairs(params))
    out.update(
        partner=partner, ts=h[HEADER_TIMESTAMP], nonce=h[HEADER_NONCE], sig=h[HEADER_SIGNATURE]
    )
    return out


class AuthError(Exception):
    """A signed request failed; ``slug`` names the problem type."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


class NonceCache:
    """Nonces seen per partner within the skew window (in memory; reads are idempotent, so a
    replay after a server restart can at most re-read the partner's own view)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen: dict[tuple[str, str], float] = {}
        self._next_sweep = 0.0

    def check_and_add(self, partner: str, nonce: str, now: float) -> bool:
        """False if (*partner*, *nonce*) was seen within the window; else remember it."""
        if now >= self._next_sweep:
            limit = now - 2 * self.window_s
            self._seen = {k: t for k, t in self._seen.items() if t >= limit}
            self._next_sweep = now + self.window_s / 4
        key = (partner, nonce)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


def verify_request(
    public_key: Ed25519PublicKey | None,
    partner: str,
    method: str,
    path: str,
    params: Params | None,
    timestamp: str,
    nonce: str,
    signature_b64: str,
    *,
    skew_s: float,
    nonces: NonceCache,
    now: float | None = None,
) -> None:
    """Raise :class:`AuthError` unless the request signature is valid, fresh and unreplayed."""
    now = time.time() if now is None else now
    if public_key is None:
        raise AuthError("unknown-partner", f"partner {partner!r} is not registered")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 15:
        raise AuthError("bad-request", "timestamp: expected integer POSIX seconds (ASCII digits)")
    ts = int(timestamp)
    if ts < now - skew_s:
        raise AuthError("stale-timestamp", f"timestamp: {ts} is more than {skew_s:g} s old")
    if ts > now + skew_s:
        raise AuthError("future-timestamp", f"timestamp: {ts} is more than {skew_s:g} s ahead")
    if not _NONCE.fullmatch(nonce):
        raise AuthError("missing-credentials", "nonce: expected 16-128 characters [A-Za-z0-9_-]")
    try:
        sig = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        raise AuthError("bad-signature", "signature: not base64") from None
    if not verify(public_key, signing_bytes(method, path, params, ts, nonce, partner), sig):
        raise AuthError("bad-signature", "request signature does not verify")
    if not nonces.check_and_add(partner, nonce, now):
        raise AuthError("replayed-nonce", f"nonce: {nonce!r} was already used")
