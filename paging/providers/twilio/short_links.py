"""Short signed links in SMS pages: ``{public_url}/l/{key}{signature}`` (21 characters of path).

A link opens one incident for one person without signing in: ``key`` (8 random characters)
names a row (incident, person), and the signature (10 characters of HMAC-SHA256 under the
server secret over key, incident and person) makes a guessed or altered key useless. The same
link goes in every page of that incident to that person. It stops working once the incident
is resolved. Opening it (GET) only shows the incident (scanners prefetch links); its buttons
POST, acting through ``paging.response.actions.act`` as that person.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus
from escalation.rules import Action
from paging.links import LinkError
from paging.outbox import outgoing
from paging.outbox.channel import Outgoing
from paging.outbox.models import Notification
from paging.providers.twilio.models import IncidentLink
from paging.response import actions
from paging.server_secret import derive, server_secret, signing_secret
from people.models import User
from store.audit import Actor
from store.base import utcnow
from store.settings import Settings

PURPOSE = "sms-link"
KEY_CHARS = 8
SIGNATURE_CHARS = 10
_ALPHABET = string.ascii_letters + string.digits
_TOKEN = re.compile(rf"([A-Za-z0-9]{{{KEY_CHARS}}})([A-Za-z0-9_-]{{{SIGNATURE_CHARS}}})")
VIA = "sms link"
PATH = "/l/"


@dataclass(frozen=True)
class Opened:
    incident: Incident
    user: User

    @property
    def actor(self) -> Actor:
        """The person the link was sent to, with no more rights than a page gives them."""
        return Actor(user_id=self.user.id, is_admin=False, label=f"user:{self.user.email}")


def _signature(secret: bytes, key: str, incident_id: str, user_id: str) -> str:
    message = f"{key}.{incident_id}.{user_id}".encode()
    digest = hmac.new(derive(secret, PURPOSE), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_CHARS]


def url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}{PATH}{token}"


def _links_table() -> Table:
    return cast(Table, IncidentLink.__table__)


def token_for(
    session: Session, settings: Settings, incident_id: str, user_id: str, now: datetime
) -> str:
    """The link token of (incident, person): the one they have, or a new one."""
    secret = signing_secret(session, settings, now)
    find = select(IncidentLink.key).where(
        IncidentLink.incident_id == incident_id, IncidentLink.user_id == user_id
    )
    key = session.scalar(find)
    if key is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        row = {
            "key": "".join(secrets.choice(_ALPHABET) for _ in range(KEY_CHARS)),
            "incident_id": incident_id,
            "user_id": user_id,
            "created_at": now,
        }
        session.execute(insert(_links_table()).on_conflict_do_nothing(), row)
        key = session.scalar(find)  # ours, or a concurrent engine's
        assert key is not None
    return key + _signature(secret, key, incident_id, user_id)


def open_link(session: Session, settings: Settings, token: str, now: datetime) -> Opened:
    """The incident and person a link names. Reads only: safe for GET."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise LinkError(404, "This link is not valid.")
    key, signature = match.groups()
    link = session.get(IncidentLink, key)
    secret = server_secret(session, settings, now, create=False)
    if link is None or secret is None:
        raise LinkError(404, "This link is not valid.")
    expected = _signature(secret, key, link.incident_id, link.user_id)
    if not hmac.compare_digest(signature, expected):
        raise LinkError(403, "This link's signature is not valid.")
    incident = session.get(Incident, link.incident_id)
    user = session.get(User, link.user_id)
    if incident is None or user is None:
        raise LinkError(404, "This link no longer leads anywhere.")
    if incident.status is IncidentStatus.resolved:
        raise LinkError(410, f"Incident #{incident.number} is resolved; this link has expired.")
    return Opened(incident, user)


def act(
    session: Session, settings: Settings, token: str, action: Action, now: datetime
) -> tuple[Opened, actions.ActResult]:
    """Act on the link's incident as the person it was sent to (the page's buttons)."""
    opened = open_link(session, settings, token, now)
    result = actions.act(session, opened.incident.id, action, opened.actor, via=VIA, now=now)
    return opened, result


def decorator(settings: Settings) -> outgoing.Decorator:
    """SMS pages link to the incident with a short link signed for the person paged."""

    def decorate(
        session: Session,
        carrier: Notification,
        pages: Sequence[Notification],
        message: Outgoing,
    ) -> Outgoing:
        if message.channel != "sms" or not message.incidents:
            return message
        now = utcnow()
        views = tuple(
            dataclasses.replace(
                view, url=url(settings, token_for(session, settings, view.id, carrier.user_id, now))
            )
            for view in message.incidents
        )
        return dataclasses.replace(message, incidents=views)

    return decorate
