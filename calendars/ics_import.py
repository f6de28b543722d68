"""Parse an uploaded or fetched .ics file into plain on-call events (pure: no I/O, no clock).

:func:`parse_ics` expands recurring events (RRULE, RDATE, EXDATE, overridden
instances with RECURRENCE-ID) with ``recurring_ical_events`` inside a window
and returns :class:`ImportedEvent` values with aware UTC instants:

* DATE values (all-day events) run from local midnight to local midnight in
  ``default_zone``;
* floating times are local times in ``default_zone`` -- unless the calendar
  declares a valid ``X-WR-TIMEZONE``, which ``recurring_ical_events`` applies
  to floating and UTC times (the de-facto meaning of that property);
* times with a TZID use that zone (a TZID that is neither an IANA/Windows
  name nor defined by a VTIMEZONE falls back to ``default_zone``, with a warning).

Cancelled occurrences are skipped; declined attendees are left out.
Malformed data raises :class:`CalendarImportError` (a ``ValueError``) and no
other exception type; bad *arguments* (naive window, unknown zone) raise
plain ``ValueError``.

:func:`match_users` assigns imported events to Watchbill users and reports the
events it could not assign.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

__all__ = [
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_EVENTS",
    "CalendarImportError",
    "ImportResult",
    "ImportedEvent",
    "UserMatches",
    "match_users",
    "parse_ics",
]

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_EVENTS = 10_000
# The expander compares floating and all-day values without knowing default_zone,
# so it is asked for a wider window; the exact UTC overlap is checked afterwards.
_MARGIN = timedelta(days=2)
# Expanding these from an old DTSTART can take minutes; they are not shift patterns.
_UNSUPPORTED_FREQS = frozenset({"SECONDLY", "MINUTELY"})
_TIME_PROPS = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
)
_EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_OWN_SUMMARY_PREFIX = "on call:"
_OWN_SUMMARY_SEPARATOR = " — "


class CalendarImportError(ValueError):
    """The iCalendar data is malformed or unsupported; the message says why."""


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    """One occurrence of an imported event; ``start``/``end`` are aware UTC."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    attendee_emails: tuple[str, ...] = ()
    organizer_email: str | None = None
    all_day: bool = False


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Occurrences overlapping the window, sorted by (start, uid), plus notes for the user."""

    events: tuple[ImportedEvent, ...]
    calendar_name: str | None = None
    warnings: tuple[str, ...] = ()


class UserMatches(NamedTuple):
    matched: list[tuple[ImportedEvent, str]]
    unmatched: list[ImportedEvent]


def _zone(value: str | tzinfo) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc


def _check_structure(text: str) -> None:
    """Check BEGIN/END nesting, which icalendar silently repairs or drops."""
    stack: list[tuple[str, int]] = []
    calendars = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line[0] in " \t":
            continue  # blank or a folded continuation (BEGIN/END lines are short)
        head, sep, value = line.partition(":")
        name = head.strip().upper()
        component = value.strip().upper()
        if sep and name == "BEGIN":
            if not stack and component != "VCALENDAR":
                raise CalendarImportError(
                    f"line {number}: expected BEGIN:VCALENDAR, found BEGIN:{value.strip()}"
                )
            stack.append((component, number))
        elif sep and name == "END":
            if not stack:
                raise CalendarImportError(f"line {number}: END:{value.strip()} without BEGIN")
            expected, begun = stack.pop()
            if component != expected:
                raise CalendarImportError(
                    f"line {number}: END:{value.strip()} does not close "
                    f"BEGIN:{expected} from line {begun}"
                )
            if not stack:
                calendars += 1
        elif not stack:
            shown = line if len(line) <= 40 else line[:40] + "…"
            raise CalendarImportError(
                f"line {number}: not iCalendar data (expected BEGIN:VCALENDAR): {shown!r}"
            )
    if stack:
        component, begun = stack[-1]
        raise CalendarImportError(f"BEGIN:{component} on line {begun} is never closed (truncated?)")
    if not calendars:
        raise CalendarImportError("no VCALENDAR found (empty file?)")


def _prepare(cal: icalendar.Calendar, warnings: list[str]) -> None:
    """Reject broken time properties; drop series that cannot be expanded safely."""
    x_wr = cal.get("X-WR-TIMEZONE")
    if x_wr is not None:
        try:
            ZoneInfo(str(x_wr).strip())
        except (ZoneInfoNotFoundError, ValueError):
            warnings.append(f"ignored unknown X-WR-TIMEZONE {str(x_wr)!r}")
            del cal["X-WR-TIMEZONE"]
    dropped: set[str] = set()
    for event in cal.walk("VEVENT"):
        uid = str(event.get("UID", "(no UID)"))
        for prop, message in event.errors:
            if str(prop).upper() in _TIME_PROPS:
                raise CalendarImportError(f"event {uid}: invalid {prop}: {message}")
            warnings.append(f"event {uid}: ignored invalid {prop}: {message}")
        if event.get("DTSTART") is None:
            raise CalendarImportError(f"event {uid}: missing DTSTART")
        rules = event.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
            freqs = {str(f).upper() for f in rule.get("FREQ", [])}
            if freqs & _UNSUPPORTED_FREQS:
                dropped.add(uid)
    if dropped:
        cal.subcomponents[:] = [
            c
            for c in cal.subcomponents
            if not (c.name == "VEVENT" and str(c.get("UID", "(no UID)")) in dropped)
        ]
        for uid in sorted(dropped):
            warnings.append(f"event {uid}: skipped, repeating more often than hourly")


def _to_utc(value: date, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)


def _address_email(address: Any) -> str | None:
    """E-mail of a CAL-ADDRESS (``mailto:`` value or EMAIL parameter), lower-cased."""
    value = str(address).strip()
    if value[:7].lower() == "mailto:":
        value = unquote(value[7:]).split("?", 1)[0].strip()
    else:
        params = getattr(address, "params", {})
        value = str(params.get("EMAIL", value)).strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return value.lower() if _EMAIL_RE.fullmatch(value) else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _attendees(component: Any) -> tuple[str, ...]:
    emails: dict[str, None] = {}
    for attendee in _as_list(component.get("ATTENDEE")):
        params = getattr(attendee, "params", {})
        if str(params.get("PARTSTAT", "")).upper() == "DECLINED":
            continue
        email = _address_email(attendee)
        if email is not None:
            emails.setdefault(email)
    return tuple(emails)


def _occurrences(
    cal: icalendar.Calendar, since: datetime, until: datetime, zone: tzinfo, warnings: list[str]
) -> Iterator[ImportedEvent]:
    """Occurrences overlapping the window, in no particular order."""
    for event in cal.walk("VEVENT"):
        for prop in ("DTSTART", "DTEND"):
            value = event.get(prop)
            tzid = value.params.get("TZID") if value is not None else None
            if tzid and isinstance(value.dt, datetime) and value.dt.tzinfo is None:
                uid = str(event.get("UID", "(no UID)"))
                warnings.append(f"event {uid}: unknown TZID {tzid!r}, read as {zone}")
    # Each series is expanded lazily (CalendarQuery.between/after would build lists or
    # re-query every series per time slice, which is quadratic for big calendars).
    low, high = since - _MARGIN, until + _MARGIN
    for series in recurring_ical_events.of(cal).series:
        for occurrence in series.between(low, high):
            imported = _convert(occurrence.as_component(False), since, until, zone, warnings)
            if imported is not None:
                yield imported


def _convert(
    component: Any, since: datetime, until: datetime, zone: tzinfo, warnings: list[str]
) -> ImportedEvent | None:
    """The occurrence as an ImportedEvent, or None if cancelled or outside the window."""
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        return None
    raw_start = component["DTSTART"].dt
    start = _to_utc(raw_start, zone)
    end_prop = component.get("DTEND")
    end = _to_utc(end_prop.dt, zone) if end_prop is not None else start
    if not (start < until and (end > since or (end == start and start >= since))):
        return None
    summary = str(component.get("SUMMARY", "")).strip()
    uid_prop = component.get("UID")
    if uid_prop is None:
        digest = hashlib.sha256(f"{start.isoformat()}|{summary}".encode()).hexdigest()
        uid = f"missing-uid-{digest[:16]}"
        warnings.append(f"event {summary!r} at {start.isoformat()} has no UID")
    else:
        uid = str(uid_prop)
    organizer = component.get("ORGANIZER")
    return ImportedEvent(
        uid=uid,
        start=start,
        end=end,
        summary=summary,
        attendee_emails=_attendees(component),
        organizer_email=_address_email(organizer) if organizer is not None else None,
        all_day=not isinstance(raw_start, datetime),
    )


def parse_ics(
    data: bytes,
    since: datetime,
    until: datetime,
    default_zone: str | tzinfo = "UTC",
    *,
    max_events: int = MAX_IMPORT_EVENTS,
    max_bytes: int = MAX_IMPORT_BYTES,
) -> ImportResult:
    """Expand the events of ``data`` that overlap ``[since, until)`` into UTC occurrences.

    Raises :class:`CalendarImportError` for malformed, oversized or unsupported
    data and when more than ``max_events`` occurrences fall in the window.
    """
    for label, value in (("since", since), ("until", until)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{label} must be timezone-aware")
    if until <= since:
        raise ValueError("until must be after since")
    zone = _zone(default_zone)
    raw: object = data  # callers may pass anything at runtime
    if not isinstance(raw, bytes | bytearray):
        raise CalendarImportError(f"expected bytes, got {type(raw).__name__}")
    if len(data) > max_bytes:
        raise CalendarImportError(f"calendar is {len(data)} bytes, more than {max_bytes}")
    text = bytes(data).decode("utf-8", errors="replace").removeprefix("\ufeff")
    _check_structure(text)
    warnings: list[str] = []
    events: dict[tuple[str, datetime, datetime], ImportedEvent] = {}
    name: str | None = None
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
        for cal in calendars:
            if name is None:
                raw_name = cal.get("X-WR-CALNAME", cal.get("NAME"))
                name = (str(raw_name).strip() or None) if raw_name is not None else None
            _prepare(cal, warnings)
            for event in _occurrences(cal, since, until, zone, warnings):
                events.setdefault((event.uid, event.start, event.end), event)
                if len(events) > max_events:
                    raise CalendarImportError(
                        f"more than {max_events} event occurrences in the import window"
                    )
    except CalendarImportError:
        raise
    except Exception as exc:  # third-party parser/expander errors of any type
        raise CalendarImportError(f"could not read calendar: {exc}") from exc
    ordered = sorted(events.values(), key=lambda e: (e.start, e.uid, e.end))
    unique_warnings = tuple(dict.fromkeys(warnings))  # recurring events repeat them
    return ImportResult(events=tuple(ordered), calendar_name=name, warnings=unique_warnings)


def _normalize_name(value: str) -> str:
    return " ".join(value.split()).casefold()


def _index(mapping: Mapping[str, str], key: Any) -> dict[str, str | None]:
    """Normalized lookup table; keys that collide with different users map to None."""
    out: dict[str, str | None] = {}
    for raw, user_id in mapping.items():
        norm = key(raw)
        out[norm] = user_id if out.get(norm, user_id) == user_id else None
    return out


def _only(candidates: Iterable[str | None]) -> str | None:
    found = {c for c in candidates if c is not None}
    return found.pop() if len(found) == 1 else None


def _match_one(
    event: ImportedEvent, by_email: dict[str, str | None], by_name: dict[str, str | None]
) -> str | None:
    attendees = [e for e in event.attendee_emails if e in by_email]
    organizer = event.organizer_email
    if organizer is not None and organizer in attendees and len(attendees) > 1:
        attendees.remove(organizer)  # the organizer who invited the on-call person
    user = _only(by_email[e] for e in attendees)
    if user is not None:
        return user
    user = _only(by_email.get(m.lower()) for m in _EMAIL_RE.findall(event.summary))
    if user is not None:
        return user
    summary = _normalize_name(event.summary)
    user = by_name.get(summary)
    if user is None and summary.startswith(_OWN_SUMMARY_PREFIX):
        # Watchbill's own feed format: "On call: <person> — <schedule>".
        person = summary[len(_OWN_SUMMARY_PREFIX) :].partition(_OWN_SUMMARY_SEPARATOR)[0]
        user = by_name.get(person.strip())
    return user


def match_users(
    events: Iterable[ImportedEvent],
    users_by_email: Mapping[str, str],
    users_by_name: Mapping[str, str],
) -> UserMatches:
    """Assign each event to one user id; events without a unique match go to ``unmatched``.

    Order of evidence: attendee e-mails (the organizer only counts when no
    other attendee is a user), then e-mail addresses in the summary, then a
    summary equal to a user's name (case- and whitespace-insensitive) or in
    Watchbill's ``On call: <name> — <schedule>`` form.  Ambiguous evidence
    (two different users) is not a match.
    """
    by_email = _index(users_by_email, lambda s: s.strip().lower())
    by_name = _index(users_by_name, _normalize_name)
    result = UserMatches([], [])
    for event in events:
        user = _match_one(event, by_email, by_name)
        if user is None:
            result.unmatched.append(event)
        else:
            result.matched.append((event, user))
    return result
