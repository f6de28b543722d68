"""Imported calendars: an external iCal feed (URL) or an uploaded file feeds a schedule's
overrides. Functions take a session and never commit; fetching is in :mod:`calendars.refresh`.

Each refresh expands the calendar over ``[now, now + horizon_days)`` (recurring events too),
matches every occurrence to a user (:func:`calendars.ics_import.match_users`: attendee or
summary e-mail, or the summary naming the user) and reconciles the overrides it created before:

* a matched occurrence without an override gets one (overlapping occurrences of one person
  are merged first, since a person cannot hold two overlapping overrides in a schedule);
* an override whose occurrence disappeared from the calendar is cancelled through the
  schedules service (removed if in the future, cut short at now if it has started);
* the past is never rewritten: an occurrence already running gets an override from now on,
  and overrides that are over stay as history;
* an imported override someone cancelled by hand is not put back while its occurrence is
  unchanged (the link to it is kept until the occurrence changes or disappears).

Unmatched occurrences and overrides that could not be created are reported (stored in the
import's ``report`` and returned by the API), never dropped silently. A refresh that fails
(unreachable URL, malformed data) changes no override and keeps the previous report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.ics_import import CalendarImportError, ImportedEvent, match_users, parse_ics
from calendars.models import CalendarImport, ImportedOverride
from people.models import User
from schedules import overrides
from schedules import service as schedules
from schedules.core.values import ScheduleError, load_zone
from schedules.models import ScheduleOverride
from store import outbound
from store.audit import Actor, record, snapshot
from store.errors import DomainError, Invalid, NotFound

__all__ = [
    "MAX_HORIZON_DAYS",
    "MIN_REFRESH_SECONDS",
    "apply_calendar",
    "create_import",
    "delete_import",
    "get_import",
    "http_url",
    "list_imports",
    "record_failure",
    "request_refresh",
]

MIN_REFRESH_SECONDS = 5 * 60
MAX_REFRESH_SECONDS = 7 * 24 * 3600
MAX_HORIZON_DAYS = 366
_MAX_SHOWN_ATTENDEES = 10


@dataclass(frozen=True, slots=True)
class _Wanted:
    """An override the calendar asks for: one person over merged occurrences."""

    key: str
    user_id: str
    start: datetime
    end: datetime
    uids: tuple[str, ...]


def _actor(imp: CalendarImport) -> Actor:
    return Actor(user_id=None, is_admin=True, label=f"calendar-import:{imp.id}")


def http_url(url: str) -> str:
    """The URL to GET: ``webcal://`` means https; other schemes than http(s) are refused."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() == "webcal":
        return f"https://{rest}"
    if not sep or scheme.lower() not in outbound.SCHEMES:
        raise Invalid("url", f"unsupported URL {url!r}: use http, https or webcal")
    return url


def check_source_url(url: str, *, allow_private: bool) -> None:
    """422 ``url`` for a URL the engine would refuse to fetch (a private address, say)."""
    try:
        outbound.check_url(http_url(url), allow_private=allow_private)
    except (outbound.OutboundRefused, outbound.FetchFailed) as exc:
        raise Invalid("url", str(exc)) from exc


def get_import(session: Session, schedule_id: str, import_id: str) -> CalendarImport:
    found = session.get(CalendarImport, import_id)
    if found is None or found.schedule_id != schedule_id:
        raise NotFound(f"no calendar import {import_id!r} in schedule {schedule_id!r}")
    return found


def list_imports(session: Session, schedule_id: str) -> list[CalendarImport]:
    schedules.get_schedule(session, schedule_id)
    stmt = select(CalendarImport).where(CalendarImport.schedule_id == schedule_id)
    return list(session.scalars(stmt.order_by(CalendarImport.created_at, CalendarImport.id)))


