"""PagerDuty Change Events (``POST /v2/change/enqueue``): deploys and config changes, in context.

A change event names a service by its integration key (``routing_key``) and is kept with it;
it never opens an incident and never pages. An incident's answer lists the service's recent
changes (:func:`recent`): what changed shortly before it opened is the first thing a responder
asks. Parsing is pure (:func:`parse`: bytes in, a :class:`Change` or
:class:`~paging.intake.pagerduty.InvalidEvent` naming everything wrong); :func:`record` stores one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from escalation.models import Incident
from escalation.service import service_by_key
from paging.intake.models import ChangeEvent
from paging.intake.pagerduty import MAX_DEDUP_KEY, MAX_SUMMARY, InvalidEvent, load_object

#: How far back an incident's "recent changes" reach, and how many it lists.
RECENT = timedelta(hours=24)
RECENT_LIMIT = 10
#: Changes that arrived longer ago than this are dropped when their service gets a new one.
KEEP = timedelta(days=90)
MAX_SOURCE = 255


@dataclass(frozen=True)
class Change:
    routing_key: str
    summary: str
    source: str | None
    timestamp: datetime | None
    custom_details: Any
    links: list[dict[str, Any]] | None
    images: list[dict[str, Any]] | None


def _text(data: dict[str, Any], key: str, name: str, limit: int, errors: list[str]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append(f"'{name}' must be a non-empty string")
        return None
    if "\x00" in value:
        errors.append(f"'{name}' must not contain NUL characters")
        return None
    if len(value) > limit:
        errors.append(f"'{name}' is longer than {limit} characters")
        return None
    return value


def _timestamp(value: Any, errors: list[str]) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    errors.append("'payload.timestamp' is not an ISO 8601 timestamp")
    return None


def _objects(data: dict[str, Any], key: str, needed: str, errors: list[str]) -> Any:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and isinstance(item.get(needed), str) for item in value
    ):
        errors.append(f"'{key}' must be a list of objects, each with a string '{needed}'")
        return None
    return value


def parse(body: bytes) -> Change:
    """A change event (``InvalidEvent`` lists everything wrong with it)."""
    data = load_object(body)
    errors: list[str] = []
    routing_key = _text(data, "routing_key", "routing_key", MAX_DEDUP_KEY, errors)
    if "routing_key" not in data:
        errors.append("'routing_key' is missing")
    payload = data.get("payload")
    summary = source = timestamp = custom = None
    if not isinstance(payload, dict):
        errors.append("'payload' is missing or not an object")
    else:
        summary = _text(payload, "summary", "payload.summary", MAX_SUMMARY, errors)
        if "summary" not in payload:
            errors.append("'payload.summary' is missing")
        source = _text(payload, "source", "payload.source", MAX_SOURCE, errors)
        timestamp = _timestamp(payload.get("timestamp"), errors)
        custom = payload.get("custom_details")
    links = _objects(data, "links", "href", errors)
    images = _objects(data, "images", "src", errors)
    if errors:
        raise InvalidEvent(errors)
    assert routing_key is not None and summary is not None
    return Change(routing_key, summary, source, timestamp, custom, links, images)


def record(session: Session, change: Change, now: datetime) -> ChangeEvent:
    """Keep ``change`` with the service its key names (its changes that arrived more than
    :data:`KEEP` ago are dropped)."""
    service = service_by_key(session, change.routing_key)
    if service is None:
        raise InvalidEvent(["'routing_key' is not the integration key of any service"])
    row = ChangeEvent(
        service_id=service.id,
        summary=change.summary,
        source=change.source,
        happened_at=change.timestamp or now,
        received_at=now,
        custom_details=change.custom_details,
        links=change.links,
        images=change.images,
    )
    session.add(row)
    session.execute(
        delete(ChangeEvent).where(
            ChangeEvent.service_id == service.id, ChangeEvent.received_at < now - KEEP
        )
    )
    return row


def recent(session: Session, incident: Incident) -> list[ChangeEvent]:
    """The incident's service's changes in the :data:`RECENT` hours before it opened, newest
    first (at most :data:`RECENT_LIMIT`)."""
    return list(
        session.scalars(
            select(ChangeEvent)
            .where(
                ChangeEvent.service_id == incident.service_id,
                ChangeEvent.happened_at <= incident.created_at,
                ChangeEvent.happened_at >= incident.created_at - RECENT,
            )
            .order_by(ChangeEvent.happened_at.desc(), ChangeEvent.id)
            .limit(RECENT_LIMIT)
        )
    )


def for_service(session: Session, service_id: str, limit: int) -> list[ChangeEvent]:
    """A service's changes, newest first."""
    return list(
        session.scalars(
            select(ChangeEvent)
            .where(ChangeEvent.service_id == service_id)
            .order_by(ChangeEvent.happened_at.desc(), ChangeEvent.id)
            .limit(limit)
        )
    )
