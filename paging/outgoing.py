"""Build what a channel sends from outbox rows (incident views, links, reply codes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from escalation.models import Incident, Service
from paging.channels.base import IncidentView, Outgoing
from paging.models import Notification
from people.models import User
from store.settings import Settings

#: Extra per-(address, incident) decorations (reply codes, signed links), set by channels'
#: modules at start-up: ``decorate(session, notification, incident, view) -> view``.
Decorator = Callable[[Session, Notification, Incident, IncidentView], IncidentView]


def incident_url(settings: Settings, incident_id: str) -> str:
    """The incident's web page (sign-in needed; SMS pages carry a signed short link instead)."""
    return f"{settings.public_url}/incidents/{incident_id}"


def view_of(
    session: Session,
    settings: Settings,
    notification: Notification,
    incident: Incident,
    decorators: Sequence[Decorator] = (),
) -> IncidentView:
    service = session.get(Service, incident.service_id)
    view = IncidentView(
        id=incident.id,
        number=incident.number,
        title=incident.title,
        severity=incident.severity.value,
        urgency=incident.urgency.value,
        status=incident.status.value,
        service=service.name if service else "",
        url=incident_url(settings, incident.id),
        details=incident.details,
    )
    for decorate in decorators:
        view = decorate(session, notification, incident, view)
    return view


def build(
    session: Session,
    settings: Settings,
    carrier: Notification,
    rows: Sequence[Notification],
    decorators: Sequence[Decorator] = (),
) -> Outgoing:
    """The message for ``carrier``; with several ``rows`` it is one bundled message."""
    user = session.get(User, carrier.user_id)
    views = []
    for row in rows:
        if row.incident_id is None:
            continue
        incident = session.get(Incident, row.incident_id)
        if incident is not None:
            views.append(view_of(session, settings, row, incident, decorators))
    payload = carrier.payload or {}
    return Outgoing(
        notification_id=carrier.id,
        kind="bundle" if len(rows) > 1 else carrier.kind,
        channel=carrier.channel,
        address=carrier.address,
        person=user.name if user else carrier.user_id,
        incidents=tuple(views),
        text=payload.get("text"),
        callback_url=f"{settings.public_url}/webhooks/twilio/status/{carrier.id}",
    )
