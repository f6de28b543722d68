"""PagerDuty-compatible events in: Events API v2 (``/v2/enqueue``) and v1 (``create_event.json``).

Parsing is pure (:func:`parse_v2`, :func:`parse_v1`: bytes in, an :class:`Event` or
:class:`InvalidEvent` with every problem found out); :func:`handle` then applies an event to
the database (a trigger through ``paging.intake.trigger``'s ingest: a repeat counted, or an
incident opened). Dedup follows PagerDuty: a trigger with the key of an open incident attaches to
it (counted and logged, nobody paged again); ``acknowledge`` and ``resolve`` act on the open
incident with the key and never create one (dropped when there is none); after a resolve the
same key opens a new incident.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus, Service, Severity
from escalation.service import service_by_key
from paging.intake import repeats
from paging.intake.trigger import Trigger, open_by_key
from paging.response import actions

MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_SOURCE_COLUMN = 255
MAX_DEPTH = 64
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = tuple(s.value for s in Severity)


class InvalidEvent(Exception):
    """An event PagerDuty would refuse: 400 ``invalid event`` with these ``errors``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Event:
    api: str  # "Events API v2" | "Events API v1"
    key_field: str  # the body field naming the service: routing_key | service_key
    routing_key: str
    action: str  # trigger | acknowledge | resolve
    dedup_key: str | None
    summary: str = ""
    source: str | None = None
    severity: Severity = Severity.error
    details: dict[str, Any] | None = None
    client: str | None = None


