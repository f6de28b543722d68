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

from store.errors import DomainError, Invalid

log = logging.getLogger("watchbill.api")
PROBLEM = "application/problem+json"
#: FastAPI and Starlette answer 400 for a body they cannot parse (JSON that is not even
#: text, broken multipart); here that is 422 naming the body, like any invalid input.
_UNREADABLE = {"There was an error parsing the body": "the body is not JSON in UTF-8"}


def problem(status: int, detail: str, *, title: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def domain_problem(exc: DomainError) -> JSONResponse:
    """The problem for a domain error (422s name their field)."""
    extra: dict[str, Any] = {}
    if isinstance(exc, Invalid):
        extra["errors"] = [{"field": exc.field, "message": exc.message}]
    return problem(exc.status, exc.detail, title=exc.title, **extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, detail, title="Unprocessable content", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # only the framework says 400: a body it cannot parse
            why = _UNREADABLE.get(str(exc.detail), str(exc.detail))
            errors = [{"field": "body", "message": why}]
            return problem(422, f"body: {why}", title="Unprocessable content", errors=errors)
        response = problem(exc.status_code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal error (this is a bug; it has been logged)")
