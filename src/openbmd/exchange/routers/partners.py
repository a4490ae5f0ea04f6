"""``/v1/partners``: the registered partners and their public keys (public, read-only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from openbmd.exchange.routers._deps import get_centre
from openbmd.exchange.schemas import PartnerOut

router = APIRouter(prefix="/v1/partners", tags=["partners"])


@router.get("", response_model=list[PartnerOut])
async def list_partners(request: Request) -> list[PartnerOut]:
    """Every registered partner with its Ed25519 public key and fingerprint."""
    partners = await run_in_threadpool(get_centre(request).store.partners)
    return [
        PartnerOut(name=p.name, fingerprint=p.fingerprint, public_key_pem=p.public_key_pem)
        for p in partners
    ]
