"""``/v1/messages``: signed submissions, alone or in a batch (both through
:func:`openbmd.exchange.intake.accept`, group-committed to the log), and the caller's view."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from openbmd.exchange import intake
from openbmd.exchange.errors import Problem, validation_problem
from openbmd.exchange.feed import view_item
from openbmd.exchange.routers._deps import AUTH_RESPONSES, SignedPartner, get_centre
from openbmd.exchange.schemas import Accepted, BatchAnswer, BatchRequest, SubmitRequest, ViewPage

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
    if not x_openbmd_partner:
        raise Problem("missing-credentials", "header X-OpenBMD-Partner is required")
    raw = (await request.json())["message"]
    (result,) = await intake.accept(centre, x_openbmd_partner, [(body, raw)], time.time())
    if isinstance(result, Problem):
        raise result
    return JSONResponse(
        {"index": result.index, "message_id": result.message_id},
        status_code=201 if result.created else 200,
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


@router.post(
    ":batch",
    response_model=BatchAnswer,
    responses={
        401: {"description": "Missing X-OpenBMD-Partner (problem+json)"},
        422: {"description": "Malformed batch (problem+json); items are judged one by one"},
    },
)
async def submit_batch(
    request: Request,
    x_openbmd_partner: Annotated[str | None, Header(description="the sending partner")] = None,
) -> JSONResponse:
    """Submit many signed messages of one partner. Each item is checked, logged and answered
    independently (all-or-nothing per message, not per batch); the answer comes once every
    accepted item is durably stored and integrated into the log."""
    centre = get_centre(request)
    if not x_openbmd_partner:
        raise Problem("missing-credentials", "header X-OpenBMD-Partner is required")
    raw = await request.body()
    try:  # a large document is parsed in a thread, not on the event loop
        doc = await run_in_threadpool(json.loads, raw) if len(raw) > 65536 else json.loads(raw)
    except (ValueError, RecursionError):
        raise Problem("bad-request", "body: not JSON") from None
    try:
        items = BatchRequest.model_validate(doc).items
    except ValidationError as exc:
        raise validation_problem([dict(e) for e in exc.errors()]) from None
    parsed = [intake.parse_item(item) for item in items]
    answers = await intake.accept(centre, x_openbmd_partner, parsed, time.time())
    results: list[dict[str, Any]] = []
    for i, answer in enumerate(answers):
        if isinstance(answer, Problem):
            results.append(answer.body() | {"item": i})
        else:
            status = 201 if answer.created else 200
            results.append(
                {"status": status, "index": answer.index, "message_id": answer.message_id}
            )
    return JSONResponse({"results": results})
