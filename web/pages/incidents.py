"""Incidents: the list (mine first, by status and service) and the incident page with its
actions (the same ``paging.response.actions.act`` as SMS, voice and e-mail replies) and notes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from escalation import incidents as incident_rows
from escalation import service as escalation
from escalation.models import IncidentStatus
from escalation.rules import Action
from paging.response import actions, incident_lists, notes
from people import service as people
from web.deps import Form, SessionDep, SignedIn
from web.incident_view import incident_view
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PER_PAGE = 50
SERVICES_SHOWN = 200
STATUSES: dict[str, tuple[IncidentStatus, ...]] = {
    "open": incident_lists.OPEN,
    "triggered": (IncidentStatus.triggered,),
    "acknowledged": (IncidentStatus.acknowledged,),
    "resolved": (IncidentStatus.resolved,),
    "all": tuple(IncidentStatus),
}


@router.get("/incidents")
def incident_list(
    page: SignedIn,
    session: SessionDep,
    status: str = "open",
    service: str = "",
    page_number: int = 1,
) -> Response:
    me = page.user
    assert me is not None
    status = status if status in STATUSES else "open"
    page_number = max(1, min(page_number, 10_000))
    listed, more = incident_lists.incident_board(
        session,
        me.id,
        people.team_ids_of(session, me.id),
        statuses=STATUSES[status],
        service_id=service or None,
        offset=(page_number - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    services = escalation.list_services(session, cursor=None, limit=SERVICES_SHOWN).items
    return page.render(
        "incidents/list.html",
        listed=listed,
        more=more,
        shown=status,
        statuses=list(STATUSES),
        service=service,
        services=sorted(services, key=lambda s: s.name.lower()),
        page_number=page_number,
    )


@router.get("/incidents/{incident_id}")
def incident_page(incident_id: str, page: SignedIn, session: SessionDep) -> Response:
    incident = incident_rows.get_incident(session, incident_id)
    view = incident_view(session, incident, page.actor)
    return page.render(
        "incidents/incident.html",
        view=view,
        action_base=f"/incidents/{incident.id}",
        link_token=None,
    )


def _act(incident_id: str, action: Action, page: SignedIn, session: SessionDep) -> Response:
    result = actions.act(session, incident_id, action, page.actor, via="web", now=page.now)
    number = result.incident.number
    message = action.past + f" #{number}."
    if action is Action.acknowledge and not result.changed:
        message = f"#{number} was already acknowledged."
    return page.redirect(f"/incidents/{incident_id}", message)


@router.post("/incidents/{incident_id}/acknowledge")
def acknowledge(incident_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _act(incident_id, Action.acknowledge, page, session)


@router.post("/incidents/{incident_id}/resolve")
def resolve(incident_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _act(incident_id, Action.resolve, page, session)


@router.post("/incidents/{incident_id}/escalate")
def escalate(incident_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _act(incident_id, Action.escalate, page, session)


@router.post("/incidents/{incident_id}/notes")
def add_note(incident_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    notes.add_note(session, page.actor, incident_id, form.raw("text"), page.now, via="web")
    return page.redirect(f"/incidents/{incident_id}", "Note added.")
