"""``watchbill incidents``: list incidents, show one with its log, act on one as a person.

An incident is named by its number (``3``, or ``#3``; with several services, ``--service``
picks one) or by its id. Acting goes through the same function as every other way of
acting (``paging.response.actions.act``), as the person ``--as`` names, with their rights.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cli import when
from api.cli.base import CliError, app, console, ensure_schema, every, open_database, table
from escalation import incidents as incident_rows
from escalation import service as escalation
from escalation.models import Incident, IncidentStatus, Service
from escalation.rules import Action
from paging.intake import change_events
from paging.response import actions
from people import service as people
from people.models import UserRole
from store.audit import Actor
from store.base import utcnow

incidents_app = typer.Typer(
    help="Incidents: list them, show one with its log, acknowledge, resolve or escalate.",
)
app.add_typer(incidents_app, name="incidents")

ServiceOption = Annotated[
    str | None, typer.Option("--service", help="the service (by name) the number belongs to")
]
ZoneOption = Annotated[
    str | None,
    typer.Option("--time-zone", help="show times in this IANA zone (default: this machine's)"),
]


def _services(session: Session) -> dict[str, Service]:
    found = every(lambda cursor: escalation.list_services(session, cursor=cursor, limit=200))
    return {s.id: s for s in found}


def _service_named(services: dict[str, Service], name: str) -> Service:
    for service in services.values():
        if service.name.casefold() == name.strip().casefold():
            return service
    known = ", ".join(sorted(repr(s.name) for s in services.values())) or "none yet"
    raise CliError(f"no service named {name!r} (services: {known})")


def find_incident(session: Session, ref: str, service_name: str | None) -> Incident:
    """The incident ``ref`` names: a number (per service) or an id."""
    services = _services(session)
    text = ref.strip().removeprefix("#")
    if not text.isdigit():
        found = session.get(Incident, text)
        if found is None:
            raise CliError(f"no incident {ref!r} (give its number, e.g. 1, or its id)")
        return found
    stmt = select(Incident).where(Incident.number == int(text))
    if service_name is not None:
        stmt = stmt.where(Incident.service_id == _service_named(services, service_name).id)
    matches = list(session.scalars(stmt))
    if not matches:
        raise CliError(f"no incident #{text}" + (f" in {service_name!r}" if service_name else ""))
    if len(matches) > 1:
        names = ", ".join(sorted(repr(services[m.service_id].name) for m in matches))
        raise CliError(f"#{text} is an incident of several services ({names}): add --service")
    return matches[0]


@incidents_app.callback(invoke_without_command=True)
def incidents(
    ctx: typer.Context,
    status: Annotated[
        IncidentStatus | None, typer.Option(help="only incidents in this state")
    ] = None,
    service: ServiceOption = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="at most this many")] = 20,
    time_zone: ZoneOption = None,
) -> None:
    """List incidents, newest first (subcommands: show, ack, resolve, escalate)."""
    if ctx.invoked_subcommand is not None:
        return
    zone = when.zone_of(time_zone)
    database = open_database(must_exist=True)
    ensure_schema(database)
    with database.transaction() as session:
        services = _services(session)
        service_id = _service_named(services, service).id if service else None
        page = incident_rows.list_incidents(
            session, status=status, service_id=service_id, cursor=None, limit=limit
        )
        shown = table("#", "service", "status", "severity", "title", "opened", "latest")
        for incident in page.items:
            entries = incident_rows.log_entries(session, incident.id)
            shown.add_row(
                str(incident.number),
                services[incident.service_id].name,
                incident.status.value,
                incident.severity.value,
                incident.title,
                when.shown(incident.created_at, zone),
                entries[-1].message if entries else "",
            )
        if not page.items:
            shown.add_row("", "(no incidents)", "", "", "", "", "")
    console().print(shown)


@incidents_app.command("show")
def show(
    incident: Annotated[str, typer.Argument(help="its number (or id)")],
    service: ServiceOption = None,
    time_zone: ZoneOption = None,
) -> None:
    """Show an incident and its log: what happened, who was paged and how."""
    zone = when.zone_of(time_zone)
    database = open_database(must_exist=True)
    ensure_schema(database)
    out = console()
    with database.transaction() as session:
        found = find_incident(session, incident, service)
        out.print(_summary(session, found, zone))
        changes = change_events.recent(session, found)
        if changes:
            out.print("\nRecent changes on this service")
            shown = table("at", "change", "source")
            for change in changes:
                shown.add_row(when.shown(change.happened_at, zone), change.summary, change.source)
            out.print(shown)
        out.print("\nLog")
        out.print(_log_table(session, found, zone))


def _summary(session: Session, incident: Incident, zone: tzinfo | None) -> str:
    service = incident_rows.service_of(session, incident)
    lines = [
        f"#{incident.number} {incident.title}",
        f"  service   {service.name}",
        f"  status    {incident.status.value}",
        f"  severity  {incident.severity.value} ({incident.urgency.value} urgency)",
        f"  opened    {when.shown(incident.created_at, zone)}",
        f"  dedup key {incident.dedup_key}",
        f"  id        {incident.id}",
    ]
    if incident.acknowledged_by:
        lines.append(f"  acknowledged by {incident.acknowledged_by}")
    if incident.resolved_by:
        lines.append(f"  resolved by {incident.resolved_by}")
    return "\n".join(lines)


def _log_table(session: Session, incident: Incident, zone: tzinfo | None) -> Table:
    shown = table("at", "what", "")
    for entry in incident_rows.log_entries(session, incident.id):
        shown.add_row(when.shown(entry.at, zone), entry.kind, entry.message)
    return shown


def _act(ref: str, action: Action, email: str, service: str | None) -> None:
    database = open_database(must_exist=True)
    ensure_schema(database)
    with database.transaction() as session:
        person = people.find_user_by_email(session, email.strip())
        if person is None:
            raise CliError(f"--as: no user with email {email!r}")
        actor = Actor(
            user_id=person.id,
            is_admin=person.role is UserRole.admin,
            label=f"user:{person.email}",
        )
        found = find_incident(session, ref, service)
        result = actions.act(session, found.id, action, actor, via="cli", now=utcnow())
        number, status, changed = found.number, result.incident.status.value, result.changed
    verb = {"acknowledge": "acknowledged", "resolve": "resolved", "escalate": "escalated"}
    if changed:
        typer.echo(f"#{number} {verb[action.value]} by {email} (now {status})")
    else:
        typer.echo(f"#{number} was already {status}; nothing changed")


AsOption = Annotated[str, typer.Option("--as", help="the email of the person acting")]


@incidents_app.command("ack")
def acknowledge(
    incident: Annotated[str, typer.Argument(help="its number (or id)")],
    as_: AsOption,
    service: ServiceOption = None,
) -> None:
    """Acknowledge an incident: paging stops."""
    _act(incident, Action.acknowledge, as_, service)


@incidents_app.command("resolve")
def resolve(
    incident: Annotated[str, typer.Argument(help="its number (or id)")],
    as_: AsOption,
    service: ServiceOption = None,
) -> None:
    """Resolve an incident."""
    _act(incident, Action.resolve, as_, service)


@incidents_app.command("escalate")
def escalate(
    incident: Annotated[str, typer.Argument(help="its number (or id)")],
    as_: AsOption,
    service: ServiceOption = None,
) -> None:
    """Escalate an incident to the next level of its policy now."""
    _act(incident, Action.escalate, as_, service)
