"""``/v1/messages``: signed submissions (group-committed to the log) and the caller's view."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openbmd.errors import InputError
from openbmd.exchange.domain import Submission
from openbmd.exchange.errors import Problem
from openbmd.exchange.feed import view_item
from openbmd.exchange.policy import canonical_json
from openbmd.exchange.routers._deps import AUTH_RESPONSES, SignedPartner, get_centre
from openbmd.exchange.schemas import Accepted, SubmitRequest, ViewPage
from openbmd.exchange.signing import verify
from openbmd.exchange.store import now_iso

router = APIRouter(prefix="/v1/messages", tags=["messages"])

SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Accepted, "description": "Idempotent resubmission: the original answer"},
    401: {"description": "Bad signature or unknown partner (problem+json)"},
    403: {"description": "Sender mismatch or not covered by the agreement (problem+json)"},
    409: {"description": "Replayed nonce, sequence not increasing, or conflict (problem+json)"},
    422: {"description": "Invalid field, stale or future sent_at (problem+json)"},
    503: {"description": "Storage failure; nothing was acknowledged (problem+json)"},
}


@router.post("", status_code=201, response_model=Accepted, responses=SUBMIT_RESPONSES)
async def submit_message(
    request: Request,
    body: SubmitRequest,
    x_openbmd_partner: Annotated[str | None, Header(description="the sending partner")] = None,
) -> JSONResponse:
    """Submit a signed message; answered with its log index only once it is durably stored
    and integrated into the log. Resubmitting the same message is idempotent (200)."""
    centre = get_centre(request)
    model = body.message
    if not x_openbmd_partner:
        raise Problem("missing-credentials", "header X-OpenBMD-Partner is required")
    if x_openbmd_partner != model.sender:
        raise Problem(
            "sender-mismatch",
            f"sender: {model.sender!r} is not the authenticated partner {x_openbmd_partner!r}",
        )
    raw = (await request.json())["message"]
    try:
        canonical = canonical_json(raw)
    except InputError as exc:
        raise Problem("invalid-field", f"message: {exc}") from None
    key = centre.cached_partner_key(model.sender)
    if key is None:
        key = await run_in_threadpool(centre.partner_key, model.sender)
        if key is None:
            raise Problem("unknown-partner", f"sender: partner {model.sender!r} is not registered")
    signature = base64.b64decode(body.signature)
    if centre.settings.verify_in_threadpool:
        ok = await run_in_threadpool(verify, key, canonical, signature)
    else:
        ok = verify(key, canonical, signature)
    if not ok:
        raise Problem(
            "bad-signature",
            "signature: does not verify over the RFC 8785 form of "
            "the message under the sender's registered key",
        )
    for recipient in model.recipients:
        if centre.cached_partner_key(recipient) is None:
            if await run_in_threadpool(centre.partner_key, recipient) is None:
                raise Problem(
                    "unknown-recipient", f"recipients: {recipient!r} is not a registered partner"
                )
    skew = centre.settings.skew_seconds
    delta = model.sent_at.timestamp() - time.time()
    skew_problem = None
    if delta < -skew:
        skew_problem = ("stale-timestamp", f"sent_at: more than {skew:g} s in the past")
    elif delta > skew:
        skew_problem = ("future-timestamp", f"sent_at: more than {skew:g} s in the future")
    sub = Submission(
        message=raw,
        canonical=canonical,
        body_hash=hashlib.sha256(canonical).digest(),
        signature=signature,
        sender=model.sender,
        message_id=model.message_id,
        seq=model.seq,
        nonce=model.nonce,
        type=model.type,
        received_at=now_iso(),
        skew_problem=skew_problem,
    )
    outcome = await centre.submit(sub)
    if outcome.problem is not None:
        raise Problem(*outcome.problem)
    assert outcome.index is not None
    return JSONResponse(
        {"index": outcome.index, "message_id": model.message_id},
        status_code=201 if outcome.created else 200,
    )


@router.get("", response_model=ViewPage, responses=AUTH_RESPONSES)
async def my_view(
    request: Request,
    partner: SignedPartner,
    after: Annotated[int, Query(ge=-1, le=2**62, description="last index seen (-1: none)")] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The caller's view in log order after index *after*: messages addressed to it,
    projected to the level its agreement allows, and its own messages in full."""
    centre = get_centre(request)
    records = await run_in_threadpool(centre.store.view, partner, after, limit)
    items = [view_item(r) for r in records]
    return {"items": items, "next_after": items[-1]["index"] if items else after}
