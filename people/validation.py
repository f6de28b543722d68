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


def time_zone(name: str) -> str:
    """An IANA zone name known to the tz database."""
    if name not in _zones():
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)")
    ZoneInfo(name)
    return name


def e164_phone(value: str) -> str:
    """A valid phone number in E.164 form (``+15551234567``)."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number in E.164 form (+<country><number>): {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number")
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