def create_import(
    session: Session,
    actor: Actor,
    schedule_id: str,
    *,
    name: str,
    source_url: str | None,
    content: bytes | None,
    time_zone: str | None,
    refresh_seconds: int,
    horizon_days: int,
    now: datetime,
    allow_private: bool = False,
) -> CalendarImport:
    """A new import. An uploaded file is applied at once (malformed data: 422, nothing kept);
    a URL is fetched by the engine's next refresh (``status`` stays ``pending`` until then).
    A URL on a private network is 422 unless ``allow_private`` (:mod:`store.outbound`)."""
    schedule = schedules.get_schedule(session, schedule_id)
    schedules.require_editor(session, actor, schedule, "import calendars into this schedule")
    if (source_url is None) == (content is None):
        raise Invalid("url", "give exactly one of url (a calendar to follow) or ics (a file)")
    if not MIN_REFRESH_SECONDS <= refresh_seconds <= MAX_REFRESH_SECONDS:
        raise Invalid("refresh_minutes", "must be between 5 minutes and 7 days")
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise Invalid("horizon_days", f"must be between 1 and {MAX_HORIZON_DAYS}")
    if source_url is not None:
        check_source_url(source_url, allow_private=allow_private)
    if time_zone is not None:
        try:
            load_zone(time_zone)
        except ScheduleError as exc:
            raise Invalid("time_zone", str(exc)) from exc
    imp = CalendarImport(
        schedule_id=schedule_id,
        name=name,
        source_url=source_url,
        content=None if content is None else content.decode("utf-8", errors="replace"),
        target="overrides",
        time_zone=time_zone or schedule.time_zone,
        refresh_seconds=refresh_seconds,
        horizon_days=horizon_days,
        created_by=actor.label,
        next_refresh_at=now,
        status="pending",
        report={},
    )
    session.add(imp)
    session.flush()
    if content is not None:
        try:
            apply_calendar(session, imp, content, now)
        except CalendarImportError as exc:
            raise Invalid("ics", str(exc)) from exc
    record(session, actor, "create", imp, None, after=_audit(imp))
    return imp


def _audit(imp: CalendarImport) -> dict[str, Any]:
    data = snapshot(imp)
    data.pop("content", None)
    data.pop("report", None)
    return data


def request_refresh(session: Session, actor: Actor, imp: CalendarImport, now: datetime) -> None:
    """Make the import due now (the engine refreshes it within a minute)."""
    schedule = schedules.get_schedule(session, imp.schedule_id)
    schedules.require_editor(session, actor, schedule, "refresh calendar imports")
    imp.next_refresh_at = now
    imp.claimed_until = None


def delete_import(
    session: Session, actor: Actor, imp: CalendarImport, now: datetime, *, keep_overrides: bool
) -> None:
    """Remove the import; unless ``keep_overrides``, cancel its overrides that are not over."""
    schedule = schedules.get_schedule(session, imp.schedule_id)
    schedules.require_editor(session, actor, schedule, "delete calendar imports")
    before = _audit(imp)
    if not keep_overrides:
        for link in _links(session, imp):
            _cancel(session, imp, link, now)
    session.delete(imp)
    record(session, actor, "delete", imp, before, after=None)


def _links(session: Session, imp: CalendarImport) -> list[ImportedOverride]:
    return list(
        session.scalars(select(ImportedOverride).where(ImportedOverride.import_id == imp.id))
    )


def _cancel(session: Session, imp: CalendarImport, link: ImportedOverride, now: datetime) -> bool:
    """Cancel the link's override unless it is over; drop the link. True if cancelled."""
    session.delete(link)
    session.flush()
    existing = session.get(ScheduleOverride, link.override_id)
    if existing is None or existing.end <= now:
        return False
    overrides.delete_override(session, _actor(imp), imp.schedule_id, existing.id, now=now)
    return True


