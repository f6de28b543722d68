"""The OpenAPI document, true about errors.

Every error is ``application/problem+json`` (RFC 9457, :mod:`api.errors`), so the document
says so: a ``Problem`` schema, and on each operation the problems it can answer with:

* 401 on every operation that takes a bearer token (the ``bearer`` security scheme), and 403
  on those that change something (reads that refuse some people declare 403 themselves);
* 404 where the path names a resource; 422 where there is a body, a query or a path
  parameter that is not plain text; 413 where there is a body (the limit is 1 MiB; the
  Events API's 512 KB);
* 409 and anything else particular to a route, declared on the route with :func:`problems`.

FastAPI's own 422 ``HTTPValidationError`` (never sent: validation errors are problems too) is
replaced where a 422 can happen, dropped elsewhere, and removed from the components.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.errors import PROBLEM

WRITES = frozenset({"post", "put", "patch", "delete"})
DESCRIPTIONS = {
    400: "The body could not be parsed (the detail says where)",
    401: "No valid bearer token",
    403: "Not allowed (see the role table in the README)",
    404: "No such resource",
    409: "Conflicts with the current state (the detail says how)",
    413: "The request body is over the limit",
    422: "Invalid input; `errors` names each field",
}
_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457 problem details).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "`about:blank`"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what is wrong, in a user's words"},
        "errors": {
            "type": "array",
            "description": "422: one entry per invalid field",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def problem_response(code: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or DESCRIPTIONS.get(code, "Error"),
        "content": {PROBLEM: {"schema": _REF}},
    }


def problems(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: ``problems(409)``, or with words: ``problems(c409="...")``."""
    out: dict[int | str, dict[str, Any]] = {code: problem_response(code) for code in codes}
    for key, description in described.items():
        code = int(key.removeprefix("c"))
        out[code] = problem_response(code, description)
    return out


def _expected(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    codes: set[int] = set()
    if operation.get("security"):
        codes.add(401)
        if method in WRITES:
            codes.add(403)
    if "{" in path:
        codes.add(404)
    if operation.get("requestBody"):
        codes |= {400, 413, 422}  # 400: the body does not parse (not JSON, broken form)
    for parameter in operation.get("parameters", ()):
        where, kind = parameter.get("in"), parameter.get("schema", {}).get("type")
        if where == "query" or (where == "path" and kind != "string"):
            codes.add(422)
    return codes


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the problems each operation answers with (in place); returns ``schema``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]  # FastAPI's guess; put back below where it can happen
            for code in sorted(_expected(path, method, operation)):
                found = responses.get(str(code))
                if found is None:
                    responses[str(code)] = problem_response(code)
                elif "content" not in found:
                    found["content"] = {PROBLEM: {"schema": _REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json`` and ``/docs``) document problems."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