# --- strict JSON ---------------------------------------------------------------------------


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text!r} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _text_problems(value: Any) -> list[str]:
    """Strings that cannot be stored (lone surrogates) and nesting too deep, anywhere."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [f"the body is nested more than {MAX_DEPTH} levels deep"]
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return ["the body contains invalid Unicode (a lone surrogate)"]
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return []


def load_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or :class:`InvalidEvent` (never any other exception)."""
    try:
        value = json.loads(body, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidEvent(["the body is not valid JSON"]) from None
    if not isinstance(value, dict):
        raise InvalidEvent(["the body must be a JSON object"])
    problems = _text_problems(value)
    if problems:
        raise InvalidEvent(problems)
    return value


# --- field checks --------------------------------------------------------------------------


class _Fields:
    """Collects every problem with an object's fields, PagerDuty style."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix
        self.errors: list[str] = []

    def name(self, key: str) -> str:
        return f"'{self.prefix}{key}'"

    def text(self, key: str, *, required: bool = False, limit: int | None = None) -> str | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.errors.append(f"{self.name(key)} is missing or blank")
            return None
        if not isinstance(value, str):
            self.errors.append(f"{self.name(key)} must be a string")
            return None
        if "\x00" in value:
            self.errors.append(f"{self.name(key)} must not contain NUL characters")
            return None
        if limit is not None and len(value) > limit:
            self.errors.append(f"{self.name(key)} is longer than {limit} characters")
            return None
        return value

    def choice(self, key: str, allowed: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if value not in allowed:
            self.errors.append(f"{self.name(key)} must be one of {', '.join(allowed)}")
            return None
        return str(value)

    def timestamp(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                pass
            else:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                return parsed.isoformat()
        self.errors.append(f"{self.name(key)} is not an ISO 8601 timestamp")
        return None

    def objects(self, key: str, required_key: str) -> list[dict[str, Any]] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(item, dict) and isinstance(item.get(required_key), str) for item in value
        ):
            self.errors.append(
                f"{self.name(key)} must be a list of objects, each with a string '{required_key}'"
            )
            return None
        return value


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def parse_v2(body: bytes) -> Event:
    """An Events API v2 event (``InvalidEvent`` lists everything wrong with it)."""
    data = load_object(body)
    top = _Fields(data)
    routing_key = top.text("routing_key", required=True, limit=MAX_DEDUP_KEY)
    action = top.choice("event_action", ACTIONS)
    dedup_key = top.text("dedup_key", required=action in ("acknowledge", "resolve"), limit=255)
    links = top.objects("links", "href")
    images = top.objects("images", "src")
    client = top.text("client", limit=MAX_DEDUP_KEY)
    client_url = top.text("client_url")
    errors = top.errors
    summary, source, severity, details = "", None, Severity.error, None
    if action == "trigger":
        payload = data.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
        else:
            fields = _Fields(payload, "payload.")
            summary = fields.text("summary", required=True, limit=MAX_SUMMARY) or ""
            source = fields.text("source", required=True)
            severity_name = fields.choice("severity", SEVERITIES)
            severity = Severity(severity_name) if severity_name else Severity.error
            details = _compact(
                {
                    "source": source,
                    "timestamp": fields.timestamp("timestamp"),
                    "component": fields.text("component"),
                    "group": fields.text("group"),
                    "class": fields.text("class"),
                    "custom_details": payload.get("custom_details"),
                    "links": links,
                    "images": images,
                    "client": client,
                    "client_url": client_url,
                }
            )
            errors += fields.errors
    if errors:
        raise InvalidEvent(errors)
    assert routing_key is not None and action is not None
    return Event(
        api="Events API v2",
        key_field="routing_key",
        routing_key=routing_key,
        action=action,
        dedup_key=dedup_key,
        summary=summary,
        source=source,
        severity=severity,
        details=details,
        client=client,
    )


def parse_v1(body: bytes) -> Event:
    """An Events API v1 event (``service_key``, ``event_type``, ``incident_key``, ...)."""
    data = load_object(body)
    top = _Fields(data)
    service_key = top.text("service_key", required=True, limit=MAX_DEDUP_KEY)
    action = top.choice("event_type", ACTIONS)
    incident_key = top.text(
        "incident_key", required=action in ("acknowledge", "resolve"), limit=MAX_DEDUP_KEY
    )
    description = top.text("description", required=action == "trigger", limit=MAX_SUMMARY)
    client = top.text("client", limit=MAX_DEDUP_KEY)
    client_url = top.text("client_url")
    contexts = data.get("contexts")
    if contexts is not None and not isinstance(contexts, list):
        top.errors.append("'contexts' must be a list")
    if top.errors:
        raise InvalidEvent(top.errors)
    assert service_key is not None and action is not None
    details = _compact(
        {
            "details": data.get("details"),
            "contexts": contexts,
            "client": client,
            "client_url": client_url,
        }
    )
    return Event(
        api="Events API v1",
        key_field="service_key",
        routing_key=service_key,
        action=action,
        dedup_key=incident_key,
        summary=description or "",
        source=client,
        severity=Severity.error,
        details=details or None,
        client=client,
    )


# --- applying an event ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventResult:
    """What applying one event did (not a delivery outcome: that is a channel's ``EventResult``)."""

    dedup_key: str
    #: None for an acknowledge/resolve with nothing open (dropped), and for a counted repeat.
    incident: Incident | None
    created: bool
    changed: bool


def _unknown_key(event: Event) -> InvalidEvent:
    return InvalidEvent([f"'{event.key_field}' is not the integration key of any service"])


def service_for(session: Session, event: Event) -> Service:
    service = service_by_key(session, event.routing_key)
    if service is None:
        raise _unknown_key(event)
    return service


def open_for_update(session: Session, service: Service, dedup_key: str) -> Incident | None:
    """The open incident with ``dedup_key``, locked; None when there is none."""
    found = incident_rows.open_incident(session, service.id, dedup_key)
    if found is None:
        return None
    incident = incident_rows.get_incident(session, found.id, lock=True)
    return None if incident.status is IncidentStatus.resolved else incident


def act_by_key(
    session: Session,
    service: Service,
    dedup_key: str,
    action: str,
    *,
    by: str,
    via: str,
    now: datetime,
) -> EventResult:
    """Acknowledge or resolve the open incident with ``dedup_key`` (nothing open: dropped)."""
    incident = open_for_update(session, service, dedup_key)
    if incident is None:
        return EventResult(dedup_key, None, created=False, changed=False)
    if action == "acknowledge":
        changed = actions.acknowledge(session, incident, by, via, now)
    else:
        actions.resolve(session, incident, by, via, now)
        changed = True
    return EventResult(dedup_key, incident, created=False, changed=changed)


def repeating(event: Event) -> repeats.Repeating | None:
    """What a trigger with a dedup key may repeat (most events: an open alert); None when the
    event cannot be a repeat (not a trigger, or no dedup key)."""
    if event.action != "trigger" or event.dedup_key is None:
        return None
    return repeats.Repeating(event.dedup_key, event.api, routing_key=event.routing_key)


def counted(event: Event) -> EventResult:
    """The outcome of a trigger counted as a repeat (``repeats.count`` with
    :func:`repeating`)."""
    assert event.dedup_key is not None
    return EventResult(event.dedup_key, None, created=False, changed=True)


def handle(session: Session, event: Event, now: datetime) -> EventResult:
    """Apply an event to the service its key names: acknowledge or resolve by key, count a
    repeat, or open an incident."""
    if event.action != "trigger":
        assert event.dedup_key is not None
        service = service_for(session, event)
        by = event.client or "monitoring tool"
        return act_by_key(
            session, service, event.dedup_key, event.action, by=by, via=event.api, now=now
        )
    repeat = repeating(event)
    if repeat is not None:
        session.flush()  # the repeat goes past the ORM: it must have written everything
        if repeats.count(session.connection(), repeat, now) is not None:
            return counted(event)
    return open_incident(session, event, now)


def open_incident(session: Session, event: Event, now: datetime) -> EventResult:
    """Open an incident for a trigger that repeats nothing open: :func:`handle`'s last step,
    for the events API, which counts repeats first on a connection of its own (a repeat that
    opened meanwhile is still counted, under the service's lock)."""
    source = event.source[:MAX_SOURCE_COLUMN] if event.source else None
    trigger = Trigger(
        title=event.summary,
        severity=event.severity,
        details=event.details,
        dedup_key=event.dedup_key,
        source=source,
        via=event.api,
    )
    result = open_by_key(session, event.routing_key, trigger, now)
    if result is None:
        raise _unknown_key(event)
    incident = result.incident
    return EventResult(incident.dedup_key, incident, created=result.created, changed=True)
