"""Nobody to page is loud: who could not be reached and why, the next tier at once, and a pass
that reached nobody logged ``unrouted``, counted at ``/metrics`` and listed by the API."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from people.models import ContactMethod, Urgency, User
from people.models import ContactType as CT
from store.base import utcnow
from tests.conftest import admin_headers
from tests.paging.conftest import Paging
from tests.waiting import stays, wait_until

UNROUTED = "watchbill_incidents_unrouted_total"


def _unrouted_metric(paging: Paging) -> float:
    for family in text_string_to_metric_families(paging.client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == UNROUTED:
                return float(sample.value)
    raise AssertionError(f"{UNROUTED} is not exposed")


def _policy(paging: Paging, tiers: list[tuple[int, list[dict[str, str]]]], repeat: int = 0) -> str:
    body = {
        "name": "Policy",
        "repeat": repeat,
        "tiers": [{"delay_seconds": d, "targets": targets} for d, targets in tiers],
    }
    return str(paging.post("/escalation-policies", body)["id"])


def _log(paging: Paging, incident: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = paging.incident(incident)["log"]
    return entries


def _listed(paging: Paging, **query: str) -> set[str]:
    response = paging.client.get("/api/v1/incidents", params=query, headers=admin_headers())
    assert response.status_code == 200
    return {item["id"] for item in response.json()["items"]}


def test_a_policy_that_reaches_nobody_is_unrouted_logged_counted_and_listed(
    paging: Paging,
) -> None:
    nils = paging.factory.user(name="Nils")  # no contact method at all
    empty = paging.post("/schedules", {"name": "Nights", "time_zone": "UTC", "layers": []})
    policy = _policy(
        paging,
        [
            (600, [{"type": "schedule", "id": empty["id"]}]),
            (1, [{"type": "user", "id": nils.id}]),
        ],
    )
    before = _unrouted_metric(paging)
    started = time.monotonic()
    incident = paging.trigger(paging.service(policy))
    # Both tiers were tried at once (tier 1's ten minutes are not waited out).
    found = paging.incident(incident)
    assert found["escalation_tier"] == 2 and found["unrouted"] is True
    assert time.monotonic() - started < 2
    messages = [(e["kind"], e["message"]) for e in _log(paging, incident)]
    assert ("nobody_on_call", "Nobody is on call in schedule 'Nights'") in messages
    assert (
        "no_notification_rules",
        "Nils has no notification rules with an enabled contact method",
    ) in messages
    nobody = [m for k, m in messages if k == "nobody_to_notify"]
    assert nobody == [
        "Nobody to notify in tier 1: Nobody is on call in schedule 'Nights'",
        "Nobody to notify in tier 2: Nils has no notification rules with an enabled contact method",
    ]
    [unrouted] = [e for e in _log(paging, incident) if e["kind"] == "unrouted"]
    assert "Nobody was paged" in unrouted["message"]
    assert _unrouted_metric(paging) == before + 1

    routed_person = paging.responder((CT.sms, "+12015550101", 0))
    routed = paging.trigger(paging.service(paging.policy([(600, [routed_person.id])])))
    assert incident in _listed(paging, unrouted="true")
    assert routed not in _listed(paging, unrouted="true")
    assert routed in _listed(paging, unrouted="false")
    assert incident not in _listed(paging, unrouted="false")

    # After the last tier's delay the policy is over: never called "exhausted", as nobody
    # was notified.
    wait_until(lambda: paging.incident(incident)["next_escalation_at"] is None, timeout=4)
    kinds = [e["kind"] for e in _log(paging, incident)]
    assert "escalation_ended" in kinds and "escalation_exhausted" not in kinds
    assert not any("exhausted" in e["message"] for e in _log(paging, incident))
    assert paging.sent(incident) == []
    assert _unrouted_metric(paging) == before + 1  # an incident counts once


def test_everyone_unreachable_is_named_with_why(paging: Paging) -> None:
    gone = paging.responder((CT.sms, "+12015550102", 0))
    stopped = paging.responder((CT.sms, "+12015550103", 0))
    low_only = paging.factory.user(name="Lou")
    paging.factory.rule(
        low_only, paging.factory.contact(low_only, CT.email, "lou@example.com"), urgency=Urgency.low
    )
    users = [gone.id, stopped.id, low_only.id]
    service = paging.service(paging.policy([(600, users)]))
    with paging.database.transaction() as session:
        # Deactivated behind the API's back (DELETE refuses while a policy targets them).
        session.execute(update(User).where(User.id == gone.id).values(deactivated_at=utcnow()))
        session.execute(
            update(ContactMethod)
            .where(ContactMethod.user_id == stopped.id)
            .values(sms_opted_out=True)
        )
        names = {
            i: n for i, n in session.execute(select(User.id, User.name).where(User.id.in_(users)))
        }
    incident = paging.trigger(service, severity="critical")
    messages = {e["message"] for e in _log(paging, incident)}
    assert f"{names[gone.id]} is deactivated and cannot be paged" in messages
    assert (
        f"{names[stopped.id]} can only be reached by SMS at +12015550103, which replied STOP"
        in messages
    )
    assert "Lou has no notification rules for high-urgency incidents" in messages
    assert "unrouted" in paging.log_kinds(incident)


def test_a_pass_that_reached_someone_is_not_unrouted_and_exhausted_says_who_was_paged(
    paging: Paging,
) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    nils = paging.factory.user(name="Nils")
    incident = paging.trigger(paging.service(paging.policy([(1, [ada.id]), (1, [nils.id])])))
    wait_until(lambda: "escalation_exhausted" in paging.log_kinds(incident), timeout=5)
    kinds = paging.log_kinds(incident)
    assert "unrouted" not in kinds and "nobody_to_notify" in kinds
    [exhausted] = [e for e in _log(paging, incident) if e["kind"] == "escalation_exhausted"]
    assert "1 person was paged" in exhausted["message"]
    assert paging.incident(incident)["unrouted"] is False


def test_a_repeated_pass_that_reaches_nobody_waits_the_delay_and_logs_each_pass(
    paging: Paging,
) -> None:
    nils = paging.factory.user(name="Nils")
    policy = _policy(paging, [(1, [{"type": "user", "id": nils.id}])], repeat=1)
    incident = paging.trigger(paging.service(policy))
    assert paging.log_kinds(incident).count("unrouted") == 1
    # The second pass comes after the tier's delay, not at once.
    assert stays(lambda: paging.log_kinds(incident).count("unrouted") == 1, 0.7)
    wait_until(lambda: paging.log_kinds(incident).count("unrouted") == 2, timeout=3)
    wait_until(lambda: "escalation_ended" in paging.log_kinds(incident), timeout=3)
