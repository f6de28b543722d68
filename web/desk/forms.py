"""Reading the desk's forms: repeated fields, local dates and times, numbers, editor buttons.

A form that fails here is shown again with every problem named in the person's words; the
domain services check again whatever reaches them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from schedules.core.wallclock import to_instant
from store.errors import Conflict, Invalid
from web.deps import Fields

#: Weekdays as forms and the schedule specs name them, and as people read them.
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_NAME = 200


@dataclass
class Problems:
    """What is wrong with a form, field by field (shown together at the top of the form)."""

    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    @property
    def text(self) -> str:
        return " ".join(self.messages)


def values(fields: Fields, name: str) -> list[str]:
    """Every value posted under ``name``, in page order (repeated inputs, checkboxes)."""
    return [v.strip() for v in fields.data.getlist(name) if isinstance(v, str)]


def button(fields: Fields) -> tuple[str, list[int]]:
    """The editor button pressed: ``op`` values look like ``user_up:0:2``."""
    raw = fields.text("op")
    name, *numbers = raw.split(":")
    try:
        return name, [int(n) for n in numbers]
    except ValueError:
        return "", []


def name(text: str, label: str, problems: Problems) -> str:
    if not text:
        problems.add(f"{label}: give it a name.")
    elif len(text) > MAX_NAME:
        problems.add(f"{label}: at most {MAX_NAME} characters.")
    return text


def number(text: str, label: str, problems: Problems, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        problems.add(f"{label}: a whole number, please.")
        return low
    if not low <= value <= high:
        problems.add(f"{label}: between {low} and {high}.")
    return value


def parse_date(text: str, label: str, problems: Problems) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.add(f"{label}: a date like 2025-12-09, please.")
        return None


def parse_time(text: str, label: str, problems: Problems) -> time | None:
    try:
        value = time.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is not None or len(text) != 5:
        problems.add(f"{label}: a time like 09:00, please.")
        return None
    return value


def local_instant(
    day: str, clock: str, zone: str, label: str, problems: Problems
) -> datetime | None:
    """A date and time typed in ``zone``, as an instant (a time skipped by a clock change
    counts from the first valid instant after it; a repeated one at its first occurrence)."""
    parsed_day = parse_date(day, f"{label} (date)", problems)
    parsed_time = parse_time(clock, f"{label} (time)", problems)
    if parsed_day is None or parsed_time is None:
        return None
    return to_instant(datetime.combine(parsed_day, parsed_time), ZoneInfo(zone))


def parse_instant(text: str) -> datetime | None:
    """An instant a page put in a hidden field (RFC 3339 with an offset)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def refused(session: Session, work: Callable[[], object]) -> str | None:
    """Run a service call in a savepoint: None when done, else why it was refused (a 4xx of
    the input or the state: bad value, conflict), with its writes undone. A refusal of the
    person (403) or a missing thing (404) is not caught: it becomes the error page."""
    try:
        with session.begin_nested():
            work()
    except (Invalid, Conflict) as exc:
        return exc.detail
    return None
