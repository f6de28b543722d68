"""Escalation end to end: API → engine → log channel, with one-second delays."""

from __future__ import annotations

import time

from sqlalchemy import select

from paging.outbox.models import Notification
from people.models import ContactType as CT
from tests.conftest import admin_headers
from tests.paging.conftest import Paging
from tests.waiting import stays, wait_until


def test_first_page_goes_out_within_a_second_of_the_trigger(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    service = paging.service(paging.policy([(60, [ada.id])]))
    started = time.monotonic()
    incident = paging.trigger(service)
    wait_until(lambda: paging.sent_to(ada, incident), timeout=3)
    assert time.monotonic() - started < 1.0
    [page] = paging.sent_to(ada, incident)
    assert page.sent_at is not None
    assert (page.sent_at - page.send_at).total_seconds() < 1.0
    kinds = paging.log_kinds(incident)
    assert kinds[:2] == ["triggered", "notify_tier"]
    assert "page_logged" in kinds and "notified" in kinds


def test_tier_two_is_notified_after_tier_one_delay(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    bob = paging.responder((CT.email, "bob@example.com", 0))
    service = paging.service(paging.policy([(1, [ada.id]), (60, [bob.id])]))
    incident = paging.trigger(service)
    wait_until(lambda: paging.sent_to(ada, incident), timeout=3)
    [bob_page] = wait_until(lambda: paging.sent_to(bob, incident), timeout=4)
    [ada_page] = paging.sent_to(ada, incident)
    gap = (bob_page.send_at - ada_page.send_at).total_seconds()
    assert 0.9 <= gap <= 1.5, gap
    # Tier two is not reached early: its page left no sooner than the tier's delay (read from
    # the recorded times, not from when this test happened to look, which load can delay).
    assert bob_page.sent_at is not None and ada_page.sent_at is not None
    assert (bob_page.sent_at - ada_page.send_at).total_seconds() >= 0.9
    assert (bob_page.sent_at - bob_page.send_at).total_seconds() < 1.0
    assert "escalated" in paging.log_kinds(incident)
    assert paging.incident(incident)["escalation_tier"] == 2


def test_repeat_loops_then_stop(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    service = paging.service(paging.policy([(1, [ada.id])], repeat=2))
    incident = paging.trigger(service)
    wait_until(lambda: "escalation_exhausted" in paging.log_kinds(incident), timeout=6)
    pages = paging.sent_to(ada, incident)
    assert [p.loop for p in pages] == [0, 1, 2]
    assert paging.log_kinds(incident).count("repeated") == 2
    assert stays(lambda: len(paging.sent_to(ada, incident)) == 3, 1.5)


def test_acknowledge_cancels_pending_notifications_and_stops_escalation(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0), (CT.email, "ada@example.com", 2))
    bob = paging.responder((CT.sms, "+12015550102", 0))
    service = paging.service(paging.policy([(2, [ada.id]), (2, [bob.id])]))
    incident = paging.trigger(service)
    wait_until(lambda: paging.sent_to(ada, incident), timeout=3)
    acked = paging.client.post(f"/api/v1/incidents/{incident}/acknowledge", headers=admin_headers())
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    assert stays(lambda: len(paging.sent(incident)) == 1, 3.0)
    with paging.database.transaction() as session:
        statuses = sorted(
            n.status.value
            for n in session.scalars(
                select(Notification).where(Notification.incident_id == incident)
            )
        )
    assert statuses == ["cancelled", "sent"]
    assert "acknowledged" in paging.log_kinds(incident)


def test_escalate_jumps_to_the_next_tier_at_once(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    bob = paging.responder((CT.sms, "+12015550102", 0))
    service = paging.service(paging.policy([(600, [ada.id]), (600, [bob.id])]))
    incident = paging.trigger(service)
    wait_until(lambda: paging.sent_to(ada, incident), timeout=3)
    started = time.monotonic()
    response = paging.client.post(f"/api/v1/incidents/{incident}/escalate", headers=admin_headers())
    assert response.status_code == 200
    assert response.json()["escalation_tier"] == 2
    wait_until(lambda: paging.sent_to(bob, incident), timeout=3)
    assert time.monotonic() - started < 1.0
    last = paging.client.post(f"/api/v1/incidents/{incident}/escalate", headers=admin_headers())
    assert last.status_code == 409


def test_notification_rule_delays_apply_per_person(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0), (CT.voice, "+12015550101", 1))
    service = paging.service(paging.policy([(600, [ada.id])]))
    incident = paging.trigger(service)
    wait_until(lambda: len(paging.sent_to(ada, incident)) == 2, timeout=4)
    pages = paging.sent_to(ada, incident)
    sms, voice = sorted(pages, key=lambda n: n.send_at)
    assert (sms.channel, voice.channel) == ("sms", "voice")
    assert 0.9 <= (voice.send_at - sms.send_at).total_seconds() <= 1.1


def test_same_dedup_key_returns_the_open_incident(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    service = paging.service(paging.policy([(600, [ada.id])]))
    first = paging.post("/incidents", {"service_id": service, "title": "disk", "dedup_key": "k1"})
    again = paging.post(
        "/incidents", {"service_id": service, "title": "disk", "dedup_key": "k1"}, status=200
    )
    assert again["id"] == first["id"]
    assert again["trigger_count"] == 2
    wait_until(lambda: paging.sent_to(ada, first["id"]), timeout=3)
    assert stays(lambda: len(paging.sent_to(ada)) == 1, 1.0)
    paging.client.post(f"/api/v1/incidents/{first['id']}/resolve", headers=admin_headers())
    third = paging.post("/incidents", {"service_id": service, "title": "disk", "dedup_key": "k1"})
    assert third["id"] != first["id"]
    assert third["number"] == first["number"] + 1


def test_acknowledgement_timeout_triggers_again_and_pages(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    policy = paging.policy([(600, [ada.id])])
    service = paging.service(policy, acknowledgement_timeout_seconds=1)
    incident = paging.trigger(service)
    wait_until(lambda: paging.sent_to(ada, incident), timeout=3)
    paging.client.post(f"/api/v1/incidents/{incident}/acknowledge", headers=admin_headers())
    wait_until(lambda: len(paging.sent_to(ada, incident)) == 2, timeout=4)
    assert paging.incident(incident)["status"] == "triggered"
    assert "ack_timeout" in paging.log_kinds(incident)


def test_auto_resolve_timeout_resolves(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    service = paging.service(paging.policy([(600, [ada.id])]), auto_resolve_timeout_seconds=1)
    incident = paging.trigger(service)
    wait_until(lambda: paging.incident(incident)["status"] == "resolved", timeout=4)
    assert paging.incident(incident)["resolved_by"] == "Watchbill"


def test_policy_change_restarts_open_incidents_at_tier_one(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    bob = paging.responder((CT.sms, "+12015550102", 0))
    service = paging.service(paging.policy([(600, [ada.id])]))
    incident = paging.trigger(service)
    wait_until(lambda: paging.sent_to(ada, incident), timeout=3)
    new_policy = paging.policy([(600, [bob.id])])
    response = paging.client.patch(
        f"/api/v1/services/{service}",
        json={"escalation_policy_id": new_policy},
        headers=admin_headers(),
    )
    assert response.status_code == 200
    [bob_page] = wait_until(lambda: paging.sent_to(bob, incident), timeout=3)
    assert bob_page.epoch == 1 and bob_page.tier == 0
    assert "escalation_restarted" in paging.log_kinds(incident)


def test_person_without_rules_is_logged_and_escalation_moves_on(paging: Paging) -> None:
    nobody = paging.factory.user()
    bob = paging.responder((CT.sms, "+12015550102", 0))
    service = paging.service(paging.policy([(600, [nobody.id]), (600, [bob.id])]))
    incident = paging.trigger(service)
    wait_until(lambda: paging.sent_to(bob, incident), timeout=3)
    kinds = paging.log_kinds(incident)
    assert "no_notification_rules" in kinds and "nobody_to_notify" in kinds
    assert paging.incident(incident)["escalation_tier"] == 2


def test_resolved_incident_cannot_be_acknowledged(paging: Paging) -> None:
    ada = paging.responder((CT.sms, "+12015550101", 0))
    incident = paging.trigger(paging.service(paging.policy([(600, [ada.id])])))
    assert (
        paging.client.post(
            f"/api/v1/incidents/{incident}/resolve", headers=admin_headers()
        ).status_code
        == 200
    )
    response = paging.client.post(
        f"/api/v1/incidents/{incident}/acknowledge", headers=admin_headers()
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
