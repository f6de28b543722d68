"""RFC 9457 problem+json for every error: domain errors, validation errors, HTTP errors."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import validation_text
from store.errors import DomainError, Invalid

log = logging.getLogger("watchbill.api")
PROBLEM = "application/problem+json"
#: RFC 9110's names where Python's ``HTTPStatus`` still has the older ones.
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def title_of(status: int) -> str:
    return TITLES.get(status) or HTTPStatus(status).phrase


#: Starlette answers 400 for a body it cannot parse at all (not text, broken multipart): said
#: here in a user's words, like JSON that does not parse.
_UNREADABLE = {
    "There was an error parsing the body": "the body could not be read as a form or JSON",
    "Invalid multipart data.": "the body could not be read as multipart form data",
}


def problem(status: int, detail: str, *, title: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or title_of(status),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM)


def domain_problem(exc: DomainError) -> JSONResponse:
    """The problem for a domain error (422s name their field)."""
    extra: dict[str, Any] = dict(exc.extra)
    if isinstance(exc, Invalid):
        extra["errors"] = [{"field": exc.field, "message": exc.message}]
    return problem(exc.status, exc.detail, title=exc.title, **extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        records = exc.errors()
        broken = next((e for e in records if e.get("type") == "json_invalid"), None)
        if broken is not None:  # not JSON at all: 400, saying where it breaks
            loc = broken.get("loc", ())
            position = loc[-1] if loc and isinstance(loc[-1], int) else 0
            reason = str((broken.get("ctx") or {}).get("error", "malformed"))
            detail = validation_text.json_problem(exc.body or "", position, reason)
            return problem(400, detail, errors=[{"field": "body", "message": detail}])
        errors = validation_text.errors(records)
        return problem(422, validation_text.detail(errors), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # only the framework says 400 here: a body it cannot parse
            why = _UNREADABLE.get(str(exc.detail), str(exc.detail))
            return problem(400, why, errors=[{"field": "body", "message": why}])
        response = problem(exc.status_code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal error (this is a bug; it has been logged)")
