"""Calendar feeds (iCalendar, RFC 5545) at root paths, with no bearer token.

The token in the URL is the credential: an unknown or rotated one is 404 at once. Answers
carry a strong ``ETag`` and ``Last-Modified``; ``If-None-Match`` (or, without it,
``If-Modified-Since``) answers 304 without building the feed when nothing changed.

Calendar clients poll these URLs all day, so the handlers are ``async`` and do all their
database work in one worker-thread call: one unit of work (``Database.transaction``, as in
``api.deps.get_session``: committed on success, rolled back on error), without a thread hop per
dependency. A 304 then costs about as much as ``/healthz`` plus two small queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import get_database, get_now, get_settings
from api.openapi import problems
from calendars import service as calendars
from calendars.render import MAX_ALARM_MINUTES
from store.settings import Settings

router = APIRouter(tags=["calendars"])

ICS = "text/calendar; charset=utf-8"
_CACHE_CONTROL = "private, no-cache"
_DOC = {
    200: {"content": {"text/calendar": {}}, "description": "the feed (RFC 5545)"},
    304: {"description": "the copy named by If-None-Match / If-Modified-Since is current"},
    404: {"description": "no feed at this address (unknown or rotated token)"},
    **problems(c409="another request is updating this feed; retry"),
}

PastDays = Annotated[
    int, Query(ge=0, le=calendars.MAX_DAYS, description="days of history (before today)")
]
FutureDays = Annotated[
    int, Query(ge=1, le=calendars.MAX_DAYS, description="days ahead (past + future ≤ 366)")
]
AlarmMinutes = Annotated[
    int | None,
    Query(ge=0, le=MAX_ALARM_MINUTES, description="a reminder this many minutes before shifts"),
]
IfNoneMatch = Annotated[str | None, Header()]
IfModifiedSince = Annotated[str | None, Header()]


def _conditions(if_none_match: str | None, if_modified_since: str | None) -> calendars.Conditions:
    tags = tuple(
        tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",") if tag.strip()
    )
    since: datetime | None = None
    if if_modified_since and not tags:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            since = None  # an invalid date is ignored (RFC 9110 13.1.3)
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    return calendars.Conditions(tags, since)


def _respond(answer: calendars.FeedAnswer, filename: str) -> Response:
    headers = {
        "ETag": answer.etag,
        "Last-Modified": format_datetime(answer.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": _CACHE_CONTROL,
    }
    if answer.body is None:
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(answer.body, media_type=ICS, headers=headers)


def _serve(
    request: Request,
    resolve: Callable[[Session, Settings, str], calendars.Feed],
    filename: str,
    token: str,
    options: calendars.FeedOptions,
    conditions: calendars.Conditions,
) -> Response:
    settings, now = get_settings(request), get_now(request)
    with get_database(request).transaction() as session:
        feed = resolve(session, settings, token)
        answer = calendars.answer_feed(session, settings, feed, options, now, conditions)
    return _respond(answer, filename)


SCHEDULE_FEED = "/calendars/schedules/{token}.ics"
USER_FEED = "/calendars/users/{token}.ics"


@router.head(
    SCHEDULE_FEED,
    response_class=Response,
    responses=_DOC,  # type: ignore[arg-type]
    summary="A schedule feed's headers (ETag, Last-Modified) without the body",
    description="As `GET`, without the body: what a calendar client asks before it reads.",
)
@router.get(
    SCHEDULE_FEED,
    response_class=Response,
    responses=_DOC,  # type: ignore[arg-type]
    summary="A schedule's final shifts (after overrides) as an iCalendar feed",
)
async def schedule_calendar(
    token: str,
    request: Request,
    past_days: PastDays = 30,
    future_days: FutureDays = 180,
    alarm_minutes: AlarmMinutes = None,
    gaps: Annotated[bool, Query(description="show uncovered time as events")] = False,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
) -> Response:
    """The token in the URL is the credential (no bearer token; rotate it with `POST
    /api/v1/schedules/{id}/rotate-ical`). One VEVENT per shift with a UID that stays while the
    shift does; `ETag`/`Last-Modified` answer conditional requests with 304."""
    options = calendars.FeedOptions(past_days, future_days, alarm_minutes, gaps)
    conditions = _conditions(if_none_match, if_modified_since)
    return await run_in_threadpool(
        _serve, request, calendars.schedule_feed, "schedule.ics", token, options, conditions
    )


@router.head(
    USER_FEED,
    response_class=Response,
    responses=_DOC,  # type: ignore[arg-type]
    summary="A user feed's headers (ETag, Last-Modified) without the body",
    description="As `GET`, without the body: what a calendar client asks before it reads.",
)
@router.get(
    USER_FEED,
    response_class=Response,
    responses=_DOC,  # type: ignore[arg-type]
    summary="A user's shifts in every schedule as an iCalendar feed",
)
async def user_calendar(
    token: str,
    request: Request,
    past_days: PastDays = 30,
    future_days: FutureDays = 180,
    alarm_minutes: AlarmMinutes = None,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
) -> Response:
    """The token in the URL is the credential (no bearer token; rotate it with `POST
    /api/v1/users/{id}/rotate-ical`). One VEVENT per shift in every schedule;
    `ETag`/`Last-Modified` answer conditional requests with 304."""
    options = calendars.FeedOptions(past_days, future_days, alarm_minutes, False)
    conditions = _conditions(if_none_match, if_modified_since)
    return await run_in_threadpool(
        _serve, request, calendars.user_feed, "on-call.ics", token, options, conditions
    )
