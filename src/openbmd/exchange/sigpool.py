"""Canonicalisation and Ed25519 checks of submitted messages in a pool of worker processes.

The RFC 8785 form and the signature check of many messages run in worker processes
(:class:`VerifierPool`), so they do not hold the GIL that the event loop and the writer share.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from openbmd.errors import InputError
from openbmd.exchange.signing import (
    Ed25519PublicKey,
    canonical_json,
    public_key_from_raw,
    raw_public_key,
    verify,
)

__all__ = ["Check", "VerifierPool"]


Check = tuple[bytes, bytes, bool] | str
"""``(canonical bytes, SHA-256, signature ok)``, or why the message has no RFC 8785 form."""
_Item = tuple[bytes, dict[str, Any], bytes]


def _check_chunk(items: list[_Item]) -> list[Check]:
    """RFC 8785 form, its hash and the Ed25519 check of ``(raw public key, message,
    signature)`` items (in a worker process, or inline)."""
    keys: dict[bytes, Ed25519PublicKey] = {}
    out: list[Check] = []
    for raw, message, sig in items:
        try:
            canonical = canonical_json(message)
        except InputError as exc:
            out.append(str(exc))
            continue
        key = keys.get(raw)
        if key is None:
            key = keys[raw] = public_key_from_raw(raw)
        out.append((canonical, hashlib.sha256(canonical).digest(), verify(key, canonical, sig)))
    return out


class VerifierPool:
    """Canonicalisation and signature checks in worker processes, in chunks (one inter-process
    round trip per chunk), so they do not hold the GIL of the event loop and the writer.

    Concurrent calls are coalesced: every check requested during one turn of the event loop
    (e.g. many ``POST /v1/messages`` of one message each) goes out in the same chunks, so a
    single message costs a share of a round trip, not a whole one. The workers are started in
    the background once there is load — a call of ``start_at`` items or more, or 8 × ``start_at``
    items within one second — and until they are up (and with ``workers=0``) the checks run
    inline (a test client that posts a few messages never spawns them).
    """

    def __init__(self, workers: int, chunk: int = 64, start_at: int = 8) -> None:
        self.workers = workers
        self.chunk = chunk
        self.start_at = start_at
        self._window = (0.0, 0)  # (start of the current second, items checked inline in it)
        self._pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending: list[tuple[list[_Item], asyncio.Future[list[Check]]]] = []

    def start(self) -> None:
        """Start the worker processes (blocking)."""
        import multiprocessing as mp

        with self._lock:
            if self.workers <= 0 or self._pool is not None:
                return
            pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"))
        # warm the workers up (spawn, imports) before the first request needs them
        for f in [pool.submit(_check_chunk, []) for _ in range(self.workers)]:
            f.result()
        with self._lock:
            self._pool = pool

    def stop(self) -> None:
        """Stop the worker processes (waits for a background start to finish first)."""
        if self._starting is not None:
            self._starting.join()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def check_many(
        self, items: list[tuple[Ed25519PublicKey, dict[str, Any], bytes]], offload: bool = False
    ) -> list[Check]:
        """:func:`_check_chunk` of ``(key, message, signature)`` items (order kept); inline
        while the pool is not up (in a thread when *offload*)."""
        raw = [(raw_public_key(k), m, s) for k, m, s in items]
        if not raw:
            return []
        if self._pool is None:
            if self.workers > 0 and self._starting is None and self._loaded(len(raw)):
                self._starting = threading.Thread(
                    target=self.start, name="openbmd-verifier-start", daemon=True
                )
                self._starting.start()
            if offload:
                return await asyncio.to_thread(_check_chunk, raw)
            return _check_chunk(raw)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[Check]] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((raw, fut))
        return await fut

    def _loaded(self, n: int) -> bool:
        """Is there enough load (*n* items now) to start the workers?"""
        now = time.monotonic()
        since, count = self._window
        if now - since > 1.0:
            since, count = now, 0
        self._window = (since, count + n)
        return n >= self.start_at or count + n >= 8 * self.start_at

    def _flush(self) -> None:
        """Send everything requested since the last flush out in chunks."""
        pending, self._pending = self._pending, []
        flat = [item for raw, _ in pending for item in raw]
        asyncio.get_running_loop().create_task(self._dispatch(pending, flat))

    async def _dispatch(
        self, pending: list[tuple[list[_Item], asyncio.Future[list[Check]]]], flat: list[_Item]
    ) -> None:
        loop = asyncio.get_running_loop()
        pool = self._pool
        try:
            if pool is None:  # stopped meanwhile
                out = _check_chunk(flat)
            else:
                n = max(1, min(self.chunk, -(-len(flat) // self.workers)))
                futs = [
                    loop.run_in_executor(pool, _check_chunk, flat[i : i + n])
                    for i in range(0, len(flat), n)
                ]
                out = [c for part in await asyncio.gather(*futs) for c in part]
        except BaseException as exc:  # a broken pool: every waiter hears it
            for _, fut in pending:
                if not fut.done():
                    fut.set_exception(exc)
            return
        at = 0
        for raw, fut in pending:
            if not fut.done():
                fut.set_result(out[at : at + len(raw)])
            at += len(raw)
