"""Canonicalisation and Ed25519 checks of submitted messages in a pool of worker processes.

The RFC 8785 form and the signature check of many messages run in worker processes
(:class:`VerifierPool`), so they do not hold the GIL that the event loop and the writer share.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
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


def _check_chunk(items: list[tuple[bytes, dict[str, Any], bytes]]) -> list[Check]:
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

    The workers are started in the background on first use; until they are up (and with
    ``workers=0``, or for fewer than ``inline_below`` items) the checks run inline.
    """

    def __init__(self, workers: int, chunk: int = 64, inline_below: int = 8) -> None:
        self.workers = workers
        self.chunk = chunk
        self.inline_below = inline_below
        self._pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._lock = threading.Lock()

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
        """:func:`_check_chunk` of ``(key, message, signature)`` items (order kept); checks
        run inline below ``inline_below`` items (in a thread when *offload*)."""
        raw = [(raw_public_key(k), m, s) for k, m, s in items]
        pool = self._pool
        if not raw:
            return []
        if pool is None or len(raw) < self.inline_below:
            large = len(raw) >= self.inline_below
            if large and pool is None and self.workers > 0 and self._starting is None:
                self._starting = threading.Thread(
                    target=self.start, name="openbmd-verifier-start", daemon=True
                )
                self._starting.start()
            if offload:
                return await asyncio.to_thread(_check_chunk, raw)
            return _check_chunk(raw)
        loop = asyncio.get_running_loop()
        n = max(1, min(self.chunk, -(-len(raw) // self.workers)))
        futs = [
            loop.run_in_executor(pool, _check_chunk, raw[i : i + n]) for i in range(0, len(raw), n)
        ]
        out: list[Check] = []
        for part in await asyncio.gather(*futs):
            out.extend(part)
        return out
