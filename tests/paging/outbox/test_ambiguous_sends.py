"""A send that may have gone out (Twilio accepted it, its answer came after our timeout) is
looked up before it is sent again: exactly one message, one call. One that surely did not go
out is sent again."""

from __future__ import annotations

from paging.outbox.models import NotificationStatus
from people.models import ContactType as CT
from tests.live_service import Live
from tests.waiting import stays, wait_until

ADA = "+12015550101"
LATE = 4.0  # the engine waits 2 s for an answer (``twilio_timeout_seconds`` in the fixture)


def _settled(live: Live, incident_id: str) -> list[str]:
    rows = live.recorded(incident_id=incident_id)
    assert len(rows) == 1
    return [rows[0].status.value, rows[0].provider_id or "", str(rows[0].attempts)]


def test_an_sms_accepted_but_answered_after_the_timeout_goes_out_once(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    live.twilio.answer_late(LATE)
    incident = live.page(ada)["id"]
    [message] = live.sms_to(ADA, 1)
    wait_until(lambda: "notify_retry" in live.log_kinds(incident), timeout=6)
    status, provider_id, _ = _settled(live, incident)
    assert status in ("sent", "delivered") and provider_id == message.sid
    assert stays(lambda: len(live.twilio.messages_to(ADA)) == 1, LATE)
    [retry] = [e for e in live.incident(incident)["log"] if e["kind"] == "notify_retry"]
    assert "ReadTimeout" in retry["message"] and "may have gone out" in retry["message"]


def test_a_call_accepted_but_answered_after_the_timeout_rings_once(live: Live) -> None:
    ada = live.responder((CT.voice, ADA, 0))
    live.twilio.set_call_outcome(ADA, "no-answer")
    live.twilio.answer_late(LATE)
    incident = live.page(ada)["id"]
    wait_until(lambda: live.twilio.calls_to(ADA), timeout=3)
    wait_until(lambda: "notify_retry" in live.log_kinds(incident), timeout=6)
    [call] = live.twilio.calls_to(ADA)
    wait_until(
        lambda: (
            live.notifications(incident_id=incident, channel="voice")[0].provider_id == call.sid
        ),
        timeout=6,
    )
    assert stays(lambda: len(live.twilio.calls_to(ADA)) == 1, LATE)


def test_an_ambiguous_failure_that_did_not_go_out_is_sent_again(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    live.twilio.fail_next(1, status=502)  # a gateway error: it may, or may not, have gone out
    incident = live.page(ada)["id"]
    [message] = live.sms_to(ADA, 1, timeout=6)
    status, provider_id, attempts = _settled(live, incident)
    assert status in ("sent", "delivered") and provider_id == message.sid
    assert attempts == "2"
    assert stays(lambda: len(live.twilio.messages_to(ADA)) == 1, 1.5)
    rows = live.notifications(incident_id=incident)
    assert rows[0].status is not NotificationStatus.failed
