"""``/v1/partners``: the registered partners and their public keys (public, read-only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from openbmd.exchange.routers._deps import get_centre
from openbmd.exchange.schemas import PartnerOut

router = APIRouter(prefix="/v1/partners", tags=["partners"])


@router.get("", response_model=list[PartnerOut])
async def list_partners(request: Request) -> list[PartnerOut]:
    """Every registered partner with its Ed25519 public key, fingerprint and the rotations
    (each signed by the key it replaced) that led to it."""
    partners = await run_in_threadpool(get_centre(request).store.partners)
    return [
        PartnerOut(
            name=p.name,
            fingerprint=p.fingerprint,
            public_key_pem=p.public_key_pem,
            rotations=[{k: str(v) for k, v in r.items()} for r in p.rotations],
        )
        for p in partners
    ]
