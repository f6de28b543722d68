"""Cover a shift: take it, cover for someone, swap two shifts; add and cancel overrides.

Every action is an override made by :mod:`schedules.overrides`, which decides who may: a team
responder may put themself on call; admins and the team's managers may put anyone on call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import Response

from people import directory
from schedules import overrides, queries
from schedules import service as schedules
from store.errors import Invalid
from web.deps import Form, SessionDep, SignedIn
from web.desk.forms import Problems, local_instant, parse_instant, refused
from web.rendering import local_time
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
#: How far ahead the swap picker looks for the other shift.
SWAP_HORIZON = timedelta(days=28)


def _instant(text: str, what: str) -> datetime:
    value = parse_instant(text)
    if value is None:
        raise Invalid(what, "not an instant this page gave")
    return value


@router.get("/schedules/{schedule_id}/cover")
def cover_page(
    schedule_id: str,
    page: SignedIn,
    session: SessionDep,
    start: str = "",
    end: str = "",
    user: str = "",
) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    me = page.user
    assert me is not None
    shift_start, shift_end = _instant(start, "start"), _instant(end, "end")
    begins = max(shift_start, page.now)
    may_edit = schedules.can_edit(session, page.actor, schedule)
    may_take = user != me.id and overrides.may_override(session, page.actor, schedule, me.id)
    candidates = []
    if may_edit and user:
        upcoming = queries.schedule_timeline(
            session, schedule_id, page.now, page.now + SWAP_HORIZON, overflow=True
        ).final
        candidates = [
            s
            for s in upcoming
            if s.user_id != user
            and s.start >= page.now
            and not (shift_start < s.end and s.start < shift_end)
        ]
    people = directory.everyone(session) if may_edit else []
    names = directory.names(session, {user, *(s.user_id for s in candidates)})
    return page.render(
        "schedules/cover.html",
        schedule=schedule,
        user_id=user,
        who=names.get(user, "Nobody") if user else "Nobody",
        shift_start=shift_start,
        shift_end=shift_end,
        begins=begins,
        may_take=may_take,
        may_edit=may_edit,
        people=[p for p in people if p.id != user],
        candidates=candidates[:60],
        names=names,
    )


def _back(schedule_id: str) -> str:
    return f"/schedules/{schedule_id}"


@router.post("/schedules/{schedule_id}/overrides")
def add_override(schedule_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    """From the cover page (exact instants) or the override form (the viewer's local time)."""
    user_id = form.text("user_id")
    problems = Problems()
    if form.has("start_at"):
        start: datetime | None = _instant(form.text("start_at"), "start")
        end: datetime | None = _instant(form.text("end_at"), "end")
    else:
        zone = page.zone
        start = local_instant(form.text("start_date"), form.text("start_time"), zone, "From",
                              problems)  # fmt: skip
        end = local_instant(form.text("end_date"), form.text("end_time"), zone, "To", problems)
    if problems or start is None or end is None:
        return page.redirect(_back(schedule_id), "Override not added. " + problems.text)
    start = max(start, page.now)  # a running shift is taken from now on; the past stays

    def create() -> None:
        overrides.create_override(
            session, page.actor, schedule_id, user_id=user_id, start=start, end=end, now=page.now
        )

    problem = refused(session, create)
    if problem is not None:
        return page.redirect(_back(schedule_id), f"Override not added: {problem}")
    name = directory.names(session, [user_id]).get(user_id, "?")
    span = f"{local_time(start, page.zone)} to {local_time(end, page.zone)}"
    return page.redirect(_back(schedule_id), f"Override added: {name} is on call from {span}.")


@router.post("/schedules/{schedule_id}/swap")
def swap(schedule_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    first = (
        form.text("first_user"),
        max(_instant(form.text("first_start"), "first_start"), page.now),
        _instant(form.text("first_end"), "first_end"),
    )
    user, _, rest = form.text("second").partition("|")
    second_start, _, second_end = rest.partition("|")
    if not user:
        return page.redirect(_back(schedule_id), "Pick the shift to swap with.")
    second = (
        user,
        max(_instant(second_start, "second"), page.now),
        _instant(second_end, "second"),
    )
    problem = refused(
        session,
        lambda: overrides.swap_shifts(
            session, page.actor, schedule_id, first, second, now=page.now
        ),
    )
    if problem is not None:
        return page.redirect(_back(schedule_id), f"Shifts not swapped: {problem}")
    names = directory.names(session, [first[0], second[0]])
    return page.redirect(
        _back(schedule_id),
        f"Swapped: {names.get(second[0], '?')} takes {local_time(first[1], page.zone)}, "
        f"{names.get(first[0], '?')} takes {local_time(second[1], page.zone)}.",
    )


@router.post("/schedules/{schedule_id}/overrides/{override_id}/cancel")
def cancel_override(
    schedule_id: str, override_id: str, page: SignedIn, form: Form, session: SessionDep
) -> Response:
    outcome: list[object] = []

    def cancel() -> None:
        outcome.append(
            overrides.delete_override(session, page.actor, schedule_id, override_id, now=page.now)
        )

    problem = refused(session, cancel)
    if problem is not None:
        return page.redirect(_back(schedule_id), f"Override not cancelled: {problem}.")
    if outcome and outcome[0] is not None:
        message = "Override cut short now; the part already past is kept."
    else:
        message = "Override removed."
    return page.redirect(_back(schedule_id), message)
