"""Validation errors in a user's words: pydantic's error records become "field: what to fix".

Used for request bodies and queries (422) and for the command line (settings from the
environment, options). Pure: records in, text out. Nothing of pydantic's own wording
("Input should be", "Value error,") reaches a user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

LOCATIONS = ("body", "query", "path", "header", "cookie")
TIMESTAMP_HINT = "an RFC 3339 timestamp with an offset, e.g. 2026-03-08T09:00:00+01:00"


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "layers", 0, "name")`` → ``layers.0.name`` (``body`` for the body itself)."""
    parts = [str(p) for p in loc if p not in LOCATIONS]
    return ".".join(parts) or "body"


def _plural(count: Any, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _choices(expected: str) -> str:
    return expected.replace("'", "")


def message(error: Mapping[str, Any]) -> str:
    """What is wrong with one field, in plain words."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    simple = {
        "missing": "is required",
        "extra_forbidden": "is not a field this accepts",
        "string_type": "must be text",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be a JSON object",
        "list_type": "must be a list",
        "timezone_aware": f"must have an offset: {TIMESTAMP_HINT}",
        "timezone_naive": "must not have an offset",
        "datetime_type": f"must be {TIMESTAMP_HINT}",
        "datetime_parsing": f"must be {TIMESTAMP_HINT}",
        "datetime_from_date_parsing": f"must be {TIMESTAMP_HINT}",
        "date_parsing": "must be a date, e.g. 2026-03-08",
        "time_parsing": "must be a time of day HH:MM",
        "url_parsing": "must be a URL",
        "url_type": "must be a URL",
        "json_invalid": "is not valid JSON",
        "string_unicode": "must be valid text (UTF-8)",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if kind == "string_too_long":
        return f"must be at most {_plural(ctx.get('max_length'), 'character')}"
    if kind == "too_short":
        return f"must have at least {_plural(ctx.get('min_length'), 'item')}"
    if kind == "too_long":
        return f"must have at most {_plural(ctx.get('max_length'), 'item')}"
    bounds = {
        "greater_than_equal": ("ge", "must be {} or more"),
        "greater_than": ("gt", "must be more than {}"),
        "less_than_equal": ("le", "must be {} or less"),
        "less_than": ("lt", "must be less than {}"),
        "multiple_of": ("multiple_of", "must be a multiple of {}"),
    }
    if kind in bounds:
        key, text = bounds[kind]
        return text.format(ctx.get(key))
    if kind in ("enum", "literal_error"):
        return f"must be one of {_choices(str(ctx.get('expected', '')))}"
    if kind == "url_scheme":
        return f"must be a URL starting with {_choices(str(ctx.get('expected_schemes', '')))}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return _sentence(str(ctx["error"]))
    if kind == "value_error" and "reason" in ctx:  # e-mail addresses
        return f"is not a valid e-mail address: {ctx['reason']}"
    return _sentence(str(error.get("msg", "is not valid")))


def _sentence(text: str) -> str:
    """A library's sentence, its prefixes taken off (a validator's own message is kept)."""
    for prefix in ("Value error, ", "Assertion failed, "):
        text = text.removeprefix(prefix)
    if text.startswith("Input should be "):
        text = "must be " + text.removeprefix("Input should be ")
    return text


def errors(records: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """``[{"field", "message"}]`` for pydantic error records."""
    return [{"field": field_name(e.get("loc", ())), "message": message(e)} for e in records]


def detail(found: Sequence[Mapping[str, str]]) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" for e in found)


def json_problem(document: str | bytes, position: int, reason: str) -> str:
    """ "the body is not valid JSON (line 1, column 24: expecting value)" for a decode error
    at character ``position`` of ``document`` (what :class:`json.JSONDecodeError` holds)."""
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    reason = reason[:1].lower() + reason[1:]
    return f"the body is not valid JSON (line {line}, column {column}: {reason})"
