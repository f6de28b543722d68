"""Voice pages end to end: the fake answers, fetches our TwiML and presses keys."""

from __future__ import annotations

import pytest

from people.models import ContactType as CT
from tests.fakes.twilio_fake import CallRecord
from tests.live_service import Live
from tests.waiting import wait_until

ADA, BOB = "+12015550101", "+12015550102"
PAGE = "This is Watchbill. Critical incident 42 on Checkout. Checkout API errors."
MENU = "Press 4 to acknowledge, 5 to escalate, 6 to resolve, star to repeat."


def finished_call(live: Live, number: str) -> CallRecord:
    """The (first) call to ``number``, once its final status callback was answered."""

    def done() -> CallRecord | None:
        calls = live.twilio.calls_to(number)
        if calls and calls[0].status == "completed" and calls[0].callbacks:
            last = calls[0].callbacks[-1]
            if last.params.get("CallStatus") == "completed" and last.status_code is not None:
                return calls[0]
        return None

    call = wait_until(done, timeout=8)
    assert call is not None
    return call


@pytest.mark.parametrize(
    ("key", "status", "said"),
    [("4", "acknowledged", "Acknowledged"), ("6", "resolved", "Resolved")],
)
def test_a_key_acts_on_the_incident(live: Live, key: str, status: str, said: str) -> None:
    ada = live.responder((CT.voice, ADA, 0))
    live.twilio.queue_digits(ADA, key)
    incident = live.page(ada)
    call = finished_call(live, ADA)
    assert call.say == (PAGE, MENU, f"{said} incident 42. Goodbye.")
    assert call.digits == (key,) and call.errors == ()
    assert live.status(incident["id"]) == status
    found = live.incident(incident["id"])
    assert any(e["kind"] == status and "via voice" in e["message"] for e in found["log"])
    [row] = live.notifications(incident_id=incident["id"])
    assert (row.status.value, row.provider_status, row.provider_id) == (
        "delivered",
        "completed",
        call.sid,
    )
    assert "call_unconfirmed" not in live.log_kinds(incident["id"])


def test_five_escalates_to_the_next_tier_at_once(live: Live) -> None:
    ada = live.responder((CT.voice, ADA, 0))
    bob = live.responder((CT.sms, BOB, 0))
    live.twilio.queue_digits(ADA, "5")
    incident = live.trigger(live.service([(600, [ada.id]), (600, [bob.id])], first_number=42))
    call = finished_call(live, ADA)
    assert call.say[-1] == "Escalated incident 42. Goodbye."
    [sms] = live.sms_to(BOB)
    assert sms.body.startswith("Watchbill #42 CRITICAL")
    found = live.incident(incident["id"])
    assert (found["status"], found["escalation_tier"]) == ("triggered", 2)


def test_star_repeats_the_page_then_a_key_still_works(live: Live) -> None:
    ada = live.responder((CT.voice, ADA, 0))
    live.twilio.queue_digits(ADA, "*", "9", "4")
    incident = live.page(ada)
    call = finished_call(live, ADA)
    assert call.say == (
        PAGE,
        MENU,
        PAGE,
        MENU,
        "Sorry, that is not a valid choice.",
        MENU,
        "Acknowledged incident 42. Goodbye.",
    )
    assert live.status(incident["id"]) == "acknowledged"


def test_silence_repeats_once_hangs_up_and_fails_over(live: Live) -> None:
    ada = live.responder((CT.voice, ADA, 0), (CT.sms, ADA, 600))
    incident = live.page(ada)
    call = finished_call(live, ADA)
    assert call.say == (PAGE, MENU, PAGE, MENU, "Goodbye.")
    assert call.webhooks[1].url.endswith("?attempt=1")
    # Nobody pressed a key: the SMS due in 10 minutes goes out at once.
    [sms] = live.sms_to(ADA)
    assert "Reply 1a to ack" in sms.body
    kinds = live.log_kinds(incident["id"])
    assert "call_unconfirmed" in kinds and "failover" in kinds
    assert live.status(incident["id"]) == "triggered"


@pytest.mark.parametrize("outcome", ["no-answer", "busy"])
def test_an_unanswered_call_fails_over_at_once(live: Live, outcome: str) -> None:
    ada = live.responder((CT.voice, ADA, 0), (CT.email, "ada@example.com", 600))
    live.twilio.set_call_outcome(ADA, outcome)  # type: ignore[arg-type]
    incident = live.page(ada)
    wait_until(lambda: live.mail.to("ada@example.com"), timeout=5)
    [call_row] = live.notifications(incident_id=incident["id"], channel="voice")
    assert (call_row.status.value, call_row.provider_status) == ("failed", outcome)
    assert call_row.last_error == f"call {outcome}"
    assert {"notify_failed", "failover"} <= set(live.log_kinds(incident["id"]))


def test_a_call_after_the_incident_resolved_says_so(live: Live) -> None:
    ada = live.responder((CT.voice, ADA, 0))
    incident = live.page(ada)
    finished_call(live, ADA)
    live.api("POST", f"/incidents/{incident['id']}/resolve")
    [row] = live.notifications(incident_id=incident["id"])
    hook = live.twilio.post_webhook(
        f"{live.base_url}/webhooks/twilio/voice/{row.id}", {"CallSid": "CA" + "5" * 32}
    )
    assert hook.status_code == 200
    assert "Incident 42 has been resolved." in hook.body and "<Hangup" in hook.body
    pressed = live.twilio.post_webhook(
        f"{live.base_url}/webhooks/twilio/voice/{row.id}", {"CallSid": "CA1", "Digits": "4"}
    )
    assert "Incident 42 is already resolved." in pressed.body
    unknown = live.twilio.post_webhook(
        f"{live.base_url}/webhooks/twilio/voice/{'0' * 32}", {"CallSid": "CA1"}
    )
    assert unknown.status_code == 404