def _key(user_id: str, start: datetime, end: datetime, uids: Sequence[str]) -> str:
    text = "|".join([user_id, start.isoformat(), end.isoformat(), *sorted(set(uids))])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _wanted(matched: Sequence[tuple[ImportedEvent, str]]) -> list[_Wanted]:
    """One override per person and run of overlapping occurrences."""
    by_user: dict[str, list[ImportedEvent]] = {}
    for event, user_id in matched:
        if event.end > event.start:
            by_user.setdefault(user_id, []).append(event)
    out: list[_Wanted] = []

    def close(user_id: str, run: list[ImportedEvent], end: datetime) -> None:
        uids = tuple(e.uid for e in run)
        out.append(
            _Wanted(_key(user_id, run[0].start, end, uids), user_id, run[0].start, end, uids)
        )

    for user_id, events in by_user.items():
        events.sort(key=lambda e: (e.start, e.end, e.uid))
        run, end = [events[0]], events[0].end
        for event in events[1:]:
            if event.start < end:
                run.append(event)
                end = max(end, event.end)
            else:
                close(user_id, run, end)
                run, end = [event], event.end
        close(user_id, run, end)
    return sorted(out, key=lambda w: (w.start, w.user_id))


def _event_json(event: ImportedEvent) -> dict[str, Any]:
    return {
        "uid": event.uid,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "summary": event.summary,
        "attendees": list(event.attendee_emails[:_MAX_SHOWN_ATTENDEES]),
        "organizer": event.organizer_email,
    }


def apply_calendar(session: Session, imp: CalendarImport, data: bytes, now: datetime) -> None:
    """Parse ``data`` and reconcile the import's overrides with it; store the report.

    Raises :class:`CalendarImportError` (nothing changed) for malformed data.
    """
    now = now.astimezone(UTC)
    result = parse_ics(data, now, now + timedelta(days=imp.horizon_days), imp.time_zone)
    people = session.execute(select(User.id, User.email, User.name)).all()
    matches = match_users(
        result.events,
        {email: user_id for user_id, email, _ in people},
        {name: user_id for user_id, _, name in people},
    )
    wanted = {w.key: w for w in _wanted(matches.matched)}
    removed = created = 0
    for link in _links(session, imp):
        if link.event_key not in wanted:
            removed += _cancel(session, imp, link, now)
    have = {link.event_key for link in _links(session, imp)}
    problems: list[dict[str, Any]] = []
    for key, want in wanted.items():
        if key in have or want.end <= now:
            continue
        start = max(want.start, now)  # an override never starts in the past
        try:
            with session.begin_nested():
                made = overrides.create_override(
                    session,
                    _actor(imp),
                    imp.schedule_id,
                    user_id=want.user_id,
                    start=start,
                    end=want.end,
                    now=now,
                )
        except DomainError as exc:
            problems.append(
                {
                    "user_id": want.user_id,
                    "start": start.isoformat(),
                    "end": want.end.isoformat(),
                    "uids": list(want.uids),
                    "error": exc.detail,
                }
            )
            continue
        link = ImportedOverride(
            import_id=imp.id,
            event_key=key,
            override_id=made.id,
            user_id=want.user_id,
            start=want.start,
            end=want.end,
        )
        session.add(link)
        created += 1
    until = now + timedelta(days=imp.horizon_days)
    imp.report = {
        "calendar_name": result.calendar_name,
        "window": {"since": now.isoformat(), "until": until.isoformat()},
        "events": len(result.events),
        "matched": len(matches.matched),
        "overrides_created": created,
        "overrides_cancelled": removed,
        "unmatched": [_event_json(e) for e in matches.unmatched],
        "not_applied": problems,
        "warnings": list(result.warnings),
    }
    imp.status, imp.last_error, imp.last_refresh_at = "ok", None, now
    imp.next_refresh_at = now + timedelta(seconds=imp.refresh_seconds)
    imp.claimed_until = None
    session.flush()


def record_failure(imp: CalendarImport, error: str, now: datetime) -> None:
    """A refresh failed: say why and try again after the refresh interval. Overrides stay."""
    imp.status, imp.last_error, imp.last_refresh_at = "error", error, now
    imp.next_refresh_at = now + timedelta(seconds=imp.refresh_seconds)
    imp.claimed_until = None
