"""Schedules: the list, and a schedule's page with its timeline (day, week or month)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from calendars import urls
from people import directory
from people.access import can_manage_team
from people.models import User
from schedules import overrides, queries, rows
from schedules import service as schedules
from schedules.core import edits, handoffs
from schedules.core.values import LayerVersion, Timeline
from schedules.coverage import gaps_ahead
from schedules.models import Schedule, ScheduleOverride
from web.deps import Page, SessionDep, SignedIn
from web.desk import svg
from web.desk import timeline as tl
from web.desk.forms import DAY_NAMES
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@dataclass(frozen=True)
class LayerSummary:
    """A layer as it is now, in words."""

    number: int
    name: str
    people: list[str]
    every: str
    handoff: str
    restrictions: list[str]
    ended: bool


def team_choices(session: Session, page: Page, current: str | None = None) -> list[tuple[str, str]]:
    """Teams whose schedules the person may create or move to (``""``: no team, admins)."""
    actor = page.actor
    choices = [("", "No team")] if can_manage_team(session, actor, None) else []
    for team in directory.teams(session):
        if team.id == current or can_manage_team(session, actor, team.id):
            choices.append((team.id, team.name))
    return choices


@router.get("/schedules")
def schedule_list(page: SignedIn, session: SessionDep) -> Response:
    everywhere = queries.on_call_in_every_schedule(session, page.now)
    names = directory.names(session, [row.user_id for row in everywhere if row.user_id])
    teams = directory.team_names(session, [row.team_id for row in everywhere])
    return page.render(
        "schedules/list.html",
        rows=everywhere,
        names=names,
        teams=teams,
        may_create=len(team_choices(session, page)) > 0,
    )


def _restriction_text(days: frozenset[int] | None, start: str, end: str) -> str:
    if days is None:
        when = "every day"
    elif days == frozenset(range(5)):
        when = "weekdays"
    elif days == frozenset({5, 6}):
        when = "weekends"
    else:
        when = ", ".join(DAY_NAMES[d][:3] for d in sorted(days))
    return f"{when} {start}–{end}"


def summary(number: int, name: str, version: LayerVersion, zone: str, names: dict[str, str],
            now: datetime) -> LayerSummary:  # fmt: skip
    local = handoffs.describe(version, ZoneInfo(zone))
    unit = local.shift_unit if local.shift_length != 1 else local.shift_unit[:-1]
    every = f"every {local.shift_length} {unit}" if local.shift_length != 1 else f"every {unit}"
    handoff = local.handoff_time.strftime("%H:%M")
    if local.shift_unit == "weeks" and local.handoff_weekday is not None:
        handoff = f"{DAY_NAMES[local.handoff_weekday]} {handoff}"
    return LayerSummary(
        number,
        name,
        [names.get(u, "(removed user)") for u in version.users],
        every,
        handoff,
        [
            _restriction_text(r.days, r.start.strftime("%H:%M"), r.end.strftime("%H:%M"))
            for r in version.restrictions
        ],
        version.end is not None and version.end <= now,
    )


def _zone(page: Page, schedule: Schedule, choice: str) -> str:
    return page.zone if choice == "mine" else schedule.time_zone


def _around(text: str | None, zone: str, now: datetime) -> date:
    try:
        return date.fromisoformat(text) if text else now.astimezone(ZoneInfo(zone)).date()
    except ValueError:
        return now.astimezone(ZoneInfo(zone)).date()


def _rows(
    result: Timeline, painter: tl.Painter, layer_names: list[str]
) -> list[tuple[str, str, tuple[tl.Bar, ...]]]:
    final = tuple(
        painter.bar(f"f{i}", piece)
        for i, piece in enumerate(tl.segments(result.final, result.gaps))
    )
    out = [("final", "On call (final schedule)", final)]
    for i, shifts in enumerate(result.layers):
        if shifts:
            label = f"Layer {i + 1}: {layer_names[i]}"
            bars = tuple(painter.bar(f"l{i}-{j}", s) for j, s in enumerate(shifts))
            out.append((f"layer{i}", label, bars))
    return out


@router.get("/schedules/{schedule_id}")
def schedule_page(
    schedule_id: str,
    page: SignedIn,
    session: SessionDep,
    view: str = "week",
    day: str | None = None,
    tz: str = "schedule",
) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    actor, now = page.actor, page.now
    zone = _zone(page, schedule, tz)
    window = tl.window(view if view in tl.VIEWS else "week", _around(day, zone, now), zone)
    result = queries.schedule_timeline(
        session, schedule_id, window.since, window.until, overflow=True
    )
    ordered = rows.ordered_layers(schedule)
    layer_names = [layer.name for layer in ordered]
    running = _overrides(session, schedule_id, now)
    people_ids = {s.user_id for s in result.final} | {o.user_id for o in running}
    people_ids |= {s.user_id for layer in result.layers for s in layer}
    versions: list[tuple[int, str, LayerVersion]] = []
    for i, layer in enumerate(ordered):
        model = rows.layer_of(layer)
        version = edits.version_at(model, now) or model.versions[0]
        versions.append((i + 1, layer.name, version))
        people_ids |= set(version.users)
    names = directory.names(session, people_ids)
    current = [summary(n, name, v, schedule.time_zone, names, now) for n, name, v in versions]
    painter = tl.Painter(
        window.since,
        window.until,
        zone,
        names,
        layer_names,
        tl.colours_for(sorted(people_ids, key=lambda u: names.get(u, u))),
    )
    row_specs = _rows(result, painter, layer_names)
    marks = tl.ticks(window.view, window.since, window.until, zone, painter)
    drawing = svg.draw(
        tl.drawing(row_specs, marks, painter, now),
        f"Timeline of {schedule.name}, {window.title}",
        "timeline",
        window.since.isoformat(),
        window.until.isoformat(),
    )
    may_edit = schedules.can_edit(session, actor, schedule)
    assert page.user is not None
    may_take = overrides.may_override(session, actor, schedule, page.user.id)
    decided: dict[str, bool] = {}

    def allowed(user_id: str) -> bool:
        """May the viewer cancel overrides of ``user_id`` (asked once per person)."""
        if user_id not in decided:
            decided[user_id] = overrides.may_override(session, actor, schedule, user_id)
        return decided[user_id]

    feed = urls.schedule_feed(page.settings, schedule.ical_token)
    team = directory.team_names(session, [schedule.team_id]).get(schedule.team_id or "")
    return page.render(
        "schedules/schedule.html",
        schedule=schedule,
        team=team,
        window=window,
        zone=zone,
        zone_choice="mine" if tz == "mine" else "schedule",
        drawing=drawing,
        painter=painter,
        final_bars=row_specs[0][2],
        layer_rows=row_specs[1:],
        layers=current,
        overrides=running,
        names=names,
        gaps=gaps_ahead(session, schedule_id, now),
        may_edit=may_edit,
        may_take=may_take,
        may_cancel={o.id for o in running if allowed(o.user_id)},
        cover=_cover_links(schedule.id, row_specs[0][2], now, page.user.id, may_take, may_edit),
        people=_pickable(session, page, schedule, may_edit),
        feed=feed,
        webcal=urls.webcal(feed),
        now=now,
        today=now.astimezone(ZoneInfo(zone)).date(),
    )


def _cover_links(
    schedule_id: str,
    bars: tuple[tl.Bar, ...],
    now: datetime,
    me: str,
    may_take: bool,
    may_edit: bool,
) -> dict[str, str]:
    """The "Cover…" link of each shift or gap still to come that the viewer can do something
    about: an editor any; someone who may put themself on call any but their own."""
    base = f"/schedules/{schedule_id}/cover?user="
    return {
        bar.key: f"{base}{bar.user_id or ''}&start={_q(bar.start)}&end={_q(bar.end)}"
        for bar in bars
        if bar.end > now and (may_edit or (may_take and bar.user_id != me))
    }


def _q(at: datetime) -> str:
    """An instant in a query string (RFC 3339: only ``+`` and ``:`` need escaping)."""
    return at.isoformat().replace("+", "%2B").replace(":", "%3A")


def _overrides(session: Session, schedule_id: str, now: datetime) -> list[ScheduleOverride]:
    """Overrides still to come or running, soonest first."""
    found = overrides.list_overrides(session, schedule_id, since=now, cursor=None, limit=200)
    return sorted(found.items, key=lambda o: (o.start, o.id))


def _pickable(session: Session, page: Page, schedule: Schedule, may_edit: bool) -> list[User]:
    """Who the override form offers: anyone for an editor (team first), else oneself."""
    assert page.user is not None
    if not may_edit:
        return [page.user]
    members = set(directory.member_ids(session, schedule.team_id))
    everyone = directory.everyone(session)
    return [u for u in everyone if u.id in members] + [u for u in everyone if u.id not in members]
