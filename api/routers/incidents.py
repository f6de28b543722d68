"""Incidents: open, list, read (with the log), acknowledge, resolve, escalate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentActor, NowDep, PageDep, SessionDep
from api.openapi import problems
from api.schemas.escalation import IncidentIn, IncidentOut, LogEntryOut, NoteIn
from api.schemas.events import ChangeOut
from api.schemas.people import ListOut
from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus, Service
from escalation.rules import Action
from paging.intake import change_events
from paging.intake.trigger import Trigger, ingest
from paging.response import actions, notes
from people.access import require_team_responder
from store.errors import Invalid

router = APIRouter(tags=["incidents"])


def incident_out(
    incident: Incident,
    log: list[LogEntryOut] | None = None,
    changes: list[ChangeOut] | None = None,
) -> IncidentOut:
    return IncidentOut(
        id=incident.id,
        number=incident.number,
        service_id=incident.service_id,
        title=incident.title,
        details=incident.details,
        severity=incident.severity,
        urgency=incident.urgency,
        status=incident.status,
        dedup_key=incident.dedup_key,
        trigger_count=incident.trigger_count,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
        acknowledged_at=incident.acknowledged_at,
        acknowledged_by=incident.acknowledged_by,
        resolved_at=incident.resolved_at,
        resolved_by=incident.resolved_by,
        escalation_tier=incident.tier + 1,
        escalation_loop=incident.loop,
        next_escalation_at=incident.next_escalation_at,
        unrouted=incident.unrouted_at is not None,
        unrouted_at=incident.unrouted_at,
        log=log,
        recent_changes=changes,
    )


@router.post(
    "/incidents",
    status_code=201,
    summary="Open an incident (200 with the open one when dedup_key matches)",
    responses={200: {"description": "an open incident with this dedup_key exists"}},
)
def create_incident(
    body: IncidentIn, session: SessionDep, actor: CurrentActor, now: NowDep, response: Response
) -> IncidentOut:
    """Admins and the service team's managers and responders. Escalation starts at once. With a
    `dedup_key` that an open incident has, that incident is answered (200) and nobody is paged
    again."""
    service = session.get(Service, body.service_id)
    if service is None:
        raise Invalid("service_id", f"no service {body.service_id!r}")
    require_team_responder(session, actor, service.team_id, "open incidents")
    result = ingest(
        session,
        service,
        Trigger(
            title=body.title,
            severity=body.severity,
            details=body.details,
            dedup_key=body.dedup_key,
            urgency=body.urgency,
            source=actor.label,
            via="api",
        ),
        now,
    )
    if not result.created:
        response.status_code = 200
    return incident_out(result.incident)


@router.get("/incidents", summary="List incidents, newest first")
def list_incidents(
    session: SessionDep,
    _: CurrentActor,
    page: PageDep,
    status: Annotated[IncidentStatus | None, Query()] = None,
    service_id: Annotated[str | None, Query()] = None,
    unrouted: Annotated[
        bool | None,
        Query(description="true: only incidents a pass of whose policy reached nobody"),
    ] = None,
) -> ListOut[IncidentOut]:
    """Everyone signed in; filter by `status` and `service_id`."""
    result = incident_rows.list_incidents(
        session,
        status=status,
        service_id=service_id,
        unrouted=unrouted,
        cursor=page.cursor,
        limit=page.limit,
    )
    return ListOut(items=[incident_out(i) for i in result.items], next=result.next)


@router.get("/incidents/{incident_id}", summary="An incident with its log")
def get_incident(incident_id: str, session: SessionDep, _: CurrentActor) -> IncidentOut:
    """Everyone signed in; `log` says what happened, who was paged and how."""
    incident = incident_rows.get_incident(session, incident_id)
    entries = incident_rows.log_entries(session, incident_id)
    changes = [ChangeOut.model_validate(c) for c in change_events.recent(session, incident)]
    return incident_out(incident, [LogEntryOut.model_validate(e) for e in entries], changes)


def _act(
    incident_id: str, action: Action, session: SessionDep, actor: CurrentActor, now: NowDep
) -> IncidentOut:
    result = actions.act(session, incident_id, action, actor, via="api", now=now)
    return incident_out(result.incident)


@router.post(
    "/incidents/{incident_id}/acknowledge",
    summary="Acknowledge: stop escalating",
    responses=problems(409),
)
def acknowledge(
    incident_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> IncidentOut:
    """Admins, the service team's managers and responders, and anyone paged for it. Stops
    escalation; acknowledging twice changes nothing; a resolved incident is 409."""
    return _act(incident_id, Action.acknowledge, session, actor, now)


@router.post("/incidents/{incident_id}/resolve", summary="Resolve", responses=problems(409))
def resolve(incident_id: str, session: SessionDep, actor: CurrentActor, now: NowDep) -> IncidentOut:
    """Admins, the service team's managers and responders, and anyone paged for it. Stops
    escalation and cancels pending pages; a resolved incident is 409."""
    return _act(incident_id, Action.resolve, session, actor, now)


@router.post(
    "/incidents/{incident_id}/escalate",
    summary="Escalate to the next tier now",
    responses=problems(409),
)
def escalate(
    incident_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> IncidentOut:
    """Admins, the service team's managers and responders, and anyone paged for it: the next tier
    is notified now (409 at the last tier without repeats, or when resolved)."""
    return _act(incident_id, Action.escalate, session, actor, now)


@router.post(
    "/incidents/{incident_id}/notes", status_code=201, summary="Add a note to the incident's log"
)
def add_note(
    incident_id: str, body: NoteIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> LogEntryOut:
    """Anyone who may act on the incident (as for acknowledge); the note shows in its log."""
    entry = notes.add_note(session, actor, incident_id, body.text, now, via="api")
    return LogEntryOut.model_validate(entry)
