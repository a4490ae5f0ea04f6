"""``/v1/agreements``: the sharing agreements the caller is party to (signed read), and a
sender's own signed agreement posted under open enrolment (:mod:`openbmd.exchange.enrolment`)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from openbmd.errors import InputError
from openbmd.exchange.domain import Agreement
from openbmd.exchange.enrolment import unregistered_parties
from openbmd.exchange.errors import Problem
from openbmd.exchange.routers._deps import AUTH_RESPONSES, SignedPartner, get_centre
from openbmd.exchange.schemas import AgreementModel

router = APIRouter(prefix="/v1/agreements", tags=["agreements"])


@router.get("", response_model=list[AgreementModel], responses=AUTH_RESPONSES)
async def list_agreements(request: Request, partner: SignedPartner) -> list[AgreementModel]:
    """Agreements where the caller is the sender or a recipient.

    A recipient sees only its own rules of another sender's agreement; the sender also gets
    the signature it gave the agreement (so it can check the centre applies what it signed).
    """
    found = await run_in_threadpool(get_centre(request).store.signed_agreements)
    out = []
    for a, signature in found:
        doc = a.to_dict()
        if a.sender == partner and signature is not None:
            doc["signature_b64"] = base64.b64encode(signature).decode("ascii")
        if a.sender != partner:
            doc["rules"] = [r for r in doc["rules"] if r["recipient"] == partner]
            if not doc["rules"]:
                continue
        out.append(AgreementModel.model_validate(doc))
    return out


POST_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    400: {"description": "Unsigned agreement or signature not base64 (problem+json)"},
    403: {"description": "Open enrolment disabled, or the caller is not the sender"},
    422: {
        "description": "Invalid field, an unregistered party, or a signature that is not "
        "the sender's (problem+json)"
    },
}


@router.post("", status_code=201, response_model=AgreementModel, responses=POST_RESPONSES)
async def post_agreement(
    request: Request, body: AgreementModel, partner: SignedPartner
) -> AgreementModel:
    """Insert or replace an agreement (open enrolment only): posted by its sender in a signed
    request, with the sender's ``signature_b64`` over the agreement, which the centre checks
    against the sender's key as ``openbmd exchange agreement add`` does."""
    centre = get_centre(request)
    if not centre.settings.open_enrolment:
        raise Problem(
            "enrolment-disabled", "agreements are loaded by the operator; open enrolment is off"
        )
    if partner != body.sender:
        raise Problem("sender-mismatch", f"only {body.sender!r} may post its agreements")
    if not body.signature_b64:
        raise Problem("bad-request", "signature_b64: the sender's signature is required")
    try:
        signature = base64.b64decode(body.signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise Problem("bad-request", "signature_b64: not base64") from None
    agreement = Agreement.from_dict(body.model_dump(exclude={"signature_b64"}))
    store = centre.store

    def put() -> None:
        missing = unregistered_parties(agreement, (p.name for p in store.partners()))
        if missing:
            raise Problem("unknown-recipient", f"not registered partners: {', '.join(missing)}")
        try:
            store.put_agreement(agreement, signature)
        except InputError as exc:
            raise Problem("bad-signature", str(exc), status=422) from None

    await run_in_threadpool(put)
    return body
