"""Pure validators for text, addresses, time zones, local times and instants. Each raises
``ValueError`` with a reason in a user's words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
#: Control characters (C0, DEL, C1) but tab and newline: refused in every string we store.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: The same, allowing carriage returns too (iCalendar text ends its lines with CRLF).
CONTROL_BUT_CRLF = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Instants we accept anywhere: years 1970 to 2200 (UTC).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2201, 1, 1, tzinfo=UTC)


def control_character(value: str, pattern: re.Pattern[str] = CONTROL) -> str | None:
    """Why ``value`` is refused (the first control character in it), or None."""
    found = pattern.search(value)
    if found is None:
        return None
    allowed = "tab and newline" if pattern is CONTROL else "tab, carriage return and newline"
    return (
        f"contains the control character U+{ord(found.group()):04X} at position "
        f"{found.start()} (only {allowed} are allowed in text)"
    )


def plain_text(value: Any, pattern: re.Pattern[str] = CONTROL) -> Any:
    """``value`` unchanged if no string in it (dict keys included) holds a control character
    other than tab and newline; otherwise ``ValueError`` saying where."""
    problem = _text_problem(value, pattern, "")
    if problem is not None:
        raise ValueError(problem)
    return value


def _text_problem(value: Any, pattern: re.Pattern[str], where: str) -> str | None:
    at = f" (at {where})" if where else ""
    if isinstance(value, str):
        why = control_character(value, pattern)
        return None if why is None else why + at
    if isinstance(value, Mapping):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            found = _text_problem(key, pattern, where) or _text_problem(item, pattern, inner)
            if found is not None:
                return found
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            found = _text_problem(item, pattern, f"{where}.{i}" if where else str(i))
            if found is not None:
                return found
    return None


def instant(value: datetime) -> datetime:
    """An aware instant between 1970-01-01 and 2200-12-31 (UTC)."""
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("is out of range (years 1970 to 2200)") from exc
    if not EARLIEST <= utc < LATEST:
        raise ValueError("is out of range (years 1970 to 2200)")
    return value


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


MAX_NAME = 200


def display_name(value: str) -> str:
    """A person's or thing's name: spaces around it dropped, not empty, at most 200 characters."""
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_NAME:
        raise ValueError(f"must be at most {MAX_NAME} characters")
    return value


def time_zone(name: str) -> str:
    """An IANA zone name known to the tz database."""
    if name not in _zones():
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)")
    ZoneInfo(name)
    return name


E164_HINT = "E.164 form, + then the country code and number (e.g. +14155550123)"
_PARSE_PROBLEMS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "it needs + and a country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "it is not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "it is too short",
    phonenumbers.NumberParseException.TOO_LONG: "it is too long",
}


def e164_phone(value: str) -> str:
    """A valid phone number in E.164 form (``+15551234567``)."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        problem = _PARSE_PROBLEMS.get(exc.error_type, "it is not a phone number")
        raise ValueError(f"{value!r} is not a phone number: {problem}; use {E164_HINT}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number; use {E164_HINT}")
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if formatted != value.replace(" ", "").replace("-", ""):
        raise ValueError(f"phone numbers must be given in E.164 form, e.g. {formatted}")
    return formatted


def email(value: str) -> str:
    """A syntactically valid email address, normalised (no DNS look-up)."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


def local_time(value: str) -> str:
    """``HH:MM`` on a 24-hour clock."""
    if not _HHMM.match(value):
        raise ValueError(f"{value!r} is not a local time HH:MM")
    return value
