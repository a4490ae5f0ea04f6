"""``serve --workers N``: one writer process and N front processes on one listening socket.

The writer process (this one) binds the port, opens the :class:`~openbmd.exchange.centre.Centre`
— the single writer, fusion, the checkpoint key and the rollback guard — and starts N front
processes (:mod:`openbmd.exchange.front`) that share the listening socket (the kernel spreads
the connections) and reach it over one private ``socketpair`` each (:mod:`openbmd.exchange.ipc`).
The writer process serves no HTTP itself: its CPU goes to group commits.

Failures. A front that dies (even SIGKILL) is restarted; the feed slots it held are given back;
its in-flight requests get no answer — a client resends, and an already committed message is
answered idempotently with its original index. When the writer process dies the fronts are
SIGKILLed by the kernel (``PR_SET_PDEATHSIG``; else they exit when their link closes), so nothing
is acknowledged without the writer and the port is free for a restart. SIGTERM/SIGINT stop the
fronts first (uvicorn's graceful shutdown answers what is in flight), then the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import multiprocessing as mp
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

from openbmd.exchange.centre import Centre
from openbmd.exchange.front import front_main
from openbmd.exchange.ipc import WriterEnd
from openbmd.exchange.settings import Settings

__all__ = ["bind", "serve_workers"]

log = logging.getLogger("openbmd.exchange")


def bind(host: str, port: int, wait_s: float = 10.0) -> socket.socket:
    """A listening TCP socket on (*host*, *port*), retrying while the port is still held (by
    the fronts of a writer process that was just killed)."""
    deadline = time.monotonic() + wait_s
    while True:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        sock.listen(2048)
        sock.set_inheritable(True)
        return sock


class _Supervisor:
    """The fronts of one writer process: start, restart when dead, stop."""

    def __init__(
        self,
        centre: Centre,
        listener: socket.socket,
        workers: int,
        uvicorn_options: dict[str, Any],
    ) -> None:
        self.centre = centre
        self.listener = listener
        self.workers = workers
        self.options = uvicorn_options
        self.ends: set[WriterEnd] = set()
        self.procs: list[BaseProcess | None] = [None] * workers
        self.ctx = mp.get_context("spawn")
        centre.notifier.listeners.append(self._push_heads)

    def _push_heads(self, _size: int) -> None:
        for end in list(self.ends):
            end.push_head()

    async def spawn(self, slot: int) -> None:
        """Start front *slot* (from the main thread: its death signal follows this thread)."""
        loop = asyncio.get_running_loop()
        mine, theirs = socket.socketpair()
        settings = self.centre.settings
        proc = self.ctx.Process(
            target=front_main,
            args=(settings, self.listener, theirs, os.getpid(), self.options),
            name=f"openbmd-front-{slot}",
        )
        proc.start()
        theirs.close()
        await loop.create_unix_connection(lambda: WriterEnd(self.centre, self.ends), sock=mine)
        self.procs[slot] = proc

    async def watch(self, stop: asyncio.Event) -> None:
        """Restart fronts that died, until *stop*."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
            for slot, proc in enumerate(self.procs):
                if proc is not None and not proc.is_alive() and not stop.is_set():
                    log.warning("front %d exited with %s; restarting it", slot, proc.exitcode)
                    proc.join()
                    await self.spawn(slot)

    def stop(self, timeout_s: float) -> None:
        """SIGTERM every front, wait up to *timeout_s*, then SIGKILL the rest."""
        live = [p for p in self.procs if p is not None and p.is_alive()]
        for p in live:
            p.terminate()
        deadline = time.monotonic() + timeout_s
        for p in live:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()


async def _main(settings: Settings, listener: socket.socket, workers: int, opts: Any) -> None:
    centre = Centre(settings)
    await centre.start()
    supervisor = _Supervisor(centre, listener, workers, opts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        for slot in range(workers):
            await supervisor.spawn(slot)
        log.info("writer process %d serving with %d front processes", os.getpid(), workers)
        await supervisor.watch(stop)
    finally:
        # fronts first: their in-flight submissions still reach the writer
        await loop.run_in_executor(None, supervisor.stop, 8.0)
        await centre.stop()


def serve_workers(
    settings: Settings, host: str, port: int, workers: int, uvicorn_options: dict[str, Any]
) -> None:
    """Run the writer process with *workers* front processes on (*host*, *port*)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    listener = bind(host, port)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        runner = asyncio.run
    try:
        runner(_main(settings, listener, workers, uvicorn_options))
    finally:
        listener.close()
