"""The local link between the writer process and the front processes of ``serve --workers N``.

Each front process has one stream socket (a ``socketpair`` made by the writer process, so only
its own children can reach it) to the writer process. Frames are a 4-byte big-endian length and
a pickle: the two ends are the same program and the socket is private to them.

Front → writer requests, each ``(kind, request id, *args)`` and answered by
``("res", request id, value)`` (or ``("err", request id, slug, detail)``):

* ``sub`` — verified :class:`~openbmd.exchange.domain.Submission` objects of one HTTP request,
  queued in order to the single writer; answered with their outcomes only after their group
  commit returned (durably stored and in the log), exactly as in one process;
* ``nonce`` — claim a signed read's nonce (one cache for all fronts: a replay to another front
  is refused);
* ``take`` — reserve a feed slot of a partner (counted across fronts; a front's slots are given
  back when its link closes, e.g. when it is killed); ``give`` (no answer) releases one;
* ``cp`` / ``old`` — the signed checkpoint of the committed tree / of an earlier tree (the
  centre's key stays in the writer process);
* ``hello`` — the committed head, the centre's public key and a signed checkpoint.

Writer → front pushes ``("head", size, root)`` after every commit, before the answers of that
commit are sent, so a front never answers with an index beyond the size it knows.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openbmd.exchange.errors import Problem

if TYPE_CHECKING:
    from openbmd.exchange.centre import Centre

__all__ = ["FrameProtocol", "FrontLink", "WriterEnd"]

log = logging.getLogger("openbmd.exchange")

_HEADER = 4


class FrameProtocol(asyncio.Protocol):
    """Length-prefixed pickle frames over a stream transport."""

    def __init__(self) -> None:
        self.transport: Any = None  # an asyncio.Transport (uvloop's is not a subclass)
        self._buf = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        at = 0
        while len(buf) - at >= _HEADER:
            n = int.from_bytes(buf[at : at + _HEADER], "big")
            if len(buf) - at - _HEADER < n:
                break
            frame = pickle.loads(buf[at + _HEADER : at + _HEADER + n])
            at += _HEADER + n
            self.frame_received(frame)
        del buf[:at]

    def frame_received(self, frame: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def send(self, frame: tuple[Any, ...]) -> None:
        """Queue one frame (a no-op once the link is closed)."""
        if self.transport is None or self.transport.is_closing():
            return
        data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
        self.transport.write(len(data).to_bytes(_HEADER, "big") + data)


class WriterEnd(FrameProtocol):
    """The writer process's end of one front's link.

    Parameters
    ----------
    centre : Centre
        The centre with the writer.
    ends : set[WriterEnd]
        Every open end (joined on connect, left on close; heads are pushed to all).
    """

    def __init__(self, centre: Centre, ends: set[WriterEnd]) -> None:
        super().__init__()
        self.centre = centre
        self.ends = ends
        self.slots: dict[str, int] = {}  # feed slots this front holds, by partner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.ends.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.ends.discard(self)
        for partner, n in self.slots.items():  # a dead front's feeds are gone
            for _ in range(n):
                self.centre.feeds.give_back(partner)
        self.slots.clear()

    def push_head(self) -> None:
        """Tell the front the committed head."""
        self.send(("head", *self.centre.writer.head))

    def frame_received(self, frame: tuple[Any, ...]) -> None:
        kind, rid, *args = frame
        centre = self.centre
        if kind == "sub":
            asyncio.get_running_loop().create_task(self._submit(rid, args[0]))
            return
        try:
            if kind == "nonce":
                value: Any = centre.read_nonces.check_and_add(*args)
            elif kind == "take":
                value = centre.feeds.take(args[0])
                if value:
                    self.slots[args[0]] = self.slots.get(args[0], 0) + 1
            elif kind == "give":
                if self.slots.get(args[0], 0) > 0:
                    self.slots[args[0]] -= 1
                    centre.feeds.give_back(args[0])
                return
            elif kind == "cp":
                value = centre.checkpoint_body_and_signature()
            elif kind == "old":
                value = centre.sign_checkpoint(*args)
            elif kind == "hello":
                value = (*centre.writer.head, centre.public_key_pem)
            else:
                raise ValueError(f"unknown request {kind!r}")
        except Exception as exc:  # answered, not fatal to the link
            log.exception("request %r from a front failed", kind)
            self.send(("err", rid, "unavailable", f"the writer process failed: {exc}"))
            return
        self.send(("res", rid, value))

    async def _submit(self, rid: int, subs: list[Any]) -> None:
        try:
            outcomes = await self.centre.submit_many(subs)
        except Exception as exc:  # pragma: no cover - the writer answers problems itself
            log.exception("submission from a front failed")
            self.send(("err", rid, "unavailable", f"the writer process failed: {exc}"))
            return
        self.send(("res", rid, outcomes))


class FrontLink(FrameProtocol):
    """A front process's end of its link to the writer process.

    Parameters
    ----------
    on_head : Callable[[int, bytes], None]
        Called with each pushed ``(size, root)``.
    on_lost : Callable[[], None]
        Called once when the writer process is gone.
    """

    def __init__(self, on_head: Callable[[int, bytes], None], on_lost: Callable[[], None]) -> None:
        super().__init__()
        self.on_head = on_head
        self.on_lost = on_lost
        self._next = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self.lost = False

    async def request(self, kind: str, *args: Any) -> Any:
        """Send a request and wait for its answer; :class:`Problem` ``unavailable`` when the
        writer process is gone (nothing was acknowledged)."""
        if self.lost:
            raise Problem("unavailable", "the writer process is gone; retry")
        self._next += 1
        rid = self._next
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        self.send((kind, rid, *args))
        return await fut

    def tell(self, kind: str, *args: Any) -> None:
        """Send a request that has no answer."""
        self.send((kind, 0, *args))

    def frame_received(self, frame: tuple[Any, ...]) -> None:
        kind = frame[0]
        if kind == "head":
            self.on_head(frame[1], frame[2])
            return
        fut = self._pending.pop(frame[1], None)
        if fut is None or fut.done():
            return
        if kind == "res":
            fut.set_result(frame[2])
        else:
            fut.set_exception(Problem(frame[2], frame[3]))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(Problem("unavailable", "the writer process is gone; retry"))
        self.on_lost()
