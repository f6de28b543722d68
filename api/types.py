"""Annotated field types shared by request schemas (one rule each, reused everywhere).

* :data:`Instant`: an RFC 3339 instant with an offset, years 1970 to 2200 (also in queries).
* :data:`Name`, and every other string: no control characters but tab and newline (checked for
  every field of every request body by ``api.schemas.people.Strict``; query strings and paths
  by ``api.asgi.input_guard``). :data:`IcsText` also allows carriage returns.
* :data:`At`: an optional :data:`Instant` query parameter (default: now).
* :data:`NotNull`: ``NotNull[T]`` in a PATCH body: a field that may be left out but not null.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

from people import validation

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _zone(value: str) -> str:
    return validation.time_zone(value)


def _hhmm(value: str) -> str:
    return validation.local_time(value)


def _rfc3339(value: Any) -> Any:
    """Only text shaped like RFC 3339 (pydantic alone would also take numbers: Unix times)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2026-03-08T09:00:00Z")
    return value


def _instant(value: datetime) -> datetime:
    return validation.instant(value)


def _ics(value: str) -> str:
    return str(validation.plain_text(value, validation.CONTROL_BUT_CRLF))


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null (leave the field out to keep its value)")
    return value


def _drop_null(schema: dict[str, Any]) -> None:
    """The documented schema of a :data:`NotNull` field: its type without ``null``."""
    options = schema.pop("anyOf", None)
    if options is not None:
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    schema.pop("default", None)


class RawText:
    """Marks a field whose text is checked by its own type (``Strict`` leaves it alone)."""


T = TypeVar("T")
#: Leave out, or give a value; null is 422 naming the field (``NotNull[Name] = None``).
NotNull = Annotated[T | None, BeforeValidator(_not_null), Field(json_schema_extra=_drop_null)]

TimeZoneName = Annotated[
    str, AfterValidator(_zone), Field(description="IANA time zone", examples=["Europe/Berlin"])
]
LocalTime = Annotated[str, AfterValidator(_hhmm), Field(examples=["09:00"])]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339),
    AfterValidator(_instant),
    Field(description="RFC 3339 with an offset; years 1970 to 2200"),
]
#: iCalendar text: lines end with CRLF, so carriage returns are allowed (other controls not).
IcsText = Annotated[str, AfterValidator(_ics), RawText()]

#: An optional instant in a query string (the route takes now when it is left out).
At = Annotated[Instant | None, Query(description="an instant (default: now)")]
