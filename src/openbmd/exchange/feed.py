"""The live feed: a commit notifier, one shared view computation per commit, and the WebSocket
loop of ``/v1/feed``.

The writer commits in log order and announces each new committed size (:class:`Notifier`). A
:class:`FeedHub` (one per serving process) then reads the new view items of *every* subscribed
partner for the newly committed index range ``[lo, hi)`` in ONE statement
(:meth:`~openbmd.exchange.store.Store.view_range`) and hands each subscriber its share, so 50
subscribers cost one query per commit, not 50.

Gap-freedom. A subscriber tracks the log size up to which it has sent everything of its view.
The hub's batches are contiguous ranges; a subscriber that joins (or whose queue overflowed, or
whose partner was not yet in the hub's query) first catches up from the database with ordinary
view pages bounded by the hub's cursor — every index below the cursor was fanned out before it
subscribed, every index from it on arrives in its queue — and then applies the batches. A
client that reconnects with ``?after=<last index it received>`` — to this process, another
front process or a restarted centre — gets exactly the items it has not seen.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from openbmd.exchange.domain import ViewRecord

if TYPE_CHECKING:
    from openbmd.exchange.store import Store

__all__ = ["FeedHub", "Notifier", "Subscription", "run_feed", "view_item"]

log = logging.getLogger("openbmd.exchange")

Batch = tuple[int, int, list[ViewRecord]]
"""``(lo, hi, items)``: a subscriber's view items at log indices ``[lo, hi)``."""


class Notifier:
    """Announces the committed tree size to waiting coroutines (same event loop) and to
    synchronous listeners (called first, in :meth:`publish`)."""

    def __init__(self, size: int = 0) -> None:
        self.size = size
        self._event = asyncio.Event()
        self.listeners: list[Callable[[int], None]] = []

    def publish(self, size: int) -> None:
        """Record a new committed size, call the listeners and wake every waiter."""
        self.size = size
        for listener in self.listeners:
            listener(size)
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


class Subscription:
    """One feed's queue of batches from the hub (bounded: on overflow it is emptied and the
    feed catches up from the database)."""

    def __init__(self, partner: str, max_items: int) -> None:
        self.partner = partner
        self.max_items = max_items
        self.batches: deque[Batch] = deque()
        self.queued = 0
        self.resync = True  # catch up from the database before applying batches
        self.bound = 0  # the hub's cursor when resync was set: catch up below it
        self.wake = asyncio.Event()

    def push(self, batch: Batch) -> None:
        if self.resync:  # not caught up yet: the catch-up reads this batch's range too
            self.bound = max(self.bound, batch[1])
            return
        self.batches.append(batch)
        self.queued += len(batch[2])
        if self.queued > self.max_items:  # a slow consumer: drop, re-read from the database
            self.lose(batch[1])
        self.wake.set()

    def lose(self, cursor: int) -> None:
        """Forget the queued batches; catch up from the database below *cursor*."""
        self.batches.clear()
        self.queued = 0
        self.resync, self.bound = True, cursor
        self.wake.set()

    async def next(self) -> Batch | None:
        """The next batch, or None when the feed must catch up below :attr:`bound`."""
        while not self.batches and not self.resync:
            self.wake.clear()
            await self.wake.wait()
        if self.resync:
            return None
        batch = self.batches.popleft()
        self.queued -= len(batch[2])
        return batch


class FeedHub:
    """Fans out each commit's new view items to every subscriber of this process.

    Parameters
    ----------
    store : Store
        Where committed view items are read.
    notifier : Notifier
        The committed size.
    max_range : int
        Most log indices read in one statement.
    max_queued : int
        Most items queued for one subscriber before it falls back to database reads.
    """

    def __init__(
        self, store: Store, notifier: Notifier, max_range: int = 2000, max_queued: int = 20_000
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.max_range = max_range
        self.max_queued = max_queued
        self.cursor = notifier.size  # every index below it has been fanned out
        self.subs: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start fanning out (in the running event loop)."""
        self.cursor = self.notifier.size
        self._task = asyncio.create_task(self._run(), name="openbmd-feed-hub")

    async def stop(self) -> None:
        """Stop fanning out."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def subscribe(self, partner: str) -> Subscription:
        """A new subscription; it first catches up below the current cursor."""
        sub = Subscription(partner, self.max_queued)
        sub.bound = self.cursor
        self.subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget *sub*."""
        self.subs.discard(sub)

    async def _run(self) -> None:
        while True:
            await self.notifier.wait_beyond(self.cursor, 5.0)
            hi = min(self.notifier.size, self.cursor + self.max_range)
            lo = self.cursor
            if hi <= lo:
                if hi < lo:  # the writer reloaded a shorter state (a failed commit): follow it
                    self.cursor = hi
                continue
            if not self.subs:
                self.cursor = hi  # nobody to tell; a later subscriber catches up from the store
                continue
            partners = {s.partner for s in self.subs}
            try:
                items = await run_in_threadpool(self.store.view_range, partners, lo, hi)
            except Exception:  # the database is down: every feed re-reads when it is back
                log.exception("feed fan-out of [%d, %d) failed", lo, hi)
                for sub in self.subs:
                    sub.lose(hi)
                self.cursor = hi
                await asyncio.sleep(0.5)
                continue
            self.cursor = hi
            for sub in self.subs:
                mine = items.get(sub.partner)
                if mine is None:  # subscribed during the read: catch up from the store
                    sub.lose(hi)
                else:
                    sub.push((lo, hi, mine))


def view_item(v: ViewRecord) -> dict[str, Any]:
    """JSON form of one view record (the ``ViewItem`` schema)."""
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
    sub: Subscription,
    read: Callable[[int], Awaitable[list[ViewRecord]]],
    page: int,
) -> None:
    """Stream the view after *after* to an accepted WebSocket until the client goes away.

    *sub* delivers the hub's batches; *read* ``(after)`` is one view page of at most *page*
    items (for catching up). Each frame is one JSON item. Client frames are read and ignored
    (they only serve to notice a disconnect).
    """

    async def send(records: list[ViewRecord], start: int) -> int:
        last = start
        for rec in records:
            if rec.index > start:  # a resumed feed never repeats what the client has
                await ws.send_json(view_item(rec))
                last = rec.index
        return last

    async def catch_up(after: int, bound: int) -> int:
        """Send the view items below *bound* after *after* (database pages)."""
        while True:
            records = await read(after)
            below = [r for r in records if r.index < bound]
            after = await send(below, after)
            if len(records) < page or len(below) < len(records):
                return after

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
                    batch = await sub.next()
                    if batch is None:
                        sub.resync = False  # batches from the bound on are queued from now
                        after = await catch_up(after, sub.bound)
                        continue
                    after = await send(batch[2], after)
            except (WebSocketDisconnect, RuntimeError, OSError):
                tg.cancel_scope.cancel()

        tg.start_soon(drain_client)
        tg.start_soon(pump)
