"""Services: the list; a service's page (policy, integration key and snippets, maintenance,
heartbeats, support hours and urgency, recent incidents); creating and editing one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from escalation import hours
from escalation import service as escalation
from escalation.models import IncidentStatus, Service, Severity
from escalation.rules import default_urgency
from paging.intake import heartbeats, maintenance, support_hours
from paging.intake.models import MaintenanceWindow, SupportHoursRow
from paging.intake.trigger import change_policy
from paging.response import incident_lists
from people import directory, validation
from people import service as people
from people.models import Urgency
from store.errors import Forbidden, NotFound
from web.deps import Fields, Form, Page, SessionDep, SignedIn
from web.desk.forms import DAYS, Problems, name, number, parse_time, refused, values
from web.pages.desk.policies import team_choices
from web.rendering import local_time
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SHOWN = 200
SEVERITIES = tuple(s.value for s in Severity)
MAX_MAINTENANCE_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Support:
    """A service's support hours as a page shows them."""

    zone: str
    windows: list[str]
    inside: bool
    next_start: datetime | None
    during: dict[str, str]
    outside: dict[str, str]


def _support(session: Session, service: Service, now: datetime) -> Support | None:
    try:
        row: SupportHoursRow = support_hours.get(session, service.id)
    except NotFound:
        return None
    spec = support_hours.spec_of(row)
    defaults = {s: default_urgency(Severity(s)).value for s in SEVERITIES}
    return Support(
        row.time_zone,
        [
            f"{', '.join(d.capitalize() for d in (w.get('days') or DAYS))} {w['start']}–{w['end']}"
            for w in row.windows
        ],
        hours.inside(spec, now),
        hours.next_start(spec, now),
        {**defaults, **(row.urgency_during or {})},
        {**defaults, **(row.urgency_outside or {})},
    )


def _windows(session: Session, service_id: str, now: datetime) -> list[MaintenanceWindow]:
    """Maintenance windows on now or still to come."""
    found = maintenance.list_windows(session, service_id, cursor=None, limit=50).items
    return [w for w in found if w.closed_at is None and (w.ends_at is None or w.ends_at > now)]


@router.get("/services")
def service_list(page: SignedIn, session: SessionDep) -> Response:
    found = escalation.list_services(session, cursor=None, limit=SHOWN)
    policies = {
        p.id: p.name for p in escalation.list_policies(session, cursor=None, limit=200).items
    }
    now = page.now
    return page.render(
        "services/list.html",
        services=found.items,
        more=found.next is not None,
        policies=policies,
        teams=directory.team_names(session, [s.team_id for s in found.items]),
        in_maintenance={
            s.id for s in found.items if maintenance.active_window(session, s.id, now) is not None
        },
        may_create=bool(team_choices(session, page)),
    )


def _form_values(fields: Fields, problems: Problems) -> dict[str, object]:
    ack = fields.text("ack_minutes")
    auto = fields.text("resolve_hours")
    return {
        "name": name(fields.text("name"), "Service name", problems),
        "escalation_policy_id": fields.text("escalation_policy_id"),
        "acknowledgement_timeout_seconds": (
            number(ack, "Acknowledgement timeout", problems, 1, 7 * 24 * 60) * 60 if ack else None
        ),
        "auto_resolve_timeout_seconds": (
            number(auto, "Auto-resolve", problems, 1, 30 * 24) * 3600 if auto else None
        ),
    }


def _policies(session: Session) -> list[tuple[str, str]]:
    return [(p.id, p.name) for p in escalation.list_policies(session, cursor=None, limit=200).items]


@router.get("/services/new")
def new_service(page: SignedIn, session: SessionDep) -> Response:
    teams = team_choices(session, page)
    if not teams:
        raise Forbidden("only an admin or a team manager may create services")
    return page.render(
        "services/new.html",
        teams=teams,
        policies=_policies(session),
        problem=None,
        values={},
    )


