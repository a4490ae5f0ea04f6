"""The exchange service factory: :func:`create_app` builds the FastAPI app of one centre.

The running state (store, writer, keys, caches) is :class:`~openbmd.exchange.centre.Centre`;
the single writer is :mod:`openbmd.exchange.writer`; what every submission goes through is
:mod:`openbmd.exchange.intake`; the endpoints are the routers in
:mod:`openbmd.exchange.routers`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from openbmd.exchange.centre import Centre, CentreBase
from openbmd.exchange.errors import install_handlers
from openbmd.exchange.limits import BodyLimit
from openbmd.exchange.routers import agreements, dashboard, feed, log, messages, partners
from openbmd.exchange.schemas import MESSAGE_TYPES
from openbmd.exchange.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, centre: CentreBase | None = None) -> FastAPI:
    """Build the service. The database is migrated and the writer started at startup.

    *centre*: the serving state (default: a :class:`~openbmd.exchange.centre.Centre` with its
    writer in this process; a front process of ``serve --workers N`` passes a
    ``FrontCentre`` that reaches the writer process over a local socket).
    """
    settings = settings or (centre.settings if centre is not None else Settings())
    centre = centre if centre is not None else Centre(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await centre.start()
        try:
            yield
        finally:
            await centre.stop()

    app = FastAPI(
        title="openbmd Joint Data Exchange Centre",
        version="1",
        summary="Signed partner notifications, need-to-know sharing, an RFC 9162 log.",
        lifespan=lifespan,
    )
    app.state.centre = centre
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    install_handlers(app, set(MESSAGE_TYPES) | {"polygon", "circle"})
    for module in (partners, agreements, messages, log, feed, dashboard):
        app.include_router(module.router)
    return app
