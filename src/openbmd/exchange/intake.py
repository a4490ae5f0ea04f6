"""The one acceptance path of submitted messages, for ``POST /v1/messages`` and its batch.

Every submission — alone or as an item of ``POST /v1/messages:batch`` — is checked exactly the
same way, in this order: schema, sender = the ``X-OpenBMD-Partner`` header, the sender's key is
registered, every recipient is registered, ``sent_at`` skew (judged by the writer, after
idempotency), RFC 8785 form and the Ed25519 signature under the sender's registered key (in the
worker processes of :class:`~openbmd.exchange.sigpool.VerifierPool` under load, single messages
and batches alike), the sender's signature over its projections when given
(:mod:`openbmd.exchange.statements`), then in the single writer — in this process, or in the
writer process of ``serve --workers N`` — idempotency, nonce, sequence and agreement. Items are
independent: one bad
item gets its own problem document and does not stop the others. Logged items are queued to
the writer in request order (so one sender's sequence numbers may increase along a batch) and
answered only after their group commit returned: durably stored and in the log.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from openbmd.exchange import statements
from openbmd.exchange.domain import Outcome, Submission
from openbmd.exchange.errors import Problem, validation_problem
from openbmd.exchange.schemas import SubmitRequest
from openbmd.exchange.signing import Ed25519PublicKey
from openbmd.exchange.store import now_iso

if TYPE_CHECKING:
    from openbmd.exchange.centre import CentreBase

__all__ = ["Item", "Logged", "accept", "parse_item"]

Item = tuple[SubmitRequest, dict[str, Any]] | Problem
"""A schema-checked submission with its message exactly as received, or why it is not one."""


@dataclass(frozen=True, slots=True)
class Logged:
    """A submission in the log: its index, and ``created`` False for an idempotent repeat."""

    index: int
    message_id: str
    created: bool


class _Prepared(NamedTuple):
    message: dict[str, Any]
    signature: bytes
    key: Ed25519PublicKey
    model: Any
    skew_problem: tuple[str, str] | None
    projection: dict[str, Any] | None


def parse_item(item: Any) -> Item:
    """Schema-check one ``{"message", "signature"}`` document.

    Parameters
    ----------
    item : Any
        The decoded JSON of one submission.

    Returns
    -------
    Item
        ``(model, message as received)`` or the validation problem.
    """
    try:
        body = SubmitRequest.model_validate(item)
    except ValidationError as exc:
        return validation_problem([dict(e) for e in exc.errors()])
    return body, item["message"]


def _prepare(centre: CentreBase, partner: str, item: Item, now: float) -> _Prepared | Problem:
    """Check one item against the caller and the registered partners (keys cached)."""
    if isinstance(item, Problem):
        return item
    body, raw = item
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
    projection = body.projection.model_dump() if body.projection is not None else None
    sig = base64.b64decode(body.signature)
    return _Prepared(raw, sig, key, model, skew_problem, projection)


async def _refresh_keys(centre: CentreBase, partner: str, items: Sequence[Item]) -> None:
    """Reload the partner keys once if the caller, a sender or a recipient is not cached."""
    names = {partner}
    for item in items:
        if not isinstance(item, Problem):
            names.add(item[0].message.sender)
            names.update(item[0].message.recipients)
    missing = sorted(n for n in names if centre.cached_partner_key(n) is None)
    if missing:
        await run_in_threadpool(centre.partner_key, missing[0])


async def accept(
    centre: CentreBase, partner: str, items: Sequence[Item], now: float
) -> list[Logged | Problem]:
    """Check, sign-verify and log *items* of the authenticated *partner*.

    Parameters
    ----------
    centre : Centre
        The running centre.
    partner : str
        The ``X-OpenBMD-Partner`` of the request.
    items : Sequence[Item]
        Schema-checked submissions (or their problems), in request order.
    now : float
        POSIX time the request arrived (for the ``sent_at`` skew).

    Returns
    -------
    list[Logged | Problem]
        One answer per item, in order.
    """
    await _refresh_keys(centre, partner, items)
    prepared = [_prepare(centre, partner, item, now) for item in items]
    ready = [(i, p) for i, p in enumerate(prepared) if not isinstance(p, Problem)]
    checks = await centre.verifier.check_many(
        [(p.key, p.message, p.signature) for _, p in ready],
        offload=centre.settings.verify_in_threadpool,
    )
    results: list[Logged | Problem | None] = [
        p if isinstance(p, Problem) else None for p in prepared
    ]
    received_at = now_iso()
    subs: list[tuple[int, Submission]] = []
    for (i, p), check in zip(ready, checks, strict=True):
        if isinstance(check, str):
            results[i] = Problem("invalid-field", f"message: {check}")
        elif not check[2]:
            results[i] = Problem(
                "bad-signature",
                "signature: does not verify over the RFC 8785 form of "
                "the message under the sender's registered key",
            )
        elif p.projection is not None and isinstance(
            statement := statements.check_submitted(p.message, p.projection, p.key), str
        ):
            results[i] = Problem("bad-signature", statement)
        else:
            m = p.model
            sub = Submission(
                message=p.message,
                canonical=check[0],
                body_hash=check[1],
                signature=p.signature,
                sender=m.sender,
                message_id=m.message_id,
                seq=m.seq,
                nonce=m.nonce,
                type=m.type,
                received_at=received_at,
                skew_problem=p.skew_problem,
                statement=statement if p.projection is not None else None,  # type: ignore[arg-type]
            )
            subs.append((i, sub))
    outcomes: list[Outcome] = await centre.submit_many([s for _, s in subs])
    for (i, sub), outcome in zip(subs, outcomes, strict=True):
        if outcome.problem is not None:
            results[i] = Problem(*outcome.problem)
        else:
            assert outcome.index is not None
            results[i] = Logged(outcome.index, sub.message_id, outcome.created)
    return [r for r in results if r is not None]
