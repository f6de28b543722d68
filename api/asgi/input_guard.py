"""Refuse control characters in URLs before anything reads them.

PostgreSQL refuses NUL in text, and no id, token or filter of ours holds a control character,
so one check at the door covers every route (the unauthenticated ones included): a control
character other than tab and newline in the path is 404 (no such resource), in the query
string 422 naming the parameter. Request bodies are checked by their schemas
(``api.schemas.people.Strict``) and the event parsers.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import problem
from people.validation import control_character


class RefuseControlCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = _refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refusal(scope: Scope) -> ASGIApp | None:
    path: str = scope.get("path", "")
    why = control_character(path)
    if why is not None:
        return problem(404, f"no such resource: the path {why}")
    query: bytes = scope.get("query_string", b"")
    if not query:
        return None
    text = query.decode("utf-8", errors="replace")
    for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
        why = control_character(name) or control_character(value)
        if why is not None:
            field = name if control_character(name) is None else "query"
            return problem(
                422,
                f"{field}: {why}",
                title="Unprocessable content",
                errors=[{"field": field, "message": why}],
            )
    return None
