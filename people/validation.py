"""Pure validators for addresses, time zones and local times. Raise ``ValueError`` with a reason."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


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
