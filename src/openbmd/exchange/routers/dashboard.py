"""``/dashboard``: the live map of a partner's view, served as static files by the centre.

The page (``exchange/web/dashboard.*``) is plain JavaScript that signs the partner's feed and
view requests itself with WebCrypto Ed25519 (the key is read in the browser and never sent),
so these routes only serve files: the page, its scripts and style, an icon, and the bundled
Natural Earth outlines (``openbmd/data/countries-110m.json``, TopoJSON, read as package data —
the exchange does not import the catalogue). Nothing here is authenticated or personal; what a
partner sees is decided by the signed ``/v1`` routes the page calls.

Every answer carries a strict Content-Security-Policy (only this origin, no inline script or
style, no framing, no form posts), ``Referrer-Policy: no-referrer`` and ``nosniff``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from openbmd.exchange.errors import Problem
from openbmd.exchange.routers import log
from openbmd.exchange.routers._deps import get_centre

router = APIRouter(prefix="/dashboard", include_in_schema=False)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

#: served name → (package, file, media type); nothing outside this table is ever read
ASSETS: dict[str, tuple[str, str, str]] = {
    "": ("openbmd.exchange", "web/dashboard.html", "text/html; charset=utf-8"),
    "dashboard.js": ("openbmd.exchange", "web/dashboard.js", "text/javascript; charset=utf-8"),
    "geo.js": ("openbmd.exchange", "web/geo.js", "text/javascript; charset=utf-8"),
    "signin.js": ("openbmd.exchange", "web/signin.js", "text/javascript; charset=utf-8"),
    "dashboard.css": ("openbmd.exchange", "web/dashboard.css", "text/css; charset=utf-8"),
    "icon.svg": ("openbmd.exchange", "web/icon.svg", "image/svg+xml"),
    "countries.json": ("openbmd", "data/countries-110m.json", "application/json"),
}


@cache
def asset_bytes(name: str) -> bytes:
    """The bytes of served asset *name* (read once from the installed package)."""
    package, path, _ = ASSETS[name]
    return resources.files(package).joinpath(path).read_bytes()


def _serve(name: str) -> Response:
    if name not in ASSETS:
        raise Problem("not-found", f"/dashboard/{name}: no such file")
    cache_control = "no-cache" if name == "" else "public, max-age=300"
    return Response(
        asset_bytes(name),
        media_type=ASSETS[name][2],
        headers=SECURITY_HEADERS | {"Cache-Control": cache_control},
    )


@router.get("")
async def page() -> Response:
    """The dashboard page."""
    return _serve("")


@router.get("/log.json")
async def log_state(request: Request) -> JSONResponse:
    """The log panel's data in one answer that is never a 404 (a browser logs every failed
    fetch as a console error): the latest checkpoint note (``GET /v1/log/checkpoint``), the
    latest one a witness cosigned (``GET /v1/log/checkpoint/cosigned``, or null) and the name
    of the centre's note key (to tell its own signature lines from the witnesses')."""
    latest = await log.checkpoint(request)
    cosigned: str | None
    try:
        cosigned = bytes((await log.cosigned_checkpoint(request, 1)).body).decode("utf-8")
    except Problem:
        cosigned = None
    doc = {
        "checkpoint": bytes(latest.body).decode("utf-8"),
        "cosigned": cosigned,
        "centre_key_name": get_centre(request).settings.note_key_name,
    }
    return JSONResponse(doc, headers=SECURITY_HEADERS | {"Cache-Control": "no-store"})


@router.get("/{name}")
async def asset(name: str) -> Response:
    """One of the page's files (scripts, style, icon, country outlines)."""
    return _serve(name)
