"""Round trips on the hot paths of events in: a new incident, and a repeat of an open one.

Events ingestion has to keep up with alert storms, so what an event costs in SQL statements is
pinned here (BEGIN/COMMIT aside), on each database, along with what those statements write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection

from escalation import service as escalation
from escalation.models import Incident, IncidentLog, IncidentStatus, Service, TargetType
from paging.intake import pagerduty
from paging.intake.trigger import Trigger, ingest, open_by_key
from paging.outbox.models import Notification
from people.models import ContactMethod, ContactType, Urgency
from store.audit import Actor
from store.base import utcnow
from store.db import Database
from tests.factories import Factory, Person

SYSTEM = Actor.system("tests")
#: Was 17 (PostgreSQL): two service reads, a separate lock, insert-then-update of the incident,
#: a query per person, rule and contact method, a log insert each; then 9, with the engine's
#: NOTIFY a statement of its own (now a column of the check made under the service lock).
#: SQLite writes the log entries one statement each (it has no NOTIFY).
NEW_INCIDENT_MAX = {"postgresql": 8, "sqlite": 9}


@dataclass(frozen=True)
class Svc:
    id: str
    key: str
    responder: Person


@pytest.fixture
def svc(factory: Factory, database: Database) -> Svc:
    """A service whose one-tier policy pages a responder by SMS."""
    person = factory.user(name="Ana")
    cm = factory.contact(person, ContactType.sms, "+12015550101")
    factory.rule(person, cm, 0, Urgency.high)
    service_id, key = _service(database, [person.id])
    return Svc(service_id, key, person)


def _service(database: Database, user_ids: list[str]) -> tuple[str, str]:
    with database.transaction() as session:
        policy = escalation.create_policy(
            session,
            SYSTEM,
            name="Primary",
            team_id=None,
            repeat=0,
            tiers=[escalation.TierInput(600, [(TargetType.user, u) for u in user_ids])],
        )
        service = escalation.create_service(
            session,
            SYSTEM,
            name="Checkout",
            escalation_policy_id=policy.id,
            team_id=None,
            acknowledgement_timeout_seconds=None,
            auto_resolve_timeout_seconds=None,
        )
        session.flush()
        return service.id, service.integration_key


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (transaction control left out)."""
    sent: list[str] = []

    def record(
        _conn: Connection, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def _event(
    key: str, dedup_key: str | None = "disk-full", severity: str = "critical"
) -> pagerduty.Event:
    body: dict[str, Any] = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": "Disk full", "source": "host1", "severity": severity},
    }
    if dedup_key is not None:
        body["dedup_key"] = dedup_key
    return pagerduty.parse_v2(json.dumps(body).encode())


def _handle(database: Database, parsed: pagerduty.Event) -> pagerduty.EventResult:
    with database.transaction() as session:
        return pagerduty.handle(session, parsed, utcnow())


def _postgresql(database: Database) -> bool:
    return database.engine.dialect.name == "postgresql"


def _log(database: Database, incident_id: str) -> list[IncidentLog]:
    with database.transaction() as session:
        stmt = select(IncidentLog).where(IncidentLog.incident_id == incident_id)
        return list(session.scalars(stmt.order_by(IncidentLog.at, IncidentLog.id)))


def _incidents(database: Database, service_id: str) -> list[Incident]:
    with database.transaction() as session:
        stmt = select(Incident).where(Incident.service_id == service_id)
        return list(session.scalars(stmt.order_by(Incident.number)))


def test_a_new_incident_from_an_event_is_written_in_a_few_statements(
    database: Database, svc: Svc
) -> None:
    with statements(database) as sent:
        outcome = _handle(database, _event(svc.key))
    assert outcome.created and outcome.incident is not None
    assert len(sent) <= NEW_INCIDENT_MAX[database.engine.dialect.name], "\n".join(sent)
    [incident] = _incidents(database, svc.id)
    assert (incident.number, incident.trigger_count, incident.epoch) == (1, 1, 0)
    assert incident.next_escalation_at == incident.created_at + timedelta(seconds=600)
    assert [e.kind for e in _log(database, incident.id)] == ["triggered", "notify_tier"]
    with database.transaction() as session:
        pages = session.scalars(select(Notification).where(Notification.incident_id == incident.id))
        assert [(p.user_id, p.channel, p.epoch) for p in pages] == [(svc.responder.id, "sms", 0)]
        service = session.get(Service, svc.id)
        assert service is not None and service.last_incident_number == 1


def test_a_repeated_event_is_one_statement_on_postgresql_and_two_on_sqlite(
    database: Database, svc: Svc
) -> None:
    _handle(database, _event(svc.key))
    with statements(database) as sent:
        outcome = _handle(database, _event(svc.key))
    assert not outcome.created and outcome.changed
    assert len(sent) <= (1 if _postgresql(database) else 2), "\n".join(sent)


def test_a_repeated_event_counts_and_logs_as_it_always_has(database: Database, svc: Svc) -> None:
    _handle(database, _event(svc.key))
    for _ in range(2):
        _handle(database, _event(svc.key))
    [incident] = _incidents(database, svc.id)
    assert incident.trigger_count == 3
    repeats = [e for e in _log(database, incident.id) if e.kind == "deduplicated"]
    assert [(e.message, e.data) for e in repeats] == [
        ("Triggered again via Events API v2 (#2); not paged again", {"count": 2}),
        ("Triggered again via Events API v2 (#3); not paged again", {"count": 3}),
    ]
    assert repeats[-1].at == incident.updated_at


