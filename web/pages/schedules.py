"""A schedule's page: who is on call now and the final timeline of the coming week.

(The team lead's pages - a visual timeline, the rotation editor, covering shifts - build on
this one.)"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import Response

from calendars import urls
from schedules import service as schedules
from schedules.model import Gap
from web.deps import SessionDep, SignedIn
from web.pages.home import names_of
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
DAYS = 7


@router.get("/schedules/{schedule_id}")
def schedule_page(schedule_id: str, page: SignedIn, session: SessionDep) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    now = page.now
    timeline = schedules.schedule_timeline(session, schedule_id, now, now + timedelta(days=DAYS))
    segments = timeline.segments()
    shift = schedules.on_call_shift(session, schedule_id, now, whole=False)
    now_user = [] if shift is None or shift.user_id is None else [shift.user_id]
    feed = urls.schedule_feed(page.settings, schedule.ical_token)
    return page.render(
        "schedules/schedule.html",
        schedule=schedule,
        segments=[(seg, isinstance(seg, Gap)) for seg in segments],
        names=names_of(session, [s.user_id for s in timeline.final] + now_user),
        on_call_now=now_user[0] if now_user else None,
        days=DAYS,
        feed_url=feed,
        webcal_url=urls.webcal(feed),
    )
