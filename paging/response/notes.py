"""Notes on an incident: free text from a responder, kept in the incident's log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import IncidentLog
from paging.response.actions import may_act
from store.audit import Actor
from store.errors import Forbidden, Invalid

MAX_LENGTH = 4000
KIND = "note"


def add_note(
    session: Session, actor: Actor, incident_id: str, text: str, now: datetime, *, via: str
) -> IncidentLog:
    """Add a note (whoever may act on the incident may write one; resolved ones too)."""
    incident = incident_rows.get_incident(session, incident_id)
    if not may_act(session, actor, incident):
        raise Forbidden("only admins, the service's team responders or people paged may add notes")
    text = text.strip()
    if not text:
        raise Invalid("text", "write something first")
    if len(text) > MAX_LENGTH:
        raise Invalid("text", f"at most {MAX_LENGTH} characters")
    return incident_rows.log(
        session, incident, KIND, text, now, by=actor.label, user_id=actor.user_id, via=via
    )
