"""The rotation editor: create a schedule or edit its layers, preview, then save.

Preview and save make the same service call with the same arguments
(:func:`schedules.service.create_schedule` / :func:`~schedules.service.update_schedule`);
the preview runs it in a savepoint that is rolled back (:mod:`schedules.preview`). Save is
accepted only for the draft and schedule state that were previewed; otherwise the page shows
a fresh preview first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from escalation import service as escalation
from people import directory
from schedules import preview as previews
from schedules import service as schedules
from schedules.models import Schedule
from store.errors import Conflict, Forbidden, Invalid
from web.deps import Fields, Form, Page, SessionDep, SignedIn
from web.desk import rotation_form as rf
from web.desk import svg
from web.desk import timeline as tl
from web.desk.forms import Problems, button, name, refused
from web.pages.desk.schedules import team_choices
from web.rendering import local_time
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ZONES = sorted(available_timezones())


@dataclass
class Plan:
    """One edit, as both preview and save make it."""

    specs: list[Any] = field(default_factory=list)
    effective_from: datetime | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    zone: str = "UTC"
    problems: Problems = field(default_factory=Problems)


def _today(page: Page) -> date:
    return page.now.astimezone(ZoneInfo(page.zone)).date()


def _state(schedule: Schedule | None) -> str:
    if schedule is None:
        return ""
    return json.dumps(schedules.snapshot(schedule), sort_keys=True, default=str)


def _plan(session: Session, page: Page, draft: rf.ScheduleDraft, schedule: Schedule | None) -> Plan:
    plan = Plan()
    zone = rf.zone_of(draft, plan.problems)
    if zone is None:
        return plan
    plan.zone = zone
    name(draft.name, "Schedule name", plan.problems)
    team_id = draft.team_id or None
    if schedule is None:
        plan.specs = rf.specs(draft, zone, {}, plan.problems)
        plan.fields = {"name": draft.name, "time_zone": zone, "team_id": team_id}
        return plan
    plan.effective_from = rf.effective_from(draft, schedule.time_zone, plan.problems)
    try:
        at = schedules.edit_instant(plan.effective_from, page.now)
    except Invalid:
        plan.problems.add("Takes effect: not in the past (edits never rewrite history).")
        return plan
    previous = rf.versions_at(schedule, at)
    plan.specs = rf.specs(draft, schedule.time_zone, previous, plan.problems)
    plan.fields = {"name": draft.name}
    if zone != schedule.time_zone:
        plan.fields["time_zone"] = zone
    if team_id != schedule.team_id:
        plan.fields["team_id"] = team_id
    return plan


def _preview(
    session: Session, page: Page, draft: rf.ScheduleDraft, schedule: Schedule | None, plan: Plan
) -> tuple[previews.EditPreview | None, str | None]:
    at = schedules.edit_instant(plan.effective_from, page.now)
    since = rf.day_start(at, plan.zone)
    until = since + timedelta(weeks=draft.weeks)
    try:
        if schedule is None:
            return previews.preview_create(
                session, page.actor, layers=plan.specs, now=page.now, since=since, until=until,
                **plan.fields,
            ), None  # fmt: skip
        edits = schedules.LayerEdits(plan.specs, plan.effective_from, draft.keep_current)
        return previews.preview_update(
            session, page.actor, schedule.id, now=page.now, edits=edits, since=since,
            until=until, **plan.fields,
        ), None  # fmt: skip
    except (Invalid, Conflict) as exc:
        return None, rf.humane(exc.detail, draft)


def _drawing(result: previews.EditPreview, zone: str, names: dict[str, str]) -> dict[str, Any]:
    people = [s.user_id for s in (*result.before.final, *result.after.final)]
    painter = tl.Painter(result.since, result.until, zone, names, [], tl.colours_for(people))
    before = tuple(
        painter.bar(f"b{i}", s, result.changes)
        for i, s in enumerate(tl.segments(result.before.final, result.before.gaps))
    )
    after = tuple(
        painter.bar(f"a{i}", s, result.changes)
        for i, s in enumerate(tl.segments(result.after.final, result.after.gaps))
    )
    marks = tl.ticks("week" if (result.until - result.since).days <= 14 else "month",
                     result.since, result.until, zone, painter)  # fmt: skip
    drawing = tl.drawing(
        [("before", "Before", before), ("after", "After", after)],
        marks,
        painter,
        result.at,
        result.at,
        "Takes effect",
    )
    caption = "Final schedule before and after the change"
    return {
        "drawing": svg.draw(drawing, caption, "preview-timeline", result.since.isoformat(),
                            result.until.isoformat()),
        "changes": [(c, painter.span(c.start, c.end)) for c in result.changes],
    }  # fmt: skip


def _render(
    session: Session,
    page: Page,
    draft: rf.ScheduleDraft,
    schedule: Schedule | None,
    *,
    problem: str | None = None,
    result: previews.EditPreview | None = None,
    status: int = 200,
) -> Response:
    people = directory.everyone(session)
    team = draft.team_id or (schedule.team_id if schedule else None)
    members = set(directory.member_ids(session, team))
    people = [u for u in people if u.id in members] + [u for u in people if u.id not in members]
    names = {u.id: u.name for u in people}
    ids = {u for layer in draft.layers for u in layer.users}
    if result is not None:
        ids |= {s.user_id for s in (*result.before.final, *result.after.final)}
    names.update(directory.names(session, ids - names.keys()))
    zone = schedule.time_zone if schedule else draft.time_zone
    context: dict[str, Any] = {}
    if result is not None:
        context = _drawing(result, zone if zone in ZONES else "UTC", names)
        context["token"] = draft.token(_state(schedule))
    return page.render(
        "schedules/editor.html",
        status=status,
        draft=draft,
        schedule=schedule,
        people=people,
        members=members,
        names=names,
        teams=team_choices(session, page, schedule.team_id if schedule else None),
        zones=ZONES,
        problem=problem,
        result=result,
        zone=zone,
        action=f"/schedules/{schedule.id}/edit" if schedule else "/schedules/new",
        **context,
    )


def _handle(
    session: Session, page: Page, form: Fields, schedule: Schedule | None
) -> Response:  # fmt: skip
    draft = rf.parse(form)
    op, args = button(form)
    if op not in ("preview", "save"):
        message = rf.apply(draft, op, args, form, _today(page))
        return _render(session, page, draft, schedule, problem=message)
    plan = _plan(session, page, draft, schedule)
    if plan.problems:
        return _render(session, page, draft, schedule, problem=plan.problems.text, status=422)
    result, problem = _preview(session, page, draft, schedule, plan)
    if result is None:
        return _render(session, page, draft, schedule, problem=problem, status=422)
    if op == "preview":
        return _render(session, page, draft, schedule, result=result)
    if form.text("previewed") != draft.token(_state(schedule)):
        notice = (
            "The form or the schedule changed since the preview: check this preview, then save."
        )
        return _render(session, page, draft, schedule, problem=notice, result=result, status=409)
    return _save(session, page, draft, schedule, plan, result)


def _save(
    session: Session,
    page: Page,
    draft: rf.ScheduleDraft,
    schedule: Schedule | None,
    plan: Plan,
    result: previews.EditPreview,
) -> Response:
    saved: list[Schedule] = []

    def save() -> None:  # the very call the preview made, now for good
        if schedule is None:
            saved.append(
                schedules.create_schedule(session, page.actor, layers=plan.specs, **plan.fields)
            )
        else:
            edits = schedules.LayerEdits(plan.specs, plan.effective_from, draft.keep_current)
            saved.append(
                schedules.update_schedule(
                    session, page.actor, schedule.id, now=page.now, edits=edits, **plan.fields
                )
            )

    problem = refused(session, save)
    if problem is not None:
        detail = rf.humane(problem, draft)
        return _render(session, page, draft, schedule, problem=detail, status=422)
    if schedule is None:
        return page.redirect(f"/schedules/{saved[0].id}", f"Schedule {draft.name} created.")
    when = local_time(max(result.at, page.now), page.zone)
    return page.redirect(
        f"/schedules/{schedule.id}",
        f"Saved. The change takes effect from {when}; the past is kept.",
    )


@router.get("/schedules/new")
def new_schedule(page: SignedIn, session: SessionDep) -> Response:
    choices = team_choices(session, page)
    if not choices:
        raise Forbidden("only an admin or a team manager may create schedules")
    draft = rf.blank(_today(page), page.zone, choices[0][0])
    return _render(session, page, draft, None)


@router.post("/schedules/new")
def new_schedule_post(page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _handle(session, page, form, None)


@router.get("/schedules/{schedule_id}/edit")
def edit_schedule(schedule_id: str, page: SignedIn, session: SessionDep) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    schedules.require_editor(session, page.actor, schedule, "edit this schedule")
    return _render(session, page, rf.from_schedule(schedule, page.now), schedule)


@router.post("/schedules/{schedule_id}/edit")
def edit_schedule_post(
    schedule_id: str, page: SignedIn, form: Form, session: SessionDep
) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    return _handle(session, page, form, schedule)


@router.post("/schedules/{schedule_id}/delete")
def delete_schedule(schedule_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    schedule = schedules.get_schedule(session, schedule_id)
    name = schedule.name
    if form.text("confirm") != "yes":
        return page.redirect(f"/schedules/{schedule_id}", "Not deleted: tick the box to confirm.")
    problem = refused(
        session,
        lambda: schedules.delete_schedule(
            session, page.actor, schedule_id, used_by=escalation.policy_using_schedule
        ),
    )
    if problem is not None:
        return page.redirect(f"/schedules/{schedule_id}", f"Not deleted: {problem}.")
    return page.redirect("/schedules", f"Schedule {name} deleted.")
