"""Build what a channel sends from outbox rows (incident views, links, reply codes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from escalation.models import Incident, Service
from paging.outbox.channel import IncidentView, Outgoing
from paging.outbox.models import Notification
from people.models import User
from store.settings import Settings

#: Extra decorations of a message (reply codes, signed links), set where channels are wired:
#: ``decorate(session, carrier, pages, message) -> message``, where ``pages`` are the outbox
#: rows of ``message.incidents``, in the same order.
Decorator = Callable[[Session, Notification, Sequence[Notification], Outgoing], Outgoing]


def incident_url(settings: Settings, incident_id: str) -> str:
    """The incident's web page (sign-in needed; SMS pages carry a signed short link instead)."""
    return f"{settings.public_url}/incidents/{incident_id}"


def view_of(session: Session, settings: Settings, incident: Incident) -> IncidentView:
    service = session.get(Service, incident.service_id)
    return IncidentView(
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


def build(
    session: Session,
    settings: Settings,
    carrier: Notification,
    rows: Sequence[Notification],
    decorators: Sequence[Decorator] = (),
    callback_url: str | None = None,
) -> Outgoing:
    """The message for ``carrier``; with several incidents it is one bundled message, which
    lists each incident once (a repeat of a page may meet the page itself in a bundle).
    ``callback_url``: where the provider reports delivery (its channel type's status URL)."""
    user = session.get(User, carrier.user_id)
    views: list[IncidentView] = []
    pages: list[Notification] = []
    for row in rows:
        if row.incident_id is None or any(v.id == row.incident_id for v in views):
            continue
        incident = session.get(Incident, row.incident_id)
        if incident is not None:
            views.append(view_of(session, settings, incident))
            pages.append(row)
    payload = carrier.payload or {}
    message = Outgoing(
        notification_id=carrier.id,
        kind="bundle" if len(views) > 1 else carrier.kind,
        channel=carrier.channel,
        address=carrier.address,
        person=user.name if user else carrier.user_id,
        incidents=tuple(views),
        text=payload.get("text"),
        callback_url=callback_url,
    )
    for decorate in decorators:
        message = decorate(session, carrier, pages, message)
    return message
