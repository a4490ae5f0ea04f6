"""The live feed: an in-process commit notifier and the WebSocket loop of ``/v1/feed``.

A subscriber reads its view from the database after the index it last saw, sends every item,
then sleeps until the writer announces a commit beyond what it has read. Because the single
writer commits in log order, reading "after N" from the database can never skip an index, and
a client that reconnects with ``?after=<last index it received>`` — to this process or to a
restarted one — gets exactly the items it has not seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from openbmd.exchange.domain import ViewRecord

__all__ = ["Notifier", "run_feed", "view_item"]


class Notifier:
    """Announces the committed tree size to waiting coroutines (same event loop)."""

    def __init__(self, size: int = 0) -> None:
        self.size = size
        self._event = asyncio.Event()

    def publish(self, size: int) -> None:
        """Record a new committed size and wake every waiter."""
        self.size = size
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_beyond(self, size: int, timeout: float) -> bool:
        """Wait until the committed size exceeds *size*; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.size <= size:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)
        return True


def view_item(v: ViewRecord) -> dict[str, Any]:
    """JSON form of one view record (the ``ViewItem`` schema)."""
    import base64

    return {
        "index": v.index,
        "message_id": v.message_id,
        "sender": v.sender,
        "type": v.type,
        "level": v.level,
        "message": v.message,
        "signature": base64.b64encode(v.signature).decode("ascii") if v.signature else None,
        "salt_b64": base64.b64encode(v.salt).decode("ascii") if v.salt else None,
        "leaf_b64": base64.b64encode(v.leaf).decode("ascii") if v.leaf else None,
        "opening_b64": base64.b64encode(v.opening).decode("ascii") if v.opening else None,
        "sender_statement": (
            {
                "statement_b64": base64.b64encode(v.statement[0]).decode("ascii"),
                "signature": base64.b64encode(v.statement[1]).decode("ascii"),
                "salt_b64": base64.b64encode(v.statement[2]).decode("ascii"),
            }
            if v.statement
            else None
        ),
    }


async def run_feed(
    ws: WebSocket,
    after: int,
    notifier: Notifier,
    read: Callable[[int], Awaitable[list[ViewRecord]]],
    idle_timeout: float = 15.0,
) -> None:
    """Stream the view after *after* to an accepted WebSocket until the client goes away.

    Each frame is one JSON item. Client frames are read and ignored (they only serve to notice
    a disconnect).
    """

    async with anyio.create_task_group() as tg:

        async def drain_client() -> None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                while True:
                    msg = await ws.receive()
                    if msg["type"] == "websocket.disconnect":
                        break
            tg.cancel_scope.cancel()  # the client left: stop pumping

        async def pump() -> None:
            nonlocal after
            try:
                while True:
                    seen = notifier.size
                    records = await read(after)
                    for rec in records:
                        await ws.send_json(view_item(rec))
                        after = rec.index
                    if not records:
                        await notifier.wait_beyond(seen, idle_timeout)
            except (WebSocketDisconnect, RuntimeError, OSError):
                tg.cancel_scope.cancel()

        tg.start_soon(drain_client)
        tg.start_soon(pump)
