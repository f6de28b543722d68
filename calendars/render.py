"""Render on-call shifts as an RFC 5545 iCalendar feed (pure: no I/O, no clock).

The caller (the DB-backed feed service) decides which shifts go into a feed and
keeps a table of rendered fingerprints: it builds the UID with :func:`shift_uid`,
compares :func:`shift_fingerprint` with the stored one and bumps ``SEQUENCE``
when a shift's visible content changed.  This module only turns the resulting
:class:`FeedEvent` values into bytes.

Decisions (see also the docstrings below):

* The lines are written directly instead of through icalendar's object model,
  which needs ~250 ms for a 1,000-event feed.  The tests parse every rendered
  feed back with icalendar.  TEXT values are escaped (``\\``, ``;``, ``,`` and
  line breaks); control characters other than TAB, which RFC 5545 does not
  allow in TEXT, are dropped.  Content lines are folded at 75 octets, never
  inside a UTF-8 sequence.
* All instants are written in UTC (``...Z``), so the feed needs no VTIMEZONE;
  ``X-WR-TIMEZONE`` tells clients which zone to display.
* Events are ``TRANSP:TRANSPARENT``: being on call does not make a person busy,
  and opaque week-long shifts would block free/busy lookups for meetings.
* Events are sorted by (start, UID), so the same input always yields the same
  bytes.  ``DTSTAMP`` is ``now``: pass a stable value (e.g. the latest
  ``last_modified`` in the feed) if strong ETags should match between requests.
* Coverage gaps (``is_gap``) get ``CATEGORIES:Coverage gap`` and never an alarm
  (the alarm means "your shift starts soon"); shifts get ``CATEGORIES:On call``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_ALARM_MINUTES",
    "PRODID",
    "FeedEvent",
    "FeedMeta",
    "etag_for",
    "gap_summary_for",
    "render_feed",
    "shift_fingerprint",
    "shift_uid",
    "summary_for",
]

PRODID = "-//Watchbill//Watchbill//EN"
MAX_ALARM_MINUTES = 7 * 24 * 60
_FOLD_OCTETS = 75
_UID_VERSION = "watchbill-shift-uid-v1"
_FINGERPRINT_VERSION = "watchbill-shift-fingerprint-v1"

# RFC 5545 TEXT escaping; CONTROL characters other than HTAB are not allowed in TEXT.
_TEXT_ESCAPES: dict[int, str | None] = {
    ord("\\"): "\\\\",
    ord(";"): "\\;",
    ord(","): "\\,",
    ord("\n"): "\\n",
}
_TEXT_ESCAPES.update({c: None for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]})
_TEXT_TABLE = str.maketrans(_TEXT_ESCAPES)
_TEXT_SPECIALS = frozenset("\\;,\n\r\x7f") | frozenset(map(chr, range(0x20)))


def _has_control(value: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def _require_uri(name: str, value: str) -> None:
    if not value or _has_control(value) or any(c.isspace() for c in value):
        raise ValueError(f"{name} must be a URI without whitespace or control characters")
    if not urlsplit(value).scheme:
        raise ValueError(f"{name} must be an absolute URI with a scheme, got {value!r}")


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Calendar-level properties of a feed.

    ``url`` is a human-facing page for this calendar (RFC 7986 ``URL``);
    ``source_url``, if given, is the address the feed itself is fetched from
    (RFC 7986 ``SOURCE``; leave it ``None`` if that URL carries a secret you do
    not want copied into exported files).  ``time_zone`` is an IANA zone name,
    used only as the display hint ``X-WR-TIMEZONE``.
    """

    name: str
    time_zone: str
    url: str
    refresh: timedelta = timedelta(hours=1)
    description: str | None = None
    source_url: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("feed name must not be empty")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from exc
        _require_uri("feed url", self.url)
        if self.source_url is not None:
            _require_uri("feed source_url", self.source_url)
        if self.refresh < timedelta(seconds=1):
            raise ValueError(f"refresh interval must be at least 1 second, got {self.refresh}")


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One VEVENT: a shift (or a coverage gap) as the caller wants it rendered.

    ``start``/``end``/``last_modified`` must be timezone-aware; they are written
    in UTC at one-second resolution, so ``end`` must be at least one second
    after ``start``.
    """

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    sequence: int
    last_modified: datetime
    url: str | None = None
    is_gap: bool = False

    def __post_init__(self) -> None:
        if not self.uid or _has_control(self.uid):
            raise ValueError(
                f"event uid must be non-empty without control characters: {self.uid!r}"
            )
        _require_aware("event start", self.start)
        _require_aware("event end", self.end)
        _require_aware("event last_modified", self.last_modified)
        if self.end - self.start < timedelta(seconds=1):
            raise ValueError(
                f"event {self.uid}: end {self.end.isoformat()} must be at least one second "
                f"after start {self.start.isoformat()}"
            )
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int):
            raise TypeError(f"event {self.uid}: sequence must be an int")
        if self.sequence < 0:
            raise ValueError(f"event {self.uid}: sequence must be >= 0, got {self.sequence}")
        if self.url is not None:
            _require_uri(f"event {self.uid} url", self.url)


def summary_for(person: str, schedule: str) -> str:
    """SUMMARY of a shift: ``On call: <person> — <schedule>``."""
    return f"On call: {person.strip()} — {schedule.strip()}"


def gap_summary_for(schedule: str) -> str:
    """SUMMARY of a coverage gap: ``Nobody on call — <schedule>``."""
    return f"Nobody on call — {schedule.strip()}"


def _utc(value: datetime) -> str:
    """Format an aware datetime as an RFC 5545 UTC DATE-TIME (``YYYYMMDDTHHMMSSZ``)."""
    u = value.astimezone(UTC)
    return f"{u.year:04d}{u.month:02d}{u.day:02d}T{u.hour:02d}{u.minute:02d}{u.second:02d}Z"


def _sha256_json(parts: list[object]) -> str:
    payload = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def shift_uid(namespace: str, schedule_id: str, user_id: str | None, start: datetime) -> str:
    """Deterministic UID ``<32 hex>@<namespace>`` for a shift.

    It depends only on the shift's identity: schedule, person (``None`` for a
    coverage gap) and start instant (the same instant in any zone gives the same
    UID).  Changing the end or the texts keeps the UID; bump SEQUENCE instead.
    """
    if not namespace or _has_control(namespace) or any(c.isspace() for c in namespace):
        raise ValueError(f"uid namespace must be non-empty without whitespace: {namespace!r}")
    _require_aware("shift start", start)
    instant = start.astimezone(UTC).isoformat(timespec="microseconds")
    digest = _sha256_json([_UID_VERSION, schedule_id, user_id, instant])
    return f"{digest[:32]}@{namespace}"


def shift_fingerprint(
    *,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    url: str | None = None,
    is_gap: bool = False,
) -> str:
    """Hex SHA-256 of everything a client sees of a shift (instants as rendered, in UTC).

    The caller stores it per UID and bumps SEQUENCE when it changes.
    """
    _require_aware("shift start", start)
    _require_aware("shift end", end)
    return _sha256_json(
        [_FINGERPRINT_VERSION, _utc(start), _utc(end), summary, description, url, is_gap]
    )


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11)."""
    if _TEXT_SPECIALS.isdisjoint(value):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.translate(_TEXT_TABLE)


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1) without splitting UTF-8 sequences."""
    if len(line) <= _FOLD_OCTETS and line.isascii():
        return line
    raw = line.encode("utf-8")
    if len(raw) <= _FOLD_OCTETS:
        return line
    chunks: list[str] = []
    begin, limit = 0, _FOLD_OCTETS
    while len(raw) - begin > limit:
        cut = begin + limit
        while raw[cut] & 0xC0 == 0x80:  # never cut before a continuation byte
            cut -= 1
        chunks.append(raw[begin:cut].decode("utf-8"))
        begin, limit = cut, _FOLD_OCTETS - 1  # continuation lines start with a space
    chunks.append(raw[begin:].decode("utf-8"))
    return "\r\n ".join(chunks)


def _duration(value: timedelta) -> str:
    """Format a non-negative timedelta as an RFC 5545 DURATION (whole seconds)."""
    total = int(value.total_seconds())
    if total < 0:
        raise ValueError(f"negative duration {value}")
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"P{days}D" if days else "P"
    if hours or minutes or seconds or not days:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if seconds or not (hours or minutes):
            out += f"{seconds}S"
    return out


def _calendar_head(meta: FeedMeta) -> list[str]:
    name = _text(meta.name)
    refresh = _duration(meta.refresh)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{name}",
        f"X-WR-CALNAME:{name}",
    ]
    if meta.description:
        description = _text(meta.description)
        lines += [f"DESCRIPTION:{description}", f"X-WR-CALDESC:{description}"]
    lines += [f"X-WR-TIMEZONE:{_text(meta.time_zone)}", f"URL:{meta.url}"]
    if meta.source_url is not None:
        lines.append(f"SOURCE;VALUE=URI:{meta.source_url}")
    lines += [f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}", f"X-PUBLISHED-TTL:{refresh}"]
    return [_fold(line) for line in lines]


def render_feed(
    meta: FeedMeta,
    events: Sequence[FeedEvent],
    now: datetime,
    alarm_minutes: int | None = None,
) -> bytes:
    """Render a complete VCALENDAR (UTF-8, CRLF line endings) for ``events``.

    ``now`` (aware) becomes every event's DTSTAMP.  ``alarm_minutes`` adds a
    DISPLAY alarm that many minutes before each shift (not before gaps).
    Raises ``ValueError`` for a naive ``now``, an out-of-range alarm or
    duplicate UIDs.  An empty ``events`` gives a VCALENDAR without components,
    which clients and icalendar accept although RFC 5545's grammar wants one.
    """
    _require_aware("now", now)
    trigger: str | None = None
    if alarm_minutes is not None:
        if isinstance(alarm_minutes, bool) or not 0 <= alarm_minutes <= MAX_ALARM_MINUTES:
            raise ValueError(f"alarm_minutes must be within 0..{MAX_ALARM_MINUTES}")
        trigger = f"-PT{alarm_minutes}M" if alarm_minutes else "PT0S"
    stamp_line = f"DTSTAMP:{_utc(now)}"
    out = _calendar_head(meta)
    append = out.append
    fold = _fold
    seen: set[str] = set()
    for ev in sorted(events, key=lambda e: (e.start, e.uid)):
        if ev.uid in seen:
            raise ValueError(f"duplicate event UID {ev.uid!r} in feed")
        seen.add(ev.uid)
        summary = _text(ev.summary)
        append("BEGIN:VEVENT")
        append(fold(f"UID:{_text(ev.uid)}"))
        append(stamp_line)
        append(f"DTSTART:{_utc(ev.start)}")
        append(f"DTEND:{_utc(ev.end)}")
        append(fold(f"SUMMARY:{summary}"))
        append(fold(f"DESCRIPTION:{_text(ev.description)}"))
        append(f"SEQUENCE:{ev.sequence}")
        append(f"LAST-MODIFIED:{_utc(ev.last_modified)}")
        if ev.url is not None:
            append(fold(f"URL:{ev.url}"))
        append("TRANSP:TRANSPARENT")
        append("CATEGORIES:Coverage gap" if ev.is_gap else "CATEGORIES:On call")
        if trigger is not None and not ev.is_gap:
            append("BEGIN:VALARM")
            append("ACTION:DISPLAY")
            append(f"TRIGGER:{trigger}")
            append(fold(f"DESCRIPTION:{summary}"))
            append("END:VALARM")
        append("END:VEVENT")
    append("END:VCALENDAR")
    append("")
    return "\r\n".join(out).encode("utf-8")


def etag_for(body: bytes) -> str:
    """Strong, quoted HTTP ETag for a rendered body (SHA-256 of the exact bytes)."""
    return f'"{hashlib.sha256(body).hexdigest()}"'
