"""Signed action links: ``{public_url}/links/{notification}.{a|r}.{signature}``.

E-mail pages carry them as buttons, webhook pages as their acknowledge / resolve callbacks. A
link names one outbox row (so one incident and the person it was sent to) and one action,
signed with HMAC-SHA256 under the server secret. It stops working when the incident resolves.
Opening it (GET) only shows what it would do; a POST acts, through
``paging.response.actions.act``, as the person the page went to (``via``: "email link",
"webhook link").
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus
from escalation.rules import Action
from paging.outbox import outgoing
from paging.outbox.channel import Outgoing
from paging.outbox.models import Notification
from paging.response import actions
from paging.server_secret import derive, server_secret, signing_secret
from people.models import User
from store.audit import Actor
from store.base import utcnow
from store.settings import Settings

PURPOSE = "email-link"
LETTERS: dict[Action, str] = {Action.acknowledge: "a", Action.resolve: "r"}
ACTIONS = {letter: action for action, letter in LETTERS.items()}
SIGNATURE_CHARS = 22  # 132 bits of HMAC-SHA256
_TOKEN = re.compile(rf"([0-9a-f]{{32}})\.([ar])\.([A-Za-z0-9_-]{{{SIGNATURE_CHARS}}})")


class LinkError(Exception):
    """A link that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Link:
    notification: Notification
    incident: Incident
    user: User
    action: Action


def _signature(secret: bytes, body: str) -> str:
    digest = hmac.new(derive(secret, PURPOSE), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_CHARS]


def sign(secret: bytes, notification_id: str, action: Action) -> str:
    body = f"{notification_id}.{LETTERS[action]}"
    return f"{body}.{_signature(secret, body)}"


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/links/{token}"


def check(secret: bytes | None, token: str) -> tuple[str, Action]:
    """The (notification id, action) a token names; LinkError when malformed or forged."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise LinkError(404, "This link is not valid.")
    notification_id, letter, signature = match.groups()
    expected = _signature(secret, f"{notification_id}.{letter}") if secret else ""
    if not secret or not hmac.compare_digest(signature, expected):
        raise LinkError(403, "This link's signature is not valid.")
    return notification_id, ACTIONS[letter]


def open_link(session: Session, settings: Settings, token: str, now: datetime) -> Link:
    """What a link would do. Reads only: safe for GET (mail scanners prefetch links)."""
    notification_id, action = check(server_secret(session, settings, now, create=False), token)
    notification = session.get(Notification, notification_id)
    incident = (
        session.get(Incident, notification.incident_id)
        if notification and notification.incident_id
        else None
    )
    user = session.get(User, notification.user_id) if notification else None
    if notification is None or incident is None or user is None:
        raise LinkError(404, "This link no longer leads anywhere.")
    if incident.status is IncidentStatus.resolved:
        raise LinkError(410, f"Incident #{incident.number} is resolved; this link has expired.")
    return Link(notification, incident, user, action)


def follow(
    session: Session, settings: Settings, token: str, now: datetime
) -> tuple[Link, actions.ActResult]:
    """Act as the person the mail was sent to (POST of the confirmation form)."""
    link = open_link(session, settings, token, now)
    actor = Actor(user_id=link.user.id, is_admin=False, label=f"user:{link.user.email}")
    via = f"{link.notification.channel} link"
    return link, actions.act(session, link.incident.id, link.action, actor, via=via, now=now)


def decorator(settings: Settings, channel: str) -> outgoing.Decorator:
    """Adds signed acknowledge / resolve links to the pages of ``channel`` (e-mail, webhooks):
    each names its own outbox row, so it acts as the person the page went to."""

    def decorate(
        session: Session,
        carrier: Notification,
        pages: Sequence[Notification],
        message: Outgoing,
    ) -> Outgoing:
        if message.channel != channel or not message.incidents:
            return message
        secret = signing_secret(session, settings, utcnow())
        views = tuple(
            dataclasses.replace(
                view,
                ack_url=link_url(settings, sign(secret, page.id, Action.acknowledge)),
                resolve_url=link_url(settings, sign(secret, page.id, Action.resolve)),
            )
            for view, page in zip(message.incidents, pages, strict=True)
        )
        return dataclasses.replace(message, incidents=views)

    return decorate
