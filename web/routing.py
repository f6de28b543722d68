"""The route class of every web page: errors become HTML pages, not problem+json.

* ``SignInRequired`` → 303 to ``/login?next=<this page>``.
* A service's ``DomainError`` → an error page with its status and its sentence.
* A malformed request (a missing form field, a bad query parameter) → a 422 page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from store.errors import DomainError
from web.deps import HEADERS, Page, SignInRequired
from web.rendering import render_template


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def error_page(request: Request, status: int, message: str) -> Response:
    page: Page | None = getattr(request.state, "web_page", None)
    if page is not None:
        return page.render("error.html", status=status, message=message, status_code=status)
    body = render_template(
        "error.html",
        {
            "page": None,
            "me": None,
            "path": request.url.path,
            "flash": None,
            "message": message,
            "status_code": status,
        },
    )
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'input'}: {error.get('msg', 'invalid')}")
    return "This request is not valid: " + "; ".join(parts)


class WebRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return RedirectResponse(sign_in_url(request), status_code=303, headers=HEADERS)
            except DomainError as exc:
                return error_page(request, exc.status, exc.detail)
            except RequestValidationError as exc:
                return error_page(request, 422, _validation_message(exc))

        return route
