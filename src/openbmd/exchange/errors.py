"""RFC 7807 problem details: one exception type, one ``type`` URI per failure, and handlers.

Every error the service returns — including FastAPI's validation errors (422) and Starlette's
404/405 — is ``application/problem+json`` with ``type``, ``title``, ``status`` and ``detail``;
validation problems add ``errors`` (each with the dotted ``field`` and a ``message``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["PROBLEM_BASE", "Problem", "ProblemResponse", "install_handlers", "problem_type"]

PROBLEM_BASE = "https://openbmd.org/problems/"
MEDIA_TYPE = "application/problem+json"

#: Errors meaning the database cannot be reached right now (answered 503, never 500).
DATABASE_DOWN: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)

#: slug → (HTTP status, title)
KINDS: dict[str, tuple[int, str]] = {
    "invalid-field": (422, "A field is missing or out of range"),
    "bad-signature": (401, "The signature does not verify"),
    "unknown-partner": (401, "The partner or its key is not registered"),
    "missing-credentials": (401, "The request is not signed"),
    "sender-mismatch": (403, "The message sender is not the authenticated partner"),
    "replayed-nonce": (409, "The nonce was already used by this partner"),
    "stale-timestamp": (422, "The timestamp is too far in the past"),
    "future-timestamp": (422, "The timestamp is too far in the future"),
    "sequence-not-increasing": (409, "The sequence number is not greater than the last one"),
    "conflict": (409, "The message_id exists with a different body"),
    "not-covered-by-agreement": (403, "The agreement does not cover this message"),
    "unknown-agreement": (422, "The agreement is not registered"),
    "unknown-recipient": (422, "A recipient is not a registered partner"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed"),
    "bad-request": (400, "The request is malformed"),
    "bad-cosignature": (422, "The cosignature does not verify"),
    "bad-key": (400, "The public key is not an Ed25519 PEM public key"),
    "enrolment-disabled": (403, "Open enrolment is disabled on this centre"),
    "name-taken": (409, "The partner name or key is registered with another key or name"),
    "payload-too-large": (413, "The request body is too large"),
    "too-many-feeds": (429, "Too many open feeds for this partner"),
    "unavailable": (503, "The service is not ready"),
    "log-damaged": (503, "The log's Merkle store is damaged"),
    "internal": (500, "Internal error"),
}


def problem_type(slug: str) -> str:
    """The ``type`` URI of a problem slug."""
    return PROBLEM_BASE + slug


class Problem(Exception):
    """An error answered as an RFC 7807 problem document."""

    def __init__(self, slug: str, detail: str, status: int | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.status = status if status is not None else KINDS[slug][0]
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The problem document."""
        title = KINDS.get(self.slug, (self.status, self.slug))[1]
        doc: dict[str, Any] = {
            "type": problem_type(self.slug),
            "title": title,
            "status": self.status,
            "detail": self.detail,
        }
        doc.update(self.extra)
        return doc


class ProblemResponse(JSONResponse):
    """A JSON response with the problem media type."""

    media_type = MEDIA_TYPE


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> ProblemResponse:
    """Render *problem*."""
    return ProblemResponse(problem.body(), status_code=problem.status, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    # drop discriminated-union tags such as 'launch_event' / 'polygon' inserted by pydantic
    return ".".join(p for p in parts if not p.endswith("]") and p not in _TAGS) or "(body)"


_TAGS: set[str] = set()


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    """A 422 ``invalid-field`` problem naming every offending field."""
    items = []
    for err in errors:
        field = _field(err.get("loc", ()))
        msg = str(err.get("msg", "invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        items.append({"field": field, "message": msg})
    first = items[0] if items else {"field": "(body)", "message": "invalid"}
    detail = f"{first['field']}: {first['message']}"
    if len(items) > 1:
        detail += f" (and {len(items) - 1} more)"
    return Problem("invalid-field", detail, errors=items)


def install_handlers(app: FastAPI, tags: set[str]) -> None:
    """Map every error to problem+json. *tags*: discriminator values to hide from field paths."""
    _TAGS.update(tags)

    async def on_problem(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_validation(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(list(exc.errors())))

    async def on_http(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = {
            404: "not-found",
            405: "method-not-allowed",
            400: "bad-request",
            413: "payload-too-large",
        }.get(exc.status_code, "bad-request" if exc.status_code < 500 else "internal")
        headers = dict(exc.headers) if exc.headers else None
        detail = str(exc.detail) if exc.detail else KINDS[slug][1]
        return problem_response(Problem(slug, detail, status=exc.status_code), headers)

    async def on_error(request: Request, exc: Exception) -> ProblemResponse:
        if isinstance(exc, DATABASE_DOWN):
            return problem_response(Problem("unavailable", "database unavailable; retry"))
        return problem_response(Problem("internal", "internal server error"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_error)
    for kind in DATABASE_DOWN:
        app.add_exception_handler(kind, on_error)
