"""Prometheus Alertmanager's webhook (payload version 4): one incident per alert group.

The group's ``groupKey`` is the dedup key (hashed with SHA-256, hex, exactly as Alertmanager's
own PagerDuty integration does, so a group sent both ways lands on one incident of a service).
``firing`` opens the incident, or refreshes the open one's details (the group's current alerts)
and counts the repeat; ``resolved`` (sent once every alert of the group has resolved) resolves
it. The title is ``commonAnnotations.summary`` when the group shares one, else built from the
labels. Grafana's webhook has the same shape and works too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from escalation.models import Service, Severity
from paging.intake.pagerduty import (
    MAX_SUMMARY,
    EventResult,
    InvalidEvent,
    act_by_key,
    load_object,
)
from paging.intake.trigger import Trigger, ingest

VIA = "Alertmanager"
STATUSES = ("firing", "resolved")

#: Common ``severity`` label values and the severity they mean here.
SEVERITY_LABELS: dict[str, Severity] = {
    "critical": Severity.critical,
    "page": Severity.critical,
    "fatal": Severity.critical,
    "emergency": Severity.critical,
    "high": Severity.error,
    "error": Severity.error,
    "major": Severity.error,
    "warning": Severity.warning,
    "warn": Severity.warning,
    "medium": Severity.warning,
    "minor": Severity.warning,
    "info": Severity.info,
    "informational": Severity.info,
    "low": Severity.info,
    "none": Severity.info,
}
#: Alertmanager's PagerDuty integration uses ``error`` when nothing says otherwise.
DEFAULT_SEVERITY = Severity.error


@dataclass(frozen=True)
class AlertGroup:
    """One Alertmanager (or Grafana) webhook notification: a group of alerts, one incident."""

    group_key: str
    status: str
    receiver: str | None
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str | None
    alerts: list[dict[str, Any]]
    truncated_alerts: int
    title: str | None  # Grafana's top-level title, when present

    @property
    def dedup_key(self) -> str:
        return hashlib.sha256(self.group_key.encode()).hexdigest()


def _labels(data: dict[str, Any], key: str, errors: list[str], where: str = "") -> dict[str, str]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        errors.append(f"'{where}{key}' must be an object of strings")
        return {}
    return value


def _optional_text(data: dict[str, Any], key: str, errors: list[str], where: str = "") -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        errors.append(f"'{where}{key}' must be a string")
        return None
    return value


def _alert(raw: Any, i: int, errors: list[str]) -> dict[str, Any]:
    where = f"alerts.{i}."
    if not isinstance(raw, dict):
        errors.append(f"'alerts.{i}' must be an object")
        return {}
    alert: dict[str, Any] = {
        "status": raw.get("status"),
        "labels": _labels(raw, "labels", errors, where),
        "annotations": _labels(raw, "annotations", errors, where),
    }
    if alert["status"] not in STATUSES:
        errors.append(f"'{where}status' must be one of {', '.join(STATUSES)}")
    for key in ("startsAt", "endsAt", "generatorURL", "fingerprint"):
        value = _optional_text(raw, key, errors, where)
        if value is not None:
            alert[key] = value
    return alert


def parse(body: bytes) -> AlertGroup:
    """A webhook notification; :class:`InvalidEvent` lists everything wrong with it."""
    data = load_object(body)
    errors: list[str] = []
    group_key = data.get("groupKey")
    if not isinstance(group_key, str) or not group_key.strip():
        errors.append("'groupKey' is missing or blank")
    status = data.get("status")
    if status not in STATUSES:
        errors.append(f"'status' must be one of {', '.join(STATUSES)}")
    raw_alerts = data.get("alerts")
    alerts: list[dict[str, Any]] = []
    if not isinstance(raw_alerts, list):
        errors.append("'alerts' must be a list")
    else:
        alerts = [_alert(raw, i, errors) for i, raw in enumerate(raw_alerts)]
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        errors.append("'truncatedAlerts' must be a whole number, 0 or more")
        truncated = 0
    notification = AlertGroup(
        group_key=group_key if isinstance(group_key, str) else "",
        status=str(status),
        receiver=_optional_text(data, "receiver", errors),
        group_labels=_labels(data, "groupLabels", errors),
        common_labels=_labels(data, "commonLabels", errors),
        common_annotations=_labels(data, "commonAnnotations", errors),
        external_url=_optional_text(data, "externalURL", errors),
        alerts=alerts,
        truncated_alerts=truncated,
        title=_optional_text(data, "title", errors),
    )
    if errors:
        raise InvalidEvent(errors)
    return notification


def _clean(text: str) -> str:
    return " ".join(text.replace("\x00", " ").split())


def title_of(n: AlertGroup) -> str:
    """``commonAnnotations.summary``; else the alert name and the group's other labels."""
    summary = _clean(n.common_annotations.get("summary", ""))
    if summary:
        return summary[:MAX_SUMMARY]
    labels = {**n.group_labels}
    name = n.common_labels.get("alertname") or labels.pop("alertname", "")
    labels.pop("alertname", None)
    if not name and n.title:
        return _clean(n.title)[:MAX_SUMMARY] or "Alertmanager alert group"
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    title = name or "Alertmanager alert group"
    if shown:
        title += f" ({shown})"
    firing = sum(1 for a in n.alerts if a.get("status") == "firing")
    if firing > 1:
        title += f": {firing} alerts firing"
    return _clean(title)[:MAX_SUMMARY] or "Alertmanager alert group"


def severity_of(n: AlertGroup) -> Severity:
    label = n.common_labels.get("severity") or n.group_labels.get("severity") or ""
    return SEVERITY_LABELS.get(label.strip().lower(), DEFAULT_SEVERITY)


def details_of(n: AlertGroup) -> dict[str, Any]:
    details: dict[str, Any] = {
        "integration": "alertmanager",
        "status": n.status,
        "groupKey": n.group_key,
        "receiver": n.receiver,
        "groupLabels": n.group_labels,
        "commonLabels": n.common_labels,
        "commonAnnotations": n.common_annotations,
        "externalURL": n.external_url,
        "alerts": n.alerts,
        "truncatedAlerts": n.truncated_alerts,
    }
    return {k: v for k, v in details.items() if v is not None}


def handle(session: Session, service: Service, n: AlertGroup, now: datetime) -> EventResult:
    """Open, refresh or resolve the group's incident."""
    if n.status == "resolved":
        return act_by_key(
            session, service, n.dedup_key, "resolve", by="Alertmanager", via=VIA, now=now
        )
    details = details_of(n)
    source = _clean(n.external_url or n.receiver or "")[:255] or None
    result = ingest(
        session,
        service,
        Trigger(
            title=title_of(n),
            severity=severity_of(n),
            details=details,
            dedup_key=n.dedup_key,
            source=source,
            via=VIA,
        ),
        now,
    )
    if not result.created:
        result.incident.details = details  # the group as it is now
    return EventResult(n.dedup_key, result.incident, created=result.created, changed=True)
