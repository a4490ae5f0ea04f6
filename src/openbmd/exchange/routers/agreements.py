"""``/v1/agreements``: the sharing agreements the caller is party to (signed read)."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

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
