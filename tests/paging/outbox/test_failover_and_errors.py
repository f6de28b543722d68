"""Provider failures: failed delivery fails over at once, 5xx/429 retry, 21610/21211 do not;
and a send interrupted by a crash is looked up instead of sent twice."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from paging.engine import wake
from paging.outbox import outgoing
from paging.outbox.models import Notification, NotificationStatus
from paging.providers.registry import build_channels, build_decorators
from people.models import ContactType as CT
from store.base import utcnow
from tests.live_service import Live
from tests.waiting import stays, wait_until

ADA = "+12015550101"


def test_a_failed_sms_fails_over_to_voice_within_seconds(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0), (CT.voice, ADA, 600))
    live.twilio.set_sms_outcome(ADA, "failed", error_code=30006)
    started = time.monotonic()
    incident = live.page(ada)
    # Seconds (about 0.3 on a quiet machine), not the voice rule's 10 minutes; the bound
    # leaves room for a machine busy with the rest of the suite.
    wait_until(lambda: live.twilio.calls_to(ADA), timeout=30)
    assert time.monotonic() - started < 30
    [sms] = live.notifications(incident_id=incident["id"], channel="sms")
    assert (sms.status.value, sms.provider_status) == ("failed", "failed")
    assert sms.last_error == "SMS failed (Twilio error 30006)"
    kinds = live.log_kinds(incident["id"])
    assert kinds.index("notify_failed") < kinds.index("failover")


def test_an_undelivered_sms_fails_over_too(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0), (CT.email, "ada@example.com", 600))
    live.twilio.set_sms_outcome(ADA, "undelivered")
    live.page(ada)
    wait_until(lambda: live.mail.to("ada@example.com"), timeout=5)


def test_twilio_5xx_and_429_are_retried_with_backoff(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    live.twilio.fail_next(1, status=500)
    live.twilio.fail_next(1, status=429)
    incident = live.page(ada)
    [page] = live.sms_to(ADA, timeout=8)
    assert page.body.endswith("Reply 1a to ack, 1r to resolve, 1e to escalate")
    [row] = live.recorded(incident_id=incident["id"])
    assert row.attempts == 3 and row.provider_id == page.sid
    assert live.log_kinds(incident["id"]).count("notify_retry") == 2


def test_opted_out_number_is_not_retried_is_marked_and_voice_takes_over(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0), (CT.voice, ADA, 600))
    live.twilio.set_number_error(ADA, 21610)  # SMS only: calls still go through
    incident = live.page(ada)
    wait_until(lambda: live.twilio.calls_to(ADA), timeout=5)
    [sms] = live.notifications(incident_id=incident["id"], channel="sms")
    assert (sms.status.value, sms.attempts) == ("failed", 1)
    assert "21610" in (sms.last_error or "")
    items = live.api("GET", f"/users/{ada.id}/contact-methods")["items"]
    assert next(c for c in items if c["type"] == "sms")["sms_opted_out"] is True
    assert "notify_retry" not in live.log_kinds(incident["id"])


def test_an_invalid_number_is_permanent(live: Live) -> None:
    ada = live.responder((CT.voice, ADA, 0))
    live.twilio.set_number_error(ADA, 21211)
    incident = live.page(ada)
    wait_until(lambda: "unreachable" in live.log_kinds(incident["id"]), timeout=5)
    [call] = live.notifications(incident_id=incident["id"])
    assert (call.status.value, call.attempts) == ("failed", 1)
    assert stays(lambda: live.notifications(incident_id=incident["id"])[0].attempts == 1, 1.2)


def _interrupted_send(live: Live, *, already_sent: bool) -> tuple[str, str]:
    """A page whose sender died mid-send: its row is ``sending`` under a lapsed lease."""
    ada = live.responder((CT.sms, ADA, 600))  # due in 10 minutes: the engine leaves it alone
    incident = live.page(ada)
    wait_until(lambda: live.notifications(incident_id=incident["id"]))
    claimed = utcnow() - timedelta(seconds=2)
    with live.database.transaction() as session:
        row = session.scalars(select(Notification)).one()
        row.status, row.claimed_by, row.claimed_at = NotificationStatus.sending, "dead:1", claimed
        row.lease_until, row.attempts = claimed + timedelta(seconds=60), 1
        message = outgoing.build(
            session, live.settings, row, [row], build_decorators(live.settings)
        )
    if already_sent:
        channel = build_channels(live.database, live.settings)["sms"]
        assert channel.send(message).outcome.value == "sent"
    with live.database.transaction() as session:
        row = session.scalars(select(Notification)).one()
        row.lease_until = utcnow() - timedelta(seconds=1)
        wake.request(session)
    return incident["id"], row.id


def test_a_send_interrupted_after_twilio_took_it_is_not_sent_twice(live: Live) -> None:
    _, row_id = _interrupted_send(live, already_sent=True)

    def recorded() -> bool:
        [row] = live.notifications(id=row_id)
        return row.status in (NotificationStatus.sent, NotificationStatus.delivered)

    wait_until(recorded, timeout=5)
    assert stays(lambda: len(live.twilio.messages_to(ADA)) == 1, 1.0)
    [row] = live.notifications(id=row_id)
    assert row.provider_id == live.twilio.messages_to(ADA)[0].sid
    assert row.claimed_by != "dead:1"  # taken over by the engine, which looked it up


def test_a_send_interrupted_before_twilio_took_it_is_sent(live: Live) -> None:
    _interrupted_send(live, already_sent=False)
    # The takeover asks Twilio first (up to its 2 s timeout) and then sends: allow for a busy
    # machine; what is asserted is that it goes out once, not how soon.
    [page] = live.sms_to(ADA, timeout=15)
    assert page.body.endswith("Reply 1a to ack, 1r to resolve, 1e to escalate")
    assert stays(lambda: len(live.twilio.messages_to(ADA)) == 1, 0.5)
