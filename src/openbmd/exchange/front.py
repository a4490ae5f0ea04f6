"""A front process of ``serve --workers N``: HTTP, validation and signature checks; the writer
is in the writer process (:mod:`openbmd.exchange.workers`), reached over :mod:`~.ipc`.

A front parses and schema-checks requests, checks signatures (its own GIL, in parallel with the
writer and the other fronts), answers reads from the database directly (SQLite WAL readers or
PostgreSQL connections of its own), runs its own :class:`~openbmd.exchange.feed.FeedHub` for
the feeds connected to it, and forwards accepted submissions to the writer process, answering
only when the writer has committed them. Nonces of signed reads, feed slots and checkpoint
signatures are the writer process's, so they hold across fronts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import signal
import socket
from typing import Any

from openbmd.exchange.centre import CentreBase, SignedCheckpoint
from openbmd.exchange.domain import Outcome, Submission
from openbmd.exchange.ipc import FrontLink
from openbmd.exchange.merkle import root_from_leaves
from openbmd.exchange.settings import Settings

__all__ = ["FrontCentre", "front_main"]

log = logging.getLogger("openbmd.exchange")

PR_SET_PDEATHSIG = 1


class FrontCentre(CentreBase):
    """The serving state of a front process.

    Parameters
    ----------
    settings : Settings
        As in the writer process.
    link_socket : socket.socket
        This front's end of the link to the writer process.
    """

    def __init__(self, settings: Settings, link_socket: socket.socket) -> None:
        super().__init__(settings)
        self._socket = link_socket
        self.link = FrontLink(self._on_head, self._on_lost)
        self.head: tuple[int, bytes] = (0, root_from_leaves([]))
        self._signed: SignedCheckpoint | None = None

    async def start(self) -> None:
        """Connect to the writer process, learn the head and the key, start the feed hub."""
        loop = asyncio.get_running_loop()
        await loop.create_unix_connection(lambda: self.link, sock=self._socket)
        size, root, self.public_key_pem = await self.link.request("hello")
        self._on_head(size, root)
        self._signed = await self.link.request("cp")
        self.hub.start()
        gc.collect()
        gc.freeze()  # as in Centre.start: long-lived objects out of the collector's scans

    async def stop(self) -> None:
        """Stop the hub, close the link and the store."""
        await self.hub.stop()
        if self.link.transport is not None:
            self.link.transport.close()
        self.verifier.stop()
        self.store.close()

    def _on_head(self, size: int, root: bytes) -> None:
        if size != self.head[0] or root != self.head[1]:
            self.head = (size, root)
            self.notifier.publish(size)

    def _on_lost(self) -> None:
        # The writer process is gone (killed, or stopping): nothing can be acknowledged any
        # more. Give the 503 answers a moment to go out, then leave (and free the port).
        log.warning("the writer process is gone; this front process exits")
        asyncio.get_running_loop().call_later(0.2, os._exit, 0)

    # ------------------------------------------------------------------ log state
    @property
    def size(self) -> int:
        """Committed tree size (pushed by the writer process after every commit)."""
        return self.head[0]

    @property
    def root(self) -> bytes:
        """Root hash of the committed tree."""
        return self.head[1]

    async def signed_checkpoint(self) -> SignedCheckpoint:
        """The writer process's signed checkpoint of the committed tree."""
        if self._signed is not None and self._signed[:2] == self.head:
            return self._signed
        signed: SignedCheckpoint = await self.link.request("cp")
        if signed[0] >= self.head[0]:
            self._on_head(signed[0], signed[1])
        self._signed = signed
        return signed

    def checkpoint_body_and_signature(self) -> SignedCheckpoint:
        """The latest signed checkpoint this front holds (maybe of a slightly older tree)."""
        assert self._signed is not None, "front not started"
        return self._signed

    async def signed_old_checkpoint(self, size: int, root: bytes) -> tuple[str, str]:
        """``(body, centre signature line)`` of an earlier tree, signed by the writer process."""
        body, line = await self.link.request("old", size, root)
        return str(body), str(line)

    # ------------------------------------------------------------------ writer, limits
    async def submit_many(self, subs: list[Submission]) -> list[Outcome]:
        """Forward *subs* to the writer process; resolve after their group commits."""
        if not subs:
            return []
        outcomes: list[Outcome] = await self.link.request("sub", subs)
        return outcomes

    async def claim_read_nonce(self, partner: str, nonce: str, now: float) -> bool:
        """Claim the nonce in the writer process's cache (shared by every front)."""
        return bool(await self.link.request("nonce", partner, nonce, now))

    async def take_feed(self, partner: str) -> bool:
        """Reserve a feed slot in the writer process (counted across every front)."""
        return bool(await self.link.request("take", partner))

    def give_feed(self, partner: str) -> None:
        """Release a feed slot."""
        self.link.tell("give", partner)


def _die_with_parent() -> None:
    """Linux: be SIGKILLed when the writer process dies (so the port is freed at once)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def front_main(
    settings: Settings,
    listener: socket.socket,
    link_socket: socket.socket,
    parent: int,
    uvicorn_options: dict[str, Any],
) -> None:
    """Entry point of a front process: serve *listener* with uvicorn until told to stop."""
    _die_with_parent()
    if os.getppid() != parent:  # the writer process died before prctl took effect
        os._exit(0)
    import uvicorn

    from openbmd.exchange.app import create_app

    centre = FrontCentre(settings, link_socket)
    config = uvicorn.Config(create_app(settings, centre), **uvicorn_options)
    uvicorn.Server(config).run(sockets=[listener])
