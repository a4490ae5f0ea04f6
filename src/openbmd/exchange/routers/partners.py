"""``/v1/partners``: the registered partners and their public keys (public, read-only), and
open enrolment (:mod:`openbmd.exchange.enrolment`) where the centre allows it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openbmd.exchange.enrolment import enrol, new_partner_key
from openbmd.exchange.errors import Problem
from openbmd.exchange.routers._deps import check_signed, get_centre
from openbmd.exchange.schemas import EnrolRequest, PartnerOut

router = APIRouter(prefix="/v1/partners", tags=["partners"])

ENROL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": PartnerOut, "description": "Already enrolled with this key: no change"},
    400: {"description": "Not an Ed25519 public key (problem+json)"},
    401: {"description": "Missing or bad request signature by the new key (problem+json)"},
    403: {"description": "Open enrolment disabled, or the header names another partner"},
    409: {"description": "Name or key registered otherwise, or replayed nonce (problem+json)"},
    422: {"description": "Invalid field or stale/future timestamp (problem+json)"},
}


def _out(p: Any) -> PartnerOut:
    return PartnerOut(
        name=p.name,
        fingerprint=p.fingerprint,
        public_key_pem=p.public_key_pem,
        rotations=[{k: str(v) for k, v in r.items()} for r in p.rotations],
    )


@router.get("", response_model=list[PartnerOut])
async def list_partners(request: Request) -> list[PartnerOut]:
    """Every registered partner with its Ed25519 public key, fingerprint and the rotations
    (each signed by the key it replaced) that led to it."""
    partners = await run_in_threadpool(get_centre(request).store.partners)
    return [_out(p) for p in partners]


@router.post("", status_code=201, response_model=PartnerOut, responses=ENROL_RESPONSES)
async def enrol_partner(
    request: Request,
    body: EnrolRequest,
    x_openbmd_partner: Annotated[str | None, Header(description="= name")] = None,
    x_openbmd_timestamp: Annotated[str | None, Header(description="POSIX seconds")] = None,
    x_openbmd_nonce: Annotated[str | None, Header(description="16-128 [A-Za-z0-9_-]")] = None,
    x_openbmd_signature: Annotated[str | None, Header(description="base64 Ed25519")] = None,
) -> JSONResponse:
    """Enrol partner *name* with *public_key_pem* (open enrolment only): the request must be
    signed by that key (proof of possession), as a signed read is, with the name as partner."""
    centre = get_centre(request)
    if not centre.settings.open_enrolment:
        raise Problem(
            "enrolment-disabled",
            "this centre registers partners through its operator (openbmd exchange partner "
            "add); open enrolment is off",
        )
    key = new_partner_key(body.public_key_pem)
    if x_openbmd_partner is not None and x_openbmd_partner != body.name:
        raise Problem("sender-mismatch", "X-OpenBMD-Partner must be the name enrolled")
    await check_signed(
        centre,
        x_openbmd_partner,
        request.method,
        request.url.path,
        request.query_params.multi_items(),
        x_openbmd_timestamp,
        x_openbmd_nonce,
        x_openbmd_signature,
        key=key,
    )
    partner, created = await run_in_threadpool(enrol, centre.store, body.name, body.public_key_pem)
    return JSONResponse(_out(partner).model_dump(), status_code=201 if created else 200)
