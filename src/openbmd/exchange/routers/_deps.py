"""Shared request dependencies: the centre and signed-request authentication."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from openbmd.exchange import auth
from openbmd.exchange.errors import Problem

if TYPE_CHECKING:
    from openbmd.exchange.centre import CentreBase
    from openbmd.exchange.signing import Ed25519PublicKey

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, bad or unknown-key request signature (problem+json)"},
    409: {"description": "Replayed request nonce (problem+json)"},
    422: {"description": "Invalid parameter or stale/future timestamp (problem+json)"},
}


def get_centre(request: Request) -> CentreBase:
    """The :class:`~openbmd.exchange.centre.Centre` of this app."""
    centre: CentreBase = request.app.state.centre
    return centre


async def check_signed(
    centre: CentreBase,
    partner: str | None,
    method: str,
    path: str,
    params: Any,
    ts: str | None,
    nonce: str | None,
    sig: str | None,
    key: Ed25519PublicKey | None = None,
) -> str:
    """Verify a signed request; return the partner name or raise a Problem.

    *key*: the key to check it with (an enrolment's new key); default the partner's own.
    """
    if not partner or ts is None or nonce is None or sig is None:
        raise Problem(
            "missing-credentials",
            "this endpoint needs a signed request: headers "
            "X-OpenBMD-Partner, -Timestamp, -Nonce and -Signature",
        )
    if key is None:
        key = centre.cached_partner_key(partner)
    if key is None:
        key = await run_in_threadpool(centre.partner_key, partner)
    try:
        auth.verify_request(
            key,
            partner,
            method,
            path,
            params,
            ts,
            nonce,
            sig,
            skew_s=centre.settings.skew_seconds,
            nonces=centre.read_nonces,
            now=time.time(),
        )
    except auth.AuthError as exc:
        raise Problem(exc.slug, exc.detail) from None
    if not await centre.claim_read_nonce(partner, nonce, time.time()):
        raise Problem("replayed-nonce", f"nonce: {nonce!r} was already used")
    return partner


async def signed_partner(
    request: Request,
    x_openbmd_partner: Annotated[str | None, Header(description="partner name")] = None,
    x_openbmd_timestamp: Annotated[str | None, Header(description="POSIX seconds")] = None,
    x_openbmd_nonce: Annotated[str | None, Header(description="16-128 [A-Za-z0-9_-]")] = None,
    x_openbmd_signature: Annotated[str | None, Header(description="base64 Ed25519")] = None,
) -> str:
    """Dependency: the authenticated partner of a signed HTTP request (see ``auth``)."""
    return await check_signed(
        get_centre(request),
        x_openbmd_partner,
        request.method,
        request.url.path,
        request.query_params.multi_items(),
        x_openbmd_timestamp,
        x_openbmd_nonce,
        x_openbmd_signature,
    )


SignedPartner = Annotated[str, Depends(signed_partner)]
