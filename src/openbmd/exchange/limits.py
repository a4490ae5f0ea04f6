"""Request limits of the centre: a cap on request bodies (413 problem+json) and on the number
of concurrent WebSocket feeds per partner.

The body cap is an ASGI middleware: a ``Content-Length`` above the cap is refused before the
body is read; a body streamed without one is counted as it arrives and refused as soon as it
exceeds the cap, so no handler ever buffers more than ``max_body_bytes``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from openbmd.exchange.errors import Problem, problem_response

__all__ = ["BodyLimit", "FeedSlots"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _too_large(max_bytes: int) -> Problem:
    return Problem("payload-too-large", f"body: larger than the limit of {max_bytes} bytes")


class BodyLimit:
    """ASGI middleware refusing HTTP request bodies larger than *max_bytes* (413).

    Parameters
    ----------
    app : ASGIApp
        The wrapped application.
    max_bytes : int
        Largest accepted body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    response = problem_response(_too_large(self.max_bytes))
                    await response(scope, receive, send)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, _too_large(self.max_bytes).detail)
            return message

        await self.app(scope, counted, send)


class FeedSlots:
    """Counts the open feeds of each partner; refuses one more than *per_partner*.

    Parameters
    ----------
    per_partner : int
        Most concurrent feeds of one partner.
    """

    def __init__(self, per_partner: int) -> None:
        self.per_partner = per_partner
        self._open: dict[str, int] = {}

    def take(self, partner: str) -> bool:
        """Reserve a slot for *partner*; False when it already has the maximum open."""
        if self._open.get(partner, 0) >= self.per_partner:
            return False
        self._open[partner] = self._open.get(partner, 0) + 1
        return True

    def give_back(self, partner: str) -> None:
        """Release a slot taken by :meth:`take`."""
        left = self._open.get(partner, 0) - 1
        if left > 0:
            self._open[partner] = left
        else:
            self._open.pop(partner, None)
