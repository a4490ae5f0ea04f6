"""``/v1/log``: the transparency log (RFC 9162 §2.1, C2SP formats).

Public: checkpoints, the log key, inclusion and consistency proofs — hashes and sizes, nothing
about who sent what to whom. The entries themselves are a signed read
(:func:`entries`): leaves of version 3 hold only tags and salted commitments
(:mod:`openbmd.exchange.entries`), and a partner is given the openings of its own slots and of
the public entries only.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from openbmd.exchange import entries as entry_format
from openbmd.exchange import merkle, note, received
from openbmd.exchange.domain import Cosignature
from openbmd.exchange.errors import Problem
from openbmd.exchange.routers._deps import AUTH_RESPONSES, SignedPartner, get_centre
from openbmd.exchange.schemas import (
    ConsistencyProof,
    CosignatureAccepted,
    InclusionProof,
    LogEntries,
)

router = APIRouter(prefix="/v1/log", tags=["log"])
T = TypeVar("T")

TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}}
}
Index = Annotated[int, Query(ge=0, le=2**62)]
BAD: dict[int | str, dict[str, Any]] = {
    422: {"description": "Out-of-range parameter (problem+json)"}
}


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


@router.get("/checkpoint", response_class=PlainTextResponse, responses=TEXT)
async def checkpoint(request: Request) -> PlainTextResponse:
    """The latest C2SP checkpoint signed by the centre, with the centre's timestamp line (a
    type-0x04 signature by its own key: when it first signed this tree) and stored witness
    cosignatures."""
    centre = get_centre(request)
    size, root, body, lines = await centre.signed_checkpoint()
    cosigs = await run_in_threadpool(centre.store.cosignatures, size, root)
    text = note.assemble_note(body, [*lines, *(c.line for c in cosigs)])
    return PlainTextResponse(text, headers={"Cache-Control": "no-store"})


@router.get(
    "/checkpoint/cosigned",
    response_class=PlainTextResponse,
    responses=TEXT | {404: {"description": "No checkpoint has that many cosignatures"}},
)
async def cosigned_checkpoint(
    request: Request,
    min_cosigners: Annotated[int, Query(ge=1, le=100, description="least cosignatures")] = 1,
) -> PlainTextResponse:
    """The largest checkpoint at least *min_cosigners* witnesses cosigned, signed by the centre
    and carrying every stored cosignature of it (what a verifier with a witness quorum checks)."""
    centre = get_centre(request)
    found = await run_in_threadpool(centre.store.latest_cosigned, min_cosigners)
    if found is None:
        raise Problem("not-found", f"no checkpoint has {min_cosigners} cosignatures yet")
    size, root = found
    body, line = await centre.signed_old_checkpoint(size, root)
    cosigs = await run_in_threadpool(centre.store.cosignatures, size, root)
    text = note.assemble_note(body, [line, *(c.line for c in cosigs)])
    return PlainTextResponse(text, headers={"Cache-Control": "no-store"})


@router.get("/key", response_class=PlainTextResponse, responses=TEXT)
async def key(request: Request) -> PlainTextResponse:
    """The centre's Ed25519 public key (SubjectPublicKeyInfo PEM); its note key name is the
    name on the checkpoint's signature line."""
    return PlainTextResponse(get_centre(request).public_key_pem)


def _shown_leaf(leaf: bytes, partner: str) -> bool:
    """May *partner* see these leaf bytes? A version-3 leaf reveals nothing (everyone needs it
    to find its own slots); a version-2 leaf names its parties, so only they see it."""
    if entry_format.slots_of(leaf) is not None:
        return True
    doc = received.parse_leaf(leaf)
    return doc is not None and received.expected_for(doc, partner)


@router.get("/entries", response_model=LogEntries, responses=AUTH_RESPONSES)
async def entries(
    request: Request, partner: SignedPartner, start: Index, end: Index
) -> dict[str, Any]:
    """Entries ``[start, end)`` for the signed caller: every leaf's hash (enough to recompute
    roots), its bytes (version 3: tags and salted commitments only), and the openings of the
    caller's own slots and of public entries; at most ``page_max`` per answer and never beyond
    the current tree size (the list may be shorter than asked)."""
    centre = get_centre(request)
    if end <= start:
        raise Problem("invalid-field", f"end: must be greater than start ({start})")
    end = min(end, centre.size, start + centre.settings.page_max)
    parties = [partner, entry_format.PUBLIC]
    rows, opened = (
        await run_in_threadpool(centre.store.entries_for, start, end, parties)
        if start < end
        else ([], {})
    )
    (tag_key,) = (await run_in_threadpool(centre.store.tag_keys, [partner])).values()
    out = []
    for i, leaf in rows:
        item: dict[str, Any] = {"index": i, "leaf_hash_b64": _b64(merkle.leaf_hash(leaf))}
        if _shown_leaf(leaf, partner):
            item["leaf_b64"] = _b64(leaf)
        item["openings"] = [
            {"party": p, "salt_b64": _b64(salt), "document_b64": _b64(doc)}
            for p, salt, doc in opened.get(i, [])
        ]
        out.append(item)
    return {"entries": out, "tag_key_b64": _b64(tag_key)}