@router.post("/services/new")
def new_service_post(page: SignedIn, form: Form, session: SessionDep) -> Response:
    problems = Problems()
    fields = _form_values(form, problems)
    created: list[Service] = []
    problem = problems.text if problems else None
    if problem is None:
        problem = refused(
            session,
            lambda: created.append(
                escalation.create_service(
                    session,
                    page.actor,
                    team_id=form.text("team_id") or None,
                    **fields,  # type: ignore[arg-type]
                )
            ),
        )
    if problem is not None:
        return page.render(
            "services/new.html",
            status=422,
            teams=team_choices(session, page),
            policies=_policies(session),
            problem=problem,
            values=form.data,
        )
    return page.redirect(f"/services/{created[0].id}", f"Service {fields['name']} created.")


def _snippets(page: Page, key: str) -> dict[str, str]:
    base = page.settings.public_url
    return {
        "curl": (
            f"curl -sS -X POST {base}/v2/enqueue \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            f'  -d \'{{"routing_key": "{key}", "event_action": "trigger",\n'
            '       "dedup_key": "disk-full-db1",\n'
            '       "payload": {"summary": "Disk full on db1", "source": "db1",'
            ' "severity": "critical"}}\''
        ),
        "webhook": (
            "receivers:\n"
            "  - name: watchbill\n"
            "    webhook_configs:\n"
            f"      - url: {base}/integrations/alertmanager/{key}\n"
            "        send_resolved: true"
        ),
        "pagerduty": (
            "receivers:\n"
            "  - name: watchbill-events\n"
            "    pagerduty_configs:\n"
            f"      - routing_key: {key}\n"
            f"        url: {base}/v2/enqueue"
        ),
    }


@router.get("/services/{service_id}")
def service_page(service_id: str, page: SignedIn, session: SessionDep) -> Response:
    service = escalation.get_service(session, service_id)
    me = page.user
    assert me is not None
    now = page.now
    may_manage = escalation.can_manage(session, page.actor, service.team_id)
    key = service.integration_key if may_manage else "<integration key>"
    policy = escalation.get_policy(session, service.escalation_policy_id)
    recent, _ = incident_lists.incident_board(
        session,
        me.id,
        people.team_ids_of(session, me.id),
        statuses=tuple(IncidentStatus),
        service_id=service_id,
        offset=0,
        limit=20,
    )
    monitors = heartbeats.list_for(session, service_id, cursor=None, limit=100).items
    return page.render(
        "services/service.html",
        service=service,
        policy=policy,
        team=directory.team_names(session, [service.team_id]).get(service.team_id or ""),
        may_manage=may_manage,
        may_operate=maintenance.may_operate(session, page.actor, service),
        key=key,
        snippets=_snippets(page, key),
        windows=_windows(session, service_id, now),
        active=maintenance.active_window(session, service_id, now),
        heartbeats=[(h, heartbeats.state(h)) for h in monitors],
        support=_support(session, service, now),
        severities=SEVERITIES,
        days=DAYS,
        recent=recent,
        policies=_policies(session),
        now=now,
    )


def _back(service_id: str) -> str:
    return f"/services/{service_id}"


