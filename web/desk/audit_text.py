"""Audit entries in words: "user:ada@example.com changed schedule Primary", and what changed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from store.audit import AuditEntry

ENTITIES = {
    "users": "user",
    "teams": "team",
    "team_memberships": "team membership",
    "api_tokens": "API token",
    "contact_methods": "contact method",
    "notification_rules": "notification rule",
    "schedules": "schedule",
    "schedule_overrides": "override",
    "escalation_policies": "escalation policy",
    "services": "service",
    "maintenance_windows": "maintenance window",
    "heartbeats": "heartbeat",
    "service_support_hours": "support hours",
    "calendar_imports": "calendar import",
}
ACTIONS = {
    "create": "created",
    "update": "changed",
    "delete": "deleted",
    "truncate": "cut short",
    "end": "ended",
    "revoke": "revoked",
    "rotate_ical": "replaced the calendar URL of",
    "rotate_feed": "replaced the calendar URL of",
    "rotate_key": "replaced the integration key of",
    "rotate_token": "replaced the ping URL of",
    "set_password": "set the password of",
}
NOT_SHOWN = frozenset({"updated_at", "created_at", "id"})
LONGEST = 80


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Readable:
    entry: AuditEntry
    sentence: str
    changes: list[Change]
    before: str
    after: str


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


#: Snapshot fields naming another thing, whose name reads better than its id.
REFERENCES = ("user_id", "team_id", "service_id", "schedule_id")


def referenced(entries: list[AuditEntry]) -> set[str]:
    """The ids entries refer to (to look their names up at once)."""
    found: set[str] = set()
    for entry in entries:
        for data in (entry.after, entry.before):
            if isinstance(data, dict):
                found.update(str(data[k]) for k in REFERENCES if data.get(k))
    return found


def _label(entry: AuditEntry, names: dict[str, str]) -> str:
    data = entry.after if isinstance(entry.after, dict) else entry.before
    if not isinstance(data, dict):
        return entry.entity_id

    def name(key: str) -> str:
        value = data.get(key)
        return names.get(str(value), str(value)) if value else "?"

    kind = entry.entity_type
    if kind == "team_memberships":
        return f"{name('user_id')} in {name('team_id')} ({data.get('role', '?')})"
    if kind == "schedule_overrides":
        return f"for {name('user_id')} in {name('schedule_id')}"
    if kind in ("maintenance_windows", "service_support_hours"):
        return f"of {name('service_id')}"
    if kind == "heartbeats":
        return f"{data.get('name', '?')} of {name('service_id')}"
    if kind == "notification_rules":
        return f"of {name('user_id')}"
    for key in ("name", "email", "address", "title"):
        if data.get(key):
            return str(data[key])
    return entry.entity_id


def readable(entry: AuditEntry, names: dict[str, str] | None = None) -> Readable:
    kind = ENTITIES.get(entry.entity_type, entry.entity_type.replace("_", " "))
    action = ACTIONS.get(entry.action, entry.action.replace("_", " "))
    sentence = f"{entry.actor} {action} {kind} {_label(entry, names or {})}"
    before, after = entry.before or {}, entry.after or {}
    changes = []
    if before and after:
        for key in sorted(set(before) | set(after)):
            if key in NOT_SHOWN or before.get(key) == after.get(key):
                continue
            changes.append(Change(key, _short(before.get(key)), _short(after.get(key))))
    dump = {"indent": 1, "sort_keys": True, "default": str}
    return Readable(
        entry,
        sentence,
        changes,
        json.dumps(entry.before, **dump) if entry.before else "",  # type: ignore[arg-type]
        json.dumps(entry.after, **dump) if entry.after else "",  # type: ignore[arg-type]
    )
