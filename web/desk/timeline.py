"""A schedule's timeline as a drawing: rows of bars placed in percent of a window (SVG).

Only presentation: the shifts come from the schedule core (:func:`schedules.service.
schedule_timeline`); this module places them on a day, week or month in one zone, names the
people, and marks overrides, gaps, the current instant and (in a preview) what changes.
Percent coordinates make the SVG as wide as the screen without any inline style (the
Content-Security-Policy forbids those).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.core.changes import ShiftChange, changed
from schedules.core.values import Gap, Shift
from schedules.core.wallclock import to_instant

VIEWS = ("day", "week", "month")
COLOURS = 8
LABEL_H, BAR_H, ROW_GAP, AXIS_H = 18, 30, 8, 22


@dataclass(frozen=True)
class Window:
    """``[since, until)``: a local day, week (from Monday) or month in ``zone``."""

    view: str
    zone: str
    first: date
    since: datetime
    until: datetime
    previous: date
    following: date

    @property
    def title(self) -> str:
        if self.view == "day":
            return self.first.strftime("%A %-d %B %Y")
        if self.view == "week":
            return "Week of " + self.first.strftime("%a %-d %b %Y")
        return self.first.strftime("%B %Y")


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return to_instant(datetime.combine(day, time()), tz)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window(view: str, around: date, zone: str) -> Window:
    """The ``view`` containing the local date ``around``."""
    tz = ZoneInfo(zone)
    if view == "day":
        first, after = around, around + timedelta(days=1)
        previous, following = around - timedelta(days=1), after
    elif view == "month":
        first = around.replace(day=1)
        after = _add_months(first, 1)
        previous, following = _add_months(first, -1), after
    else:
        view = "week"
        first = around - timedelta(days=around.weekday())
        after = first + timedelta(days=7)
        previous, following = first - timedelta(days=7), after
    return Window(
        view, zone, first, _midnight(first, tz), _midnight(after, tz), previous, following
    )


@dataclass(frozen=True)
class Bar:
    key: str
    x: float
    width: float
    start: datetime
    end: datetime
    user_id: str | None
    label: str
    source: str
    kind: str  # shift | override | gap
    colour: int
    changed: bool = False
    words: str = ""  # who, from, to and source in words (titles, the tap pop-up, lists)
    when: str = ""  # from and to in words

    @property
    def css(self) -> str:
        classes = [self.kind, "p" + str(self.colour) if self.user_id else "nobody"]
        if self.changed:
            classes.append("changed")
        return " ".join(classes)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    bars: tuple[Bar, ...]
    label_y: int
    bar_y: int


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    major: bool
    odd: bool


@dataclass(frozen=True)
class Drawing:
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]
    height: int
    now_x: float | None
    marker_x: float | None
    marker_label: str


class Painter:
    """Places instants of ``[since, until)`` at percents; names people and sources."""

    def __init__(
        self,
        since: datetime,
        until: datetime,
        zone: str,
        names: dict[str, str],
        layer_names: Sequence[str],
        colours: dict[str, int],
    ) -> None:
        self.since, self.until, self.zone = since, until, zone
        self.tz = ZoneInfo(zone)
        self.seconds = (until - since).total_seconds() or 1.0
        self.names, self.layer_names, self.colours = names, layer_names, colours

    def x(self, at: datetime) -> float:
        offset = (min(max(at, self.since), self.until) - self.since).total_seconds()
        return round(offset / self.seconds * 100, 3)

    def inside(self, at: datetime) -> float | None:
        return self.x(at) if self.since <= at < self.until else None

    def name(self, user_id: str) -> str:
        return self.names.get(user_id, "(removed user)")

    def source(self, shift: Shift) -> str:
        if shift.override_id is not None:
            return "Override"
        if shift.layer is None:
            return ""
        name = self.layer_names[shift.layer] if shift.layer < len(self.layer_names) else ""
        return f"Layer {shift.layer + 1}" + (f" ({name})" if name else "")

    def bar(self, key: str, piece: Shift | Gap, changes: Sequence[ShiftChange] = ()) -> Bar:
        x = self.x(piece.start)
        width = round(self.x(piece.end) - x, 3)
        if isinstance(piece, Gap):
            label, source, kind, user_id, colour = "Nobody", "Nobody on call", "gap", None, 0
            moved = bool(changes) and _touches(piece, changes)
        else:
            label, source = self.name(piece.user_id), self.source(piece)
            kind = "override" if piece.override_id is not None else "shift"
            user_id, colour = piece.user_id, self.colours.get(piece.user_id, 0)
            moved = bool(changes) and changed(piece, changes)
        when = self.span(piece.start, piece.end)
        words = f"{label}, {when}"
        if kind != "gap" and source:
            words += f", {source}"
        if moved:
            words += " (changes)"
        return Bar(key, x, width, piece.start, piece.end, user_id, label, source, kind, colour,
                   moved, words, when)  # fmt: skip

    def span(self, start: datetime, end: datetime) -> str:
        """``Mon 8 Dec 09:00–17:00 CET`` (one day) or ``Mon 8 Dec 09:00 – Tue 9 Dec 09:00 CET``."""
        a, b = start.astimezone(self.tz), end.astimezone(self.tz)
        if a.date() == b.date():
            return f"{a:%a %-d %b %H:%M}–{b:%H:%M %Z}"
        return f"{a:%a %-d %b %H:%M} – {b:%a %-d %b %H:%M %Z}"

    def details(self, bar: Bar) -> str:
        """Who, from, to and source, in words (hover titles and the tap pop-up)."""
        return bar.words


def _touches(gap: Gap, changes: Sequence[ShiftChange]) -> bool:
    return any(c.start < gap.end and gap.start < c.end for c in changes)


def colours_for(user_ids: Iterable[str]) -> dict[str, int]:
    """A colour per person, stable within a page (names are always written too)."""
    out: dict[str, int] = {}
    for user_id in user_ids:
        if user_id not in out:
            out[user_id] = len(out) % COLOURS
    return out


def segments(final: Sequence[Shift], gaps: Sequence[Gap]) -> list[Shift | Gap]:
    both: list[Shift | Gap] = [*final, *gaps]
    both.sort(key=lambda s: s.start)
    return both


def ticks(view: str, since: datetime, until: datetime, zone: str, painter: Painter) -> list[Tick]:
    """Hour marks on a day, a mark per local day on a week or month."""
    tz = ZoneInfo(zone)
    out: list[Tick] = []
    first = since.astimezone(tz).date()
    if view == "day":
        for hour in range(0, 24, 3):
            at = to_instant(datetime.combine(first, time(hour)), tz)
            if since <= at < until:
                out.append(Tick(painter.x(at), f"{hour:02d}:00", hour == 0, hour % 6 != 0))
        return out
    day = first
    while True:
        at = _midnight(day, tz)
        if at >= until:
            break
        label = day.strftime("%a %-d") if view == "week" else str(day.day)
        out.append(Tick(painter.x(at), label, day.weekday() == 0, day.day % 2 == 0))
        day += timedelta(days=1)
    return out


def rows_layout(rows: Sequence[tuple[str, str, tuple[Bar, ...]]]) -> tuple[tuple[Row, ...], int]:
    """Stack rows (label line above its bars) under the axis; the drawing's height."""
    placed: list[Row] = []
    y = AXIS_H
    for key, label, bars in rows:
        placed.append(Row(key, label, bars, y + LABEL_H - 5, y + LABEL_H))
        y += LABEL_H + BAR_H + ROW_GAP
    return tuple(placed), y


def drawing(
    rows: Sequence[tuple[str, str, tuple[Bar, ...]]],
    tick_marks: Sequence[Tick],
    painter: Painter,
    now: datetime,
    marker: datetime | None = None,
    marker_label: str = "",
) -> Drawing:
    placed, height = rows_layout(rows)
    now_x = painter.inside(now)
    marker_x = painter.inside(marker) if marker is not None else None
    if marker_x is not None and now_x is not None and abs(marker_x - now_x) < 0.5:
        now_x = None  # an edit taking effect now: one line, labelled by the marker
    return Drawing(placed, tuple(tick_marks), height, now_x, marker_x, marker_label)
