"""``WS /v1/feed``: the caller's view, live, resumable with ``?after=<last index seen>``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, WebSocket
from starlette.concurrency import run_in_threadpool

from openbmd.exchange.domain import ViewRecord
from openbmd.exchange.errors import Problem
from openbmd.exchange.feed import Subscription, run_feed
from openbmd.exchange.routers._deps import check_signed

if TYPE_CHECKING:
    from openbmd.exchange.centre import CentreBase

router = APIRouter(tags=["feed"])

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


@router.websocket("/v1/feed")
async def feed(
    ws: WebSocket,
    after: Annotated[int, Query(ge=-1, le=2**62)] = -1,
) -> None:
    """Signed like a GET (headers, or ``partner``, ``ts``, ``nonce``, ``sig`` in the query).

    Each frame is one ``ViewItem`` JSON object, in log order, starting after *after*. A refused
    handshake is closed with code 1008 and the problem document as the reason.
    """
    centre: CentreBase = ws.app.state.centre
    q = ws.query_params
    h = ws.headers
    try:
        partner = await check_signed(
            centre,
            h.get("x-openbmd-partner") or q.get("partner"),
            "GET",
            ws.url.path,
            q.multi_items(),
            h.get("x-openbmd-timestamp") or q.get("ts"),
            h.get("x-openbmd-nonce") or q.get("nonce"),
            h.get("x-openbmd-signature") or q.get("sig"),
        )
    except Problem as exc:
        await ws.close(code=POLICY_VIOLATION, reason=f"{exc.slug}: {exc.detail}"[:120])
        return
    try:
        taken = await centre.take_feed(partner)
    except Problem as exc:  # the writer process is gone
        await ws.close(code=TRY_AGAIN_LATER, reason=f"{exc.slug}: {exc.detail}"[:120])
        return
    if not taken:
        limit = centre.settings.feeds_per_partner
        await ws.close(code=POLICY_VIOLATION, reason=f"too-many-feeds: {limit} already open")
        return
    sub = centre.hub.subscribe(partner)
    try:
        await ws.accept()
        await _serve(centre, ws, partner, after, sub)
    finally:
        centre.hub.unsubscribe(sub)
        centre.give_feed(partner)


async def _serve(
    centre: CentreBase, ws: WebSocket, partner: str, after: int, sub: Subscription
) -> None:
    page = centre.settings.page_max

    async def read(after_index: int) -> list[ViewRecord]:
        records: list[ViewRecord] = await run_in_threadpool(
            centre.store.view, partner, after_index, page
        )
        return records

    await run_feed(ws, after, sub, read, page)
