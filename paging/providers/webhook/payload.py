"""The JSON a webhook receives: the page (or test / verification message) and its callbacks.

::

    {"id": "<notification>", "kind": "page", "person": "Ada", "text": null,
     "incidents": [{"id": ..., "number": 42, "title": ..., "severity": "critical",
                    "urgency": "high", "status": "triggered", "service": "Checkout",
                    "url": ".../incidents/<id>", "details": {...},
                    "ack_url": ".../links/<signed>", "resolve_url": ".../links/<signed>"}]}

``ack_url`` / ``resolve_url`` act on the incident as the person paged when POSTed to (the
signed links of ``paging.links``, as in e-mail pages).
"""

from __future__ import annotations

import json
from typing import Any

from paging.outbox.channel import IncidentView, Outgoing


def _incident(view: IncidentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "number": view.number,
        "title": view.title,
        "severity": view.severity,
        "urgency": view.urgency,
        "status": view.status,
        "service": view.service,
        "url": view.url,
        "details": dict(view.details) if view.details is not None else None,
        "ack_url": view.ack_url,
        "resolve_url": view.resolve_url,
    }


def document(message: Outgoing) -> dict[str, Any]:
    return {
        "id": message.notification_id,
        "kind": message.kind,
        "person": message.person,
        "text": message.text,
        "incidents": [_incident(view) for view in message.incidents],
    }


def body(message: Outgoing) -> bytes:
    """The request body: compact JSON, UTF-8 (what the signature covers, byte for byte)."""
    return json.dumps(document(message), separators=(",", ":"), ensure_ascii=False).encode()


def render(message: Outgoing) -> str:
    """The body as the log channel shows it (indented)."""
    return json.dumps(document(message), indent=2, ensure_ascii=False)
