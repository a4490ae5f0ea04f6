"""Batch submission: ``POST /v1/messages:batch`` — many individually signed messages, one request.

Each item is exactly the body of ``POST /v1/messages`` (``{"message", "signature"}``) and is
checked exactly as there: schema, sender = the ``X-OpenBMD-Partner`` header, RFC 8785 form,
Ed25519 signature under the sender's registered key, known recipients, ``sent_at`` skew, then
(in the single writer) idempotency, nonce, sequence and agreement. Items are independent — one
bad item does not stop the others, it gets its own problem document — and are queued to the
writer in request order (so one sender's sequence numbers may increase along the batch). The
answer comes only after every accepted item's group commit returned: each accepted item is
durably stored and in the log when its index is reported. The RFC 8785 form and the signature
check of a batch's items run in a pool of worker processes (:class:`VerifierPool`), so they do
not hold the GIL that the event loop and the writer share.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from openbmd.errors import InputError
from openbmd.exchange.domain import Outcome, Submission
from openbmd.exchange.errors import Problem, validation_problem
from openbmd.exchange.routers._deps import get_centre
from openbmd.exchange.schemas import SubmitRequest
from openbmd.exchange.signing import (
    Ed25519PublicKey,
    canonical_json,
    public_key_from_raw,
    raw_public_key,
    verify,
)
from openbmd.exchange.store import now_iso

if TYPE_CHECKING:
    from openbmd.exchange.app import Centre

__all__ = ["BATCH_MAX", "VerifierPool", "router"]

BATCH_MAX = 1000

router = APIRouter(prefix="/v1", tags=["messages"])


# ----------------------------------------------------------------------------- verification
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
        self, items: list[tuple[Ed25519PublicKey, dict[str, Any], bytes]]
    ) -> list[Check]:
        """:func:`_check_chunk` of ``(key, message, signature)`` items (order kept)."""
        raw = [(raw_public_key(k), m, s) for k, m, s in items]
        pool = self._pool
        if pool is None or len(raw) < self.inline_below:
            if pool is None and self.workers > 0 and self._starting is None:
                self._starting = threading.Thread(
                    target=self.start, name="openbmd-verifier-start", daemon=True
                )
                self._starting.start()
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


# ----------------------------------------------------------------------------- one item
def _item_problem(i: int, problem: Problem) -> dict[str, Any]:
    doc = problem.body()
    doc["item"] = i
    return doc


def _prepare(centre: Centre, partner: str, item: Any, now: float) -> _Prepared | Problem:
    """Validate one item (everything but its RFC 8785 form, the signature and the writer's
    checks)."""
    try:
        body = SubmitRequest.model_validate(item)
    except ValidationError as exc:
        return validation_problem([dict(e) for e in exc.errors()])
    model = body.message
    if partner != model.sender:
        return Problem(
            "sender-mismatch",
            f"sender: {model.sender!r} is not the authenticated partner {partner!r}",
        )
    key = centre.cached_partner_key(model.sender)
    if key is None:
        return Problem("unknown-partner", f"sender: partner {model.sender!r} is not registered")
    for recipient in model.recipients:
        if centre.cached_partner_key(recipient) is None:
            return Problem(
                "unknown-recipient", f"recipients: {recipient!r} is not a registered partner"
            )
    skew = centre.settings.skew_seconds
    delta = model.sent_at.timestamp() - now
    skew_problem = None
    if delta < -skew:
        skew_problem = ("stale-timestamp", f"sent_at: more than {skew:g} s in the past")
    elif delta > skew:
        skew_problem = ("future-timestamp", f"sent_at: more than {skew:g} s in the future")
    return _Prepared(
        item["message"],
        base64.b64decode(body.signature),
        key,
        model.sender,
        model.message_id,
        model.seq,
        model.nonce,
        model.type,
        skew_problem,
    )


class _Prepared(NamedTuple):
    message: dict[str, Any]
    signature: bytes
    key: Ed25519PublicKey
    sender: str
    message_id: str
    seq: int
    nonce: str
    type: str
    skew_problem: tuple[str, str] | None


# ----------------------------------------------------------------------------- endpoint
class BatchRequest(BaseModel):
    """``POST /v1/messages:batch`` body: up to 1000 items, each a ``POST /v1/messages`` body
    (``SubmitRequest``: the message and the sender's signature), checked one by one."""

    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=BATCH_MAX,
        description="each item a SubmitRequest: {message, signature}",
    )


class ItemResult(BaseModel):
    """One item's answer: ``status`` 201 (accepted now) or 200 (idempotent resubmission) with
    ``index`` and ``message_id``; otherwise the problem document (``type``, ``title``,
    ``status``, ``detail``) of that item, with ``item`` its position in the request."""

    status: int
    index: int | None = None
    message_id: str | None = None
    type: str | None = None
    title: str | None = None
    detail: str | None = None
    item: int | None = None


class BatchAnswer(BaseModel):
    """One result per item, in request order."""

    results: list[ItemResult]


@router.post(
    "/messages:batch",
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
    try:
        doc = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise Problem("bad-request", "body: not JSON") from None
    try:
        items = BatchRequest.model_validate(doc).items
    except ValidationError as exc:
        raise validation_problem([dict(e) for e in exc.errors()]) from None
    if centre.cached_partner_key(x_openbmd_partner) is None:
        await run_in_threadpool(centre.partner_key, x_openbmd_partner)  # refresh the cache
    now = time.time()
    prepared = [_prepare(centre, x_openbmd_partner, item, now) for item in items]
    ready = [(i, p) for i, p in enumerate(prepared) if not isinstance(p, Problem)]
    checks = await centre.verifier.check_many([(p.key, p.message, p.signature) for _, p in ready])
    results: list[dict[str, Any] | None] = [
        _item_problem(i, p) if isinstance(p, Problem) else None for i, p in enumerate(prepared)
    ]
    received_at = now_iso()
    subs: list[tuple[int, Submission]] = []
    for (i, p), check in zip(ready, checks, strict=True):
        if isinstance(check, str):
            results[i] = _item_problem(i, Problem("invalid-field", f"message: {check}"))
        elif not check[2]:
            results[i] = _item_problem(
                i,
                Problem(
                    "bad-signature",
                    "signature: does not verify over the RFC 8785 form of "
                    "the message under the sender's registered key",
                ),
            )
        else:
            sub = Submission(
                message=p.message,
                canonical=check[0],
                body_hash=check[1],
                signature=p.signature,
                sender=p.sender,
                message_id=p.message_id,
                seq=p.seq,
                nonce=p.nonce,
                type=p.type,
                received_at=received_at,
                skew_problem=p.skew_problem,
            )
            subs.append((i, sub))
    outcomes: list[Outcome] = await centre.submit_many([s for _, s in subs])
    for (i, sub), outcome in zip(subs, outcomes, strict=True):
        if outcome.problem is not None:
            results[i] = _item_problem(i, Problem(*outcome.problem))
        else:
            results[i] = {
                "status": 201 if outcome.created else 200,
                "index": outcome.index,
                "message_id": sub.message_id,
            }
    return JSONResponse({"results": results})