def test_an_unknown_routing_key_is_refused_whether_or_not_the_event_has_a_dedup_key(
    database: Database, svc: Svc
) -> None:
    for dedup_key in ("disk-full", None):
        with pytest.raises(pagerduty.InvalidEvent) as refused:
            _handle(database, _event("not-a-key", dedup_key))
        assert refused.value.errors == ["'routing_key' is not the integration key of any service"]
    assert _incidents(database, svc.id) == []


def test_events_without_a_dedup_key_open_numbered_incidents(database: Database, svc: Svc) -> None:
    first = _handle(database, _event(svc.key, None))
    second = _handle(database, _event(svc.key, None))
    assert first.created and second.created and first.dedup_key != second.dedup_key
    assert [i.number for i in _incidents(database, svc.id)] == [1, 2]


def test_a_trigger_for_a_loaded_service_opens_an_incident_in_a_few_statements(
    database: Database, svc: Svc
) -> None:
    now = utcnow()
    with database.transaction() as session:
        service = session.get(Service, svc.id)
        assert service is not None
        with statements(database) as sent:
            result = ingest(session, service, Trigger(title="Checkout down", dedup_key="co"), now)
        assert len(sent) <= NEW_INCIDENT_MAX[database.engine.dialect.name], "\n".join(sent)
        assert result.created and service.last_incident_number == 1
        # Everything is written before trigger returns (the API answers from it).
        assert result.incident.trigger_count == 1 and result.incident.created_at == now
        assert session.scalar(select(Incident.id).where(Incident.number == 1)) is not None
    with database.transaction() as session:
        service = session.get(Service, svc.id)
        assert service is not None
        again = ingest(session, service, Trigger(title="again", dedup_key="co"), now)
        assert not again.created and again.incident.trigger_count == 2


def test_a_key_found_open_under_the_service_lock_is_attached_to_and_not_numbered(
    database: Database, svc: Svc
) -> None:
    """A trigger whose repeat check missed, while another opened the incident: it attaches."""
    _handle(database, _event(svc.key))
    with database.transaction() as session:
        result = open_by_key(
            session,
            svc.key,
            Trigger(title="Disk full", dedup_key="disk-full", via="Events API v2"),
            utcnow(),
        )
        assert result is not None and not result.created
    [incident] = _incidents(database, svc.id)
    assert incident.trigger_count == 2 and incident.status is IncidentStatus.triggered
    with database.transaction() as session:
        service = session.get(Service, svc.id)
        assert service is not None and service.last_incident_number == 1
    assert _log(database, incident.id)[-1].message == (
        "Triggered again via Events API v2 (#2); not paged again"
    )
    assert [i.number for i in _incidents(database, svc.id)] == [1]
    assert _handle(database, _event(svc.key, "other")).created
    assert [i.number for i in _incidents(database, svc.id)] == [1, 2]


def test_a_tier_pages_each_person_once_by_the_rules_for_the_urgency(
    database: Database, factory: Factory
) -> None:
    """People, rules and contact methods of a tier come from one query, with the same rules."""
    high_only = factory.user(name="Hana")
    sms = factory.contact(high_only, ContactType.sms, "+12015550111")
    factory.rule(high_only, sms, 300, Urgency.high)
    voice = factory.contact(high_only, ContactType.voice, "+12015550112")
    factory.rule(high_only, voice, 0, Urgency.high)
    nothing = factory.user(name="Nils")  # no rules at all
    off = factory.user(name="Otto")  # rules only on a disabled method
    off_cm = factory.contact(off, ContactType.email, "otto@example.com")
    factory.rule(off, off_cm, 0, Urgency.low)
    stopped = factory.user(name="Sofia")  # SMS opted out; email still goes
    stopped_sms = factory.contact(stopped, ContactType.sms, "+12015550113")
    factory.rule(stopped, stopped_sms, 0, Urgency.low)
    email = factory.contact(stopped, ContactType.email, "sofia@example.com")
    factory.rule(stopped, email, 60, Urgency.low)
    factory.rule(stopped, email, 0, Urgency.high)
    with database.transaction() as session:
        off_method = session.get(ContactMethod, off_cm)
        opted_out = session.get(ContactMethod, stopped_sms)
        assert off_method is not None and opted_out is not None
        off_method.enabled = False
        opted_out.sms_opted_out = True
    targets = [high_only.id, nothing.id, high_only.id, off.id, stopped.id]
    _, key = _service(database, targets)

    outcome = _handle(database, _event(key))  # critical: high urgency
    low = _handle(database, _event(key, "slow", severity="info"))  # info: low urgency
    assert outcome.incident is not None and low.incident is not None
    with database.transaction() as session:

        def pages(incident: Incident) -> list[tuple[str, str, float]]:
            rows = session.scalars(
                select(Notification).where(Notification.incident_id == incident.id)
            )
            return sorted(
                (p.address, p.channel, (p.send_at - incident.created_at).total_seconds())
                for p in rows
            )

        assert pages(outcome.incident) == [
            ("+12015550111", "sms", 300),
            ("+12015550112", "voice", 0),
            ("sofia@example.com", "email", 0),
        ]
        # Low urgency: Hana has only high-urgency rules, so all of them; Sofia her low ones.
        assert pages(low.incident) == [
            ("+12015550111", "sms", 300),
            ("+12015550112", "voice", 0),
            ("sofia@example.com", "email", 60),
        ]
    for incident in (outcome.incident, low.incident):
        entries = _log(database, incident.id)
        no_rules = "has no notification rules with an enabled contact method"
        assert [(e.kind, e.message) for e in entries[1:]] == [
            ("no_notification_rules", f"Nils {no_rules}"),
            ("no_notification_rules", f"Otto {no_rules}"),
            ("notify_tier", "Notifying tier 1: Hana, Sofia"),
        ]