async def _nodes(fn: Callable[..., T], *args: Any) -> T:
    """Run a Merkle computation over the store in a thread; a lost node is a named 503."""
    try:
        return await run_in_threadpool(fn, *args)
    except LookupError as exc:
        raise Problem(
            "log-damaged", f"{exc}; the operator must run `openbmd exchange audit`"
        ) from None


def _check_size(name: str, value: int, size: int) -> None:
    if value > size:
        raise Problem("invalid-field", f"{name}: {value} exceeds the current tree size {size}")


@router.get("/proof/inclusion", response_model=InclusionProof, responses=BAD)
async def inclusion(request: Request, index: Index, tree_size: Index) -> dict[str, Any]:
    """RFC 9162 §2.1.3 audit path of leaf *index* in the tree of *tree_size* leaves."""
    centre = get_centre(request)
    _check_size("tree_size", tree_size, centre.size)
    if index >= tree_size:
        raise Problem("invalid-field", f"index: {index} is not below tree_size {tree_size}")
    proof = await _nodes(merkle.inclusion_proof, index, tree_size, centre.store)
    return {"index": index, "tree_size": tree_size, "hashes_b64": [_b64(h) for h in proof]}


@router.get("/proof/consistency", response_model=ConsistencyProof, responses=BAD)
async def consistency(request: Request, first: Index, second: Index) -> dict[str, Any]:
    """RFC 9162 §2.1.4 consistency proof between tree sizes *first* ≤ *second*."""
    centre = get_centre(request)
    _check_size("second", second, centre.size)
    if first > second:
        raise Problem("invalid-field", f"first: {first} exceeds second {second}")
    proof = await _nodes(merkle.consistency_proof, first, second, centre.store)
    return {"first": first, "second": second, "hashes_b64": [_b64(h) for h in proof]}


COSIGN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {
                "schema": {
                    "type": "string",
                    "description": (
                        "the served checkpoint body, a blank line, one cosignature line "
                        "'— <witness> base64(keyID ‖ timestamp ‖ signature)'"
                    ),
                }
            }
        },
    }
}


@router.post(
    "/cosignatures",
    status_code=201,
    response_model=CosignatureAccepted,
    responses={
        422: {"description": "Malformed or invalid cosignature (problem+json)"},
        401: {"description": "Unknown witness (problem+json)"},
    },
    openapi_extra=COSIGN_BODY,
)
async def add_cosignature(request: Request) -> dict[str, Any]:
    """Store a witness cosignature (C2SP tlog-cosignature) of a checkpoint this log issued.

    Witnesses are registered partners; the line is verified against that partner's key.
    """
    centre = get_centre(request)
    raw = await request.body()
    if len(raw) > 16_384:
        raise Problem("invalid-field", "body: larger than 16 KiB")
    try:
        body, sigs = note.parse_note(raw)
        cp = note.parse_checkpoint(body)
    except note.NoteError as exc:
        raise Problem("invalid-field", f"body: {exc}") from None
    if len(sigs) != 1:
        raise Problem("invalid-field", "body: expected exactly one cosignature line")
    sig = sigs[0]
    if cp.origin != centre.settings.origin:
        raise Problem("bad-cosignature", f"origin: {cp.origin!r} is not this log")
    if cp.size > centre.size:
        raise Problem("bad-cosignature", f"size: {cp.size} exceeds the tree size {centre.size}")
    root = await _nodes(merkle.root_hash, cp.size, centre.store)
    if root != cp.root_hash or cp.extensions:
        raise Problem("bad-cosignature", "the checkpoint is not one this log issued")
    wkey = centre.cached_partner_key(sig.name) or await run_in_threadpool(
        centre.partner_key, sig.name
    )
    if wkey is None:
        raise Problem("unknown-partner", f"witness {sig.name!r} is not a registered partner")
    ok, ts = note.verify_cosignature(body, sig, sig.name, wkey)
    if not ok or ts is None:
        raise Problem("bad-cosignature", f"the cosignature by {sig.name!r} does not verify")
    if ts > time.time() + centre.settings.skew_seconds:
        raise Problem("future-timestamp", f"cosignature time {ts} is in the future")
    line = sig.line()
    await run_in_threadpool(
        centre.store.add_cosignature, Cosignature(sig.name, cp.size, cp.root_hash, line, ts)
    )
    return {"witness": sig.name, "tree_size": cp.size}
