"""Annotated field types shared by request schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from people import validation


def _zone(value: str) -> str:
    return validation.time_zone(value)


def _hhmm(value: str) -> str:
    return validation.local_time(value)


TimeZoneName = Annotated[
    str, AfterValidator(_zone), Field(description="IANA time zone", examples=["Europe/Berlin"])
]
LocalTime = Annotated[str, AfterValidator(_hhmm), Field(examples=["09:00"])]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
