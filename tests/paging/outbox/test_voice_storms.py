"""Alert storms by voice: a phone takes one call at a time, so the pages waiting for a number
go in one call, a key on it acts on every incident it carries, and the next call waits for the
outcome of the one in progress (the Twilio fake places the calls and presses keys)."""

from __future__ import annotations

from datetime import timedelta

from paging.outbox.models import Notification
from people.models import ContactType as CT
from tests.fakes.twilio_fake import CallRecord
from tests.live_service import Live
from tests.waiting import wait_until

ADA = "+12015550101"
BUNDLE_MENU = (
    "Press 4 to acknowledge all 5, 5 to escalate all 5, 6 to resolve all 5, star to repeat."
)


def finished_calls(live: Live, number: str, count: int) -> list[CallRecord]:
    """The calls to ``number`` once ``count`` of them have ended and been reported back."""

    def done() -> list[CallRecord] | None:
        calls = live.twilio.calls_to(number)
        ended = [
            c
            for c in calls
            if c.callbacks
            and c.callbacks[-1].params.get("CallStatus") in ("completed", "no-answer", "busy")
            and c.callbacks[-1].status_code is not None
        ]
        return ended if len(ended) >= count else None

    calls = wait_until(done, timeout=10)
    assert calls is not None
    return calls


def carrier_of_bundle(live: Live, ids: list[str]) -> tuple[Notification, list[Notification]]:
    rows = [r for r in live.notifications(channel="voice") if r.incident_id in ids]
    members = [r for r in rows if r.bundled_into is not None]
    [carrier_id] = {r.bundled_into for r in members}
    [carrier] = [r for r in rows if r.id == carrier_id]
    return carrier, members


def test_a_voice_storm_is_one_call_and_a_key_on_it_acts_on_all(live: Live) -> None:
    ada = live.responder((CT.voice, ADA, 0))
    service_id = live.service([(600, [ada.id])], first_number=42)
    live.twilio.queue_digits(ADA, "4")  # whoever answers presses 4
    ids = live.storm(service_id, 5)

    [bundled] = finished_calls(live, ADA, 1)
    assert len(live.twilio.calls_to(ADA)) == 1  # never two calls to one phone at once
    carrier, members = carrier_of_bundle(live, ids)
    assert len(members) == 4
    assert bundled.say[0].split(". ")[1:3] == [
        "5 open incidents",
        "Critical incident 42 on Checkout",  # oldest first
    ]
    assert bundled.say[1:] == (BUNDLE_MENU, "Acknowledged 5 incidents. Goodbye.")
    assert bundled.url is not None and bundled.url.endswith(f"/voice/{carrier.id}")

    assert {live.status(i) for i in ids} == {"acknowledged"}
    for row in [carrier, *members]:
        found = live.incident(row.incident_id or "")
        assert any(
            e["kind"] == "acknowledged" and "via voice" in e["message"] for e in found["log"]
        )
    settled = live.recorded(channel="voice")
    assert {r.status.value for r in settled} == {"delivered"}
    assert not any("call_unconfirmed" in live.log_kinds(i) for i in ids)


def test_a_bundled_call_reads_only_what_is_still_open(live: Live) -> None:
    ada = live.responder((CT.voice, ADA, 0))
    service_id = live.service([(600, [ada.id])], first_number=42)
    live.twilio.set_call_outcome(ADA, "no-answer")
    ids = live.storm(service_id, 3)
    finished_calls(live, ADA, 1)
    carrier, members = carrier_of_bundle(live, ids)
    url = f"{live.base_url}/webhooks/twilio/voice/{carrier.id}"
    in_call = [r.incident_id or "" for r in [carrier, *members]]
    assert sorted(in_call) == sorted(ids)

    live.api("POST", f"/incidents/{in_call[0]}/resolve")
    hook = live.twilio.post_webhook(url, {"CallSid": "CA" + "1" * 32})
    assert "2 open incidents" in hook.body
    assert "Press 4 to acknowledge all 2" in hook.body
    pressed = live.twilio.post_webhook(url, {"CallSid": "CA" + "1" * 32, "Digits": "6"})
    assert "Resolved 2 incidents. Goodbye." in pressed.body
    assert {live.status(i) for i in in_call} == {"resolved"}
    again = live.twilio.post_webhook(url, {"CallSid": "CA" + "1" * 32})
    assert "All 3 incidents have been resolved." in again.body and "<Hangup" in again.body


def test_an_unanswered_bundled_call_fails_over_for_every_incident_it_carried(
    live: Live,
) -> None:
    ada = live.responder((CT.voice, ADA, 0), (CT.email, "ada@example.com", 600))
    service_id = live.service([(600, [ada.id])], first_number=42)
    live.twilio.set_call_outcome(ADA, "no-answer")
    ids = live.storm(service_id, 5)
    finished_calls(live, ADA, 1)
    carrier, members = carrier_of_bundle(live, ids)
    assert len(members) == 4

    # Every incident's e-mail, due in ten minutes, is brought forward: sent at once, or held
    # by the storm throttle for at most a bundle interval (60 s), never the full ten minutes.
    def brought_forward() -> bool:
        rows = [r for r in live.notifications(channel="email") if r.incident_id in ids]
        soon = [r for r in rows if r.send_at - r.created_at < timedelta(seconds=90)]
        return {r.incident_id for r in soon} == set(ids)

    assert wait_until(brought_forward, timeout=10)
    assert wait_until(lambda: len(live.mail.to("ada@example.com")) >= 1, timeout=10)
    for row in [carrier, *members]:
        kinds = live.log_kinds(row.incident_id or "")
        assert {"notify_failed", "failover"} <= set(kinds)
    calls = {r.id: r for r in live.recorded(channel="voice")}
    assert {calls[r.id].status.value for r in [carrier, *members]} == {"failed"}
    assert {live.status(i) for i in ids} == {"triggered"}
