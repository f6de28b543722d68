"""Who a policy would page right now is who the engine pages for an incident opened then;
when a level reaches nobody over the next days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from escalation import service as escalation
from escalation.models import TargetType
from paging.intake.trigger import Trigger, ingest
from paging.outbox.models import Notification
from paging.response import notify, reach
from people.models import ContactType
from schedules import service as schedules
from schedules.specs import LayerSpec, RestrictionSpec
from store.db import Database
from tests.factories import SYSTEM, Factory, Person

NOW = datetime(2025, 12, 10, 10, 30, tzinfo=UTC)  # Wednesday 11:30 in Berlin
MONDAY = datetime(2025, 12, 8, 8, 0, tzinfo=UTC)


def _reachable(factory: Factory, name: str, number: str) -> Person:
    person = factory.user(name=name)
    factory.rule(person, factory.contact(person, ContactType.sms, number))
    return person


def _schedule(database: Database, name: str, users: list[str], days: tuple[str, ...]) -> str:
    spec = LayerSpec(
        "Weekly", MONDAY, tuple(users), MONDAY, 1, "weeks",
        restrictions=(RestrictionSpec("09:00", "17:00", days),),
    )  # fmt: skip
    with database.transaction() as session:
        return schedules.create_schedule(
            session, SYSTEM, name=name, time_zone="Europe/Berlin", team_id=None, layers=[spec]
        ).id


def test_paged_now_is_what_the_engine_pages_tier_by_tier(
    database: Database, factory: Factory
) -> None:
    ada = _reachable(factory, "Ada", "+14155550101")
    bob = _reachable(factory, "Bob", "+14155550102")
    cy = factory.user(name="Cy")  # no notification rule: cannot be reached
    dee = _reachable(factory, "Dee", "+14155550103")
    weekdays = _schedule(database, "Weekdays", [bob.id, cy.id], ("mon", "tue", "wed"))
    weekends = _schedule(database, "Weekends", [dee.id], ("sat", "sun"))
    with database.transaction() as session:
        policy = escalation.create_policy(
            session, SYSTEM, name="P", team_id=None, repeat=0,
            tiers=[
                escalation.TierInput(
                    60, [(TargetType.schedule, weekdays), (TargetType.user, ada.id)]
                ),
                escalation.TierInput(
                    60, [(TargetType.schedule, weekends), (TargetType.user, cy.id)]
                ),
                escalation.TierInput(60, [(TargetType.user, dee.id)]),
            ],
        )  # fmt: skip
        service = escalation.create_service(
            session, SYSTEM, name="S", escalation_policy_id=policy.id, team_id=None,
            acknowledgement_timeout_seconds=None, auto_resolve_timeout_seconds=None,
        )  # fmt: skip
        session.flush()
        paged = reach.paged_now(session, escalation.policy_spec(policy), NOW)
        incident = ingest(session, service, Trigger(title="Down"), NOW).incident
        notify.advance(session, incident, NOW, forced=True)  # level 2, then on to level 3
        session.flush()
        sent = session.execute(
            select(Notification.tier, Notification.user_id).where(
                Notification.incident_id == incident.id
            )
        ).all()
    assert [[p.name for p in tier.people] for tier in paged] == [["Bob", "Ada"], [], ["Dee"]]
    assert paged[1].reaches_nobody
    assert paged[1].unreached == (
        "Nobody is on call in schedule 'Weekends'",
        "Cy has no notification rules with an enabled contact method",
    )
    engine = {(tier, user) for tier, user in sent}
    shown = {
        (tier.number - 1, person.user_id)
        for tier in paged[:1] + paged[2:]  # the engine moves past a level reaching nobody
        for person in tier.people
    }
    assert engine == shown


def test_levels_reaching_nobody_over_the_next_days(database: Database, factory: Factory) -> None:
    bob = _reachable(factory, "Bob", "+14155550104")
    weekdays = _schedule(database, "Weekdays", [bob.id], ("mon", "tue", "wed", "thu", "fri"))
    with database.transaction() as session:
        policy = escalation.create_policy(
            session, SYSTEM, name="P", team_id=None, repeat=0,
            tiers=[
                escalation.TierInput(60, [(TargetType.schedule, weekdays)]),
                escalation.TierInput(60, [(TargetType.user, bob.id)]),
            ],
        )  # fmt: skip
        session.flush()
        gaps = reach.tiers_reaching_nobody(
            session, escalation.policy_spec(policy), NOW, NOW + timedelta(days=1)
        )
    assert {g.tier for g in gaps} == {1}  # level 2 always reaches Bob
    assert gaps[0].start == datetime(2025, 12, 10, 16, 0, tzinfo=UTC)  # 17:00 Berlin
    assert gaps[0].end == datetime(2025, 12, 11, 8, 0, tzinfo=UTC)  # 09:00 the next day