@router.post("/services/{service_id}/edit")
def edit_service(service_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    problems = Problems()
    fields = _form_values(form, problems)
    if problems:
        return page.redirect(_back(service_id), "Not saved. " + problems.text)
    changed: list[bool] = []

    def save() -> None:
        service, policy_changed = escalation.update_service(session, page.actor, service_id, fields)
        if policy_changed:  # as the API does: open incidents restart on the new policy
            change_policy(session, service, page.now)
        changed.append(policy_changed)

    problem = refused(session, save)
    if problem is not None:
        return page.redirect(_back(service_id), f"Not saved: {problem}")
    note = " Open incidents restart at level 1 of the new policy." if changed[0] else ""
    return page.redirect(_back(service_id), "Service saved." + note)


@router.post("/services/{service_id}/rotate-key")
def rotate_key(service_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    if form.text("confirm") != "yes":
        return page.redirect(_back(service_id), "Key kept: tick the box to confirm.")
    escalation.rotate_integration_key(session, page.actor, service_id)
    return page.redirect(
        _back(service_id),
        "New integration key made. The old one no longer works: update your tools.",
    )


@router.post("/services/{service_id}/maintenance")
def start_maintenance(service_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    problems = Problems()
    minutes = number(form.text("minutes"), "Minutes", problems, 1, MAX_MAINTENANCE_MINUTES)
    if problems:
        return page.redirect(_back(service_id), "Maintenance not started. " + problems.text)
    until = page.now + timedelta(minutes=minutes)
    problem = refused(
        session,
        lambda: maintenance.create_window(
            session,
            page.actor,
            service_id,
            starts_at=None,
            ends_at=until,
            page_on_end=form.text("page_on_end") == "yes",
            description=form.text("description")[:500] or None,
            now=page.now,
        ),
    )
    if problem is not None:
        return page.redirect(_back(service_id), f"Maintenance not started: {problem}")
    return page.redirect(
        _back(service_id), f"Maintenance until {local_time(until, page.zone)}: nobody is paged."
    )


@router.post("/services/{service_id}/maintenance/{window_id}/end")
def end_maintenance(
    service_id: str, window_id: str, page: SignedIn, form: Form, session: SessionDep
) -> Response:
    problem = refused(
        session,
        lambda: maintenance.end_window(session, page.actor, service_id, window_id, page.now),
    )
    if problem is not None:
        return page.redirect(_back(service_id), f"Maintenance not ended: {problem}")
    return page.redirect(_back(service_id), "Maintenance ended: the service pages again.")


@router.post("/services/{service_id}/heartbeats")
def add_heartbeat(service_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    problems = Problems()
    label = name(form.text("name"), "Heartbeat name", problems)
    interval = number(form.text("interval_minutes"), "Interval", problems, 1, 31 * 24 * 60)
    grace = number(form.text("grace_minutes") or "0", "Grace", problems, 0, 24 * 60)
    if problems:
        return page.redirect(_back(service_id), "Heartbeat not added. " + problems.text)
    problem = refused(
        session,
        lambda: heartbeats.create(
            session, page.actor, service_id, name=label, interval_seconds=interval * 60,
            grace_seconds=grace * 60, now=page.now,
        ),
    )  # fmt: skip
    if problem is not None:
        return page.redirect(_back(service_id), f"Heartbeat not added: {problem}")
    return page.redirect(_back(service_id), f"Heartbeat {label} added: it arms at its first ping.")


@router.post("/services/{service_id}/heartbeats/{heartbeat_id}/delete")
def delete_heartbeat(
    service_id: str, heartbeat_id: str, page: SignedIn, form: Form, session: SessionDep
) -> Response:
    heartbeats.delete(session, page.actor, service_id, heartbeat_id)
    return page.redirect(_back(service_id), "Heartbeat removed.")


@router.post("/services/{service_id}/support-hours")
def put_support_hours(service_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    problems = Problems()
    zone = form.text("time_zone")
    try:
        validation.time_zone(zone)
    except ValueError as exc:
        problems.add(f"Time zone: {exc}.")
    windows = []
    for k in range(3):
        start, end = form.text(f"w-{k}-start"), form.text(f"w-{k}-end")
        if not start and not end:
            continue
        parse_time(start, f"Window {k + 1} from", problems)
        parse_time(end, f"Window {k + 1} to", problems)
        days = [d for d in values(form, f"w-{k}-days") if d in DAYS] or None
        windows.append(support_hours.WindowInput(days, start, end))
    maps = {
        when: {
            Severity(s): Urgency(form.text(f"{when}-{s}"))
            for s in SEVERITIES
            if form.text(f"{when}-{s}") in ("high", "low")
        }
        for when in ("during", "outside")
    }
    if problems:
        return page.redirect(_back(service_id), "Support hours not saved. " + problems.text)
    problem = refused(
        session,
        lambda: support_hours.put(
            session, page.actor, service_id, time_zone=zone, windows=windows,
            urgency_during=maps["during"] or None, urgency_outside=maps["outside"] or None,
            now=page.now,
        ),
    )  # fmt: skip
    if problem is not None:
        return page.redirect(_back(service_id), f"Support hours not saved: {problem}")
    return page.redirect(_back(service_id), "Support hours saved.")


@router.post("/services/{service_id}/support-hours/delete")
def delete_support_hours(
    service_id: str, page: SignedIn, form: Form, session: SessionDep
) -> Response:
    problem = refused(session, lambda: support_hours.delete(session, page.actor, service_id))
    if problem is not None:
        return page.redirect(_back(service_id), f"Not removed: {problem}")
    return page.redirect(_back(service_id), "Support hours removed: every hour is support hours.")
