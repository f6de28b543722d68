"""Support hours and quiet hours: pure wall-clock rules, evaluated in the zone that owns them.

A weekly window opens on each of its ``days`` (local dates; every day when none are given) at
``start`` and closes at ``end`` the same date, or the next date when ``end <= start`` (so
``00:00``-``00:00`` is a whole day). Window edges are local wall times resolved with the
schedule rules: a time skipped by a DST change maps to the first valid instant after it, an
ambiguous one to its first occurrence. Intervals are half-open, ``[start, end)``.

Quiet hours are one daily window of the same kind (``start == end`` means none). A page that
falls inside them is held until they end, in the person's own zone.

Everything here takes an explicit instant; nothing reads the clock or a database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.core.wallclock import to_instant

__all__ = [
    "DAY_NAMES",
    "QuietHours",
    "SupportHours",
    "Window",
    "inside",
    "next_start",
    "parse_time",
    "quiet_hours",
    "quiet_send_at",
    "quiet_until",
    "release_at",
    "window",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = timedelta(days=1)
#: How far ahead the next opening is looked for: a weekly pattern repeats within 8 dates.
_HORIZON_DAYS = 9


def parse_time(value: str) -> time:
    """``HH:MM`` (24-hour clock) as a ``time``; ``ValueError`` otherwise."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2:
        raise ValueError(f"{value!r} is not a local time HH:MM")
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"{value!r} is not a local time HH:MM")
    hour, minute = int(hours), int(minutes)
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r} is not a local time HH:MM")
    return time(hour, minute)


@dataclass(frozen=True)
class Window:
    """A weekly local window; ``days`` are weekday numbers (Monday = 0) on which it opens."""

    days: frozenset[int]
    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


def window(days: Sequence[str] | None, start: str, end: str) -> Window:
    """A window from its written form: ``["mon", ...]`` (None: every day), ``HH:MM`` twice."""
    numbers: set[int] = set()
    for name in days if days is not None else DAY_NAMES:
        key = name.strip().lower()[:3]
        if key not in DAY_NAMES:
            raise ValueError(f"unknown day {name!r} (use mon, tue, wed, thu, fri, sat, sun)")
        numbers.add(DAY_NAMES.index(key))
    if not numbers:
        raise ValueError("a window needs at least one day")
    return Window(frozenset(numbers), parse_time(start), parse_time(end))


@dataclass(frozen=True)
class SupportHours:
    zone: str
    windows: tuple[Window, ...]


def _intervals(
    windows: Sequence[Window], tz: ZoneInfo, first: date, last: date
) -> Iterator[tuple[datetime, datetime]]:
    """The non-empty intervals of windows opening on local dates in ``[first, last]``."""
    day = first
    while day <= last:
        for w in windows:
            if day.weekday() not in w.days:
                continue
            opens = to_instant(datetime.combine(day, w.start), tz)
            closes_on = day + _DAY if w.overnight else day
            closes = to_instant(datetime.combine(closes_on, w.end), tz)
            if opens < closes:  # a window inside a DST gap is empty
                yield opens, closes
        day += _DAY


def _local_date(at: datetime, tz: ZoneInfo) -> date:
    if at.tzinfo is None:
        raise ValueError("an aware instant is required")
    return at.astimezone(tz).date()


def inside(hours: SupportHours, at: datetime) -> bool:
    """Whether ``at`` falls inside one of the windows."""
    tz = ZoneInfo(hours.zone)
    today = _local_date(at, tz)
    return any(
        opens <= at < closes for opens, closes in _intervals(hours.windows, tz, today - _DAY, today)
    )


def next_start(hours: SupportHours, at: datetime) -> datetime | None:
    """The first instant at or after ``at`` at which a window opens (None without windows)."""
    tz = ZoneInfo(hours.zone)
    today = _local_date(at, tz)
    starts = [
        opens
        for opens, _ in _intervals(hours.windows, tz, today, today + timedelta(_HORIZON_DAYS))
        if opens >= at
    ]
    return min(starts) if starts else None


def release_at(hours: SupportHours, at: datetime) -> datetime | None:
    """None inside support hours; outside them, when they next begin."""
    if not hours.windows or inside(hours, at):
        return None
    return next_start(hours, at)


# --- quiet hours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    zone: str
    start: time
    end: time


def quiet_hours(zone: str, start: str | None, end: str | None) -> QuietHours | None:
    """A person's quiet hours from their profile fields; None when unset or empty."""
    if start is None or end is None:
        return None
    begin, finish = parse_time(start), parse_time(end)
    if begin == finish:
        return None
    return QuietHours(zone, begin, finish)


def quiet_until(quiet: QuietHours, at: datetime) -> datetime | None:
    """The instant the quiet period containing ``at`` ends; None when ``at`` is not in one."""
    tz = ZoneInfo(quiet.zone)
    today = _local_date(at, tz)
    daily = (Window(frozenset(range(7)), quiet.start, quiet.end),)
    for opens, closes in _intervals(daily, tz, today - _DAY, today):
        if opens <= at < closes:
            return closes
    return None


def quiet_send_at(quiet: QuietHours | None, at: datetime, delay_seconds: int) -> datetime:
    """When a low-urgency page notified at ``at`` with a rule delay goes out.

    Notified inside quiet hours: the rule's delay counts from when they end. Otherwise it goes
    at ``at + delay`` unless that instant is itself inside quiet hours, then when they end.
    """
    delay = timedelta(seconds=delay_seconds)
    if quiet is None:
        return at + delay
    held = quiet_until(quiet, at)
    if held is not None:
        return held + delay
    due = at + delay
    return quiet_until(quiet, due) or due
