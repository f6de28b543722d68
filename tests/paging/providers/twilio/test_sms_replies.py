"""Two-way SMS end to end: page → signed reply → incident → TwiML answer."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select

from paging.providers.twilio.models import InboundSms
from people.models import ContactType as CT
from tests.live_service import OURS, Live, answer_text
from tests.waiting import stays, wait_until

ADA, BOB = "+12015550101", "+12015550102"
_numbers = (f"+120155501{n:02d}" for n in itertools.count(10))


def test_page_then_reply_code_acknowledges_and_escalation_stops(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    bob = live.responder((CT.sms, BOB, 0))
    incident = live.trigger(live.service([(2, [ada.id]), (60, [bob.id])], first_number=42))
    [page] = live.sms_to(ADA)
    assert page.from_ == OURS
    assert page.body.startswith("Watchbill #42 CRITICAL Checkout: Checkout API errors ")
    assert page.body.endswith("Reply 1a to ack, 1r to resolve, 1e to escalate")
    assert page.num_segments <= 2

    status, twiml = live.reply(ADA, "1a")
    assert status == 200
    assert answer_text(twiml) == "Acknowledged #42 Checkout API errors"
    found = live.incident(incident["id"])
    assert found["status"] == "acknowledged"
    assert found["acknowledged_by"].startswith("user:")
    assert "via sms" in next(e for e in found["log"] if e["kind"] == "acknowledged")["message"]
    # Tier 2 (2 s later) never comes: escalation stopped.
    assert stays(lambda: not live.twilio.messages_to(BOB), 2.5)
    assert "escalated" not in live.log_kinds(incident["id"])


ACK_FORMS = ["1a", "1 a", "'1a'", '"1A"', "ACK 1", "ack1", "1 ack", "a1", "1a  ", "  1A.",
             "Ack", "a", "ACK ", "acknowledge", "\u20181a\u2019"]  # fmt: skip
RESOLVE_FORMS = ["1r", "1 R", "1c", "close 1", "resolve", "r", "C", "1 resolved!"]
ESCALATE_FORMS = ["1e", "esc 1", "E", "1 escalate"]


def test_every_reply_form_acts_on_the_incident(live: Live) -> None:
    backup = live.responder((CT.email, "backup@example.com", 0))
    cases = (
        [(form, "acknowledged") for form in ACK_FORMS]
        + [(form, "resolved") for form in RESOLVE_FORMS]
        + [(form, "escalated") for form in ESCALATE_FORMS]
    )
    for form, outcome in cases:
        number = next(_numbers)
        person = live.responder((CT.sms, number, 0))
        incident = live.trigger(live.service([(60, [person.id]), (60, [backup.id])]))
        live.sms_to(number)
        status, twiml = live.reply(number, form)
        assert status == 200, form
        found = live.incident(incident["id"])
        if outcome == "escalated":
            assert (found["status"], found["escalation_tier"]) == ("triggered", 2), form
            assert answer_text(twiml) == "Escalated #1 Checkout API errors", form
        else:
            assert found["status"] == outcome, form
            assert answer_text(twiml) == f"{outcome.capitalize()} #1 Checkout API errors", form


def test_two_open_incidents_get_distinct_codes_that_act_on_the_right_one(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    service = live.service([(60, [ada.id])], first_number=41)
    first = live.trigger(service, "Database slow")
    live.sms_to(ADA, 1)
    second = live.trigger(service, "Checkout down")
    pages = live.sms_to(ADA, 2)
    assert "#41" in pages[0].body and pages[0].body.endswith(
        "Reply 1a to ack, 1r to resolve, 1e to escalate"
    )
    assert "#42" in pages[1].body and pages[1].body.endswith(
        "Reply 2a to ack, 2r to resolve, 2e to escalate"
    )

    assert answer_text(live.reply(ADA, "2a")[1]) == "Acknowledged #42 Checkout down"
    assert (live.status(first["id"]), live.status(second["id"])) == ("triggered", "acknowledged")
    assert answer_text(live.reply(ADA, "1r")[1]) == "Resolved #41 Database slow"
    assert (live.status(first["id"]), live.status(second["id"])) == ("resolved", "acknowledged")

    # #41 resolved: its code is free again for the next incident; #42 keeps code 2.
    third = live.trigger(service, "Queue backlog")
    assert live.sms_to(ADA, 3)[2].body.endswith("Reply 1a to ack, 1r to resolve, 1e to escalate")
    assert answer_text(live.reply(ADA, "1a")[1]) == "Acknowledged #43 Queue backlog"
    assert live.status(third["id"]) == "acknowledged"
    assert answer_text(live.reply(ADA, "2r")[1]) == "Resolved #42 Checkout down"


def test_bare_ack_acts_on_the_newest_page(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    service = live.service([(60, [ada.id])], first_number=7)
    older = live.trigger(service, "Older")
    live.sms_to(ADA, 1)
    newer = live.trigger(service, "Newer")
    live.sms_to(ADA, 2)
    assert answer_text(live.reply(ADA, "ack")[1]) == "Acknowledged #8 Newer"
    assert (live.status(older["id"]), live.status(newer["id"])) == ("triggered", "acknowledged")


def test_answers_say_what_went_wrong(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    incident = live.page(ada)
    live.sms_to(ADA)
    assert answer_text(live.reply(ADA, "9a")[1]) == "Watchbill: no open incident for code 9."
    assert answer_text(live.reply(ADA, "1e")[1]) == (
        "Watchbill: Incident #42 is already at the last tier."
    )
    assert answer_text(live.reply(ADA, "1a")[1]) == "Acknowledged #42 Checkout API errors"
    assert answer_text(live.reply(ADA, "1a")[1]) == (
        "Watchbill: Incident #42 is already acknowledged."
    )
    assert answer_text(live.reply(ADA, "1r")[1]) == "Resolved #42 Checkout API errors"
    assert answer_text(live.reply(ADA, "1a")[1]) == "Watchbill: Incident #42 is already resolved."
    assert answer_text(live.reply(ADA, "a")[1]) == "Watchbill: Incident #42 is already resolved."
    assert live.status(incident["id"]) == "resolved"


def test_a_stranger_gets_no_answer_and_changes_nothing(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    incident = live.page(ada)
    live.sms_to(ADA)
    for body in ("1a", "help", "hello"):
        status, twiml = live.reply("+12015550199", body)
        assert status == 200
        assert answer_text(twiml) is None
    assert live.status(incident["id"]) == "triggered"


def test_nonsense_is_answered_at_most_twice_so_phones_cannot_loop(live: Live) -> None:
    live.responder((CT.sms, ADA, 0))
    answers = [answer_text(live.reply(ADA, f"Thanks! ({n})")[1]) for n in range(4)]
    expected = (
        "Watchbill: reply not understood. Send e.g. 1a to ack, 1r to resolve, 1e to escalate."
    )
    assert answers == [expected, expected, None, None]
    # "ack #42" names an incident number, not a code: refused rather than guessed.
    assert answer_text(live.reply(BOB, "ack #42")[1]) is None  # unknown sender


def test_forged_signatures_are_refused_with_no_effect(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0), (CT.voice, ADA, 60))
    incident = live.page(ada)
    [page] = live.sms_to(ADA)
    status, body = live.reply(ADA, "1a", bad_signature=True)
    assert status == 403 and '"status":403' in body.replace(" ", "")
    unsigned = live.http.post(
        "/webhooks/twilio/sms", data={"From": ADA, "Body": "1a", "MessageSid": "SM" + "1" * 32}
    )
    assert unsigned.status_code == 403
    assert unsigned.headers["content-type"] == "application/problem+json"
    [row] = live.recorded(incident_id=incident["id"], channel="sms")
    for path, params in (
        (f"/webhooks/twilio/status/{row.id}", {"MessageSid": page.sid, "MessageStatus": "failed"}),
        (f"/webhooks/twilio/voice/{row.id}", {"CallSid": "CA" + "2" * 32, "Digits": "4"}),
    ):
        hook = live.twilio.post_webhook(live.base_url + path, params, bad_signature=True)
        assert hook.status_code == 403, path
    # Signed for another URL (a replay against a different path) is refused too.
    params = {"MessageSid": page.sid, "MessageStatus": "failed"}
    signature = live.twilio.sign(f"{live.base_url}/webhooks/twilio/status/other", params)
    replayed = live.http.post(
        f"/webhooks/twilio/status/{row.id}", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert replayed.status_code == 403
    assert live.status(incident["id"]) == "triggered"
    assert sorted(n.status.value for n in live.notifications(incident_id=incident["id"])) in (
        ["pending", "sent"],
        ["delivered", "pending"],
    )
    with live.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundSms)) == 0


def test_a_redelivered_webhook_acts_once(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    incident = live.page(ada)
    live.sms_to(ADA)
    params = {"MessageSid": "SM" + "3" * 32, "AccountSid": live.twilio.account_sid,
              "From": ADA, "To": OURS, "Body": "1a", "NumMedia": "0"}  # fmt: skip
    url = f"{live.base_url}/webhooks/twilio/sms"
    first = live.twilio.post_webhook(url, params)
    second = live.twilio.post_webhook(url, params)
    assert first.status_code == second.status_code == 200
    assert (
        answer_text(first.body)
        == answer_text(second.body)
        == ("Acknowledged #42 Checkout API errors")
    )
    assert live.log_kinds(incident["id"]).count("acknowledged") == 1


def test_stop_sends_pages_by_voice_only_start_resumes_help_explains(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0), (CT.voice, ADA, 0))

    def sms_opted_out() -> bool:
        items = live.api("GET", f"/users/{ada.id}/contact-methods")["items"]
        return bool(next(c for c in items if c["type"] == "sms")["sms_opted_out"])

    status, twiml = live.reply(ADA, "STOP")  # Twilio answered it already (OptOutType)
    assert (status, answer_text(twiml), sms_opted_out()) == (200, None, True)
    first = live.page(ada)
    wait_until(lambda: live.twilio.calls_to(ADA))
    assert stays(lambda: not live.twilio.messages_to(ADA), 0.5)
    assert {n.channel for n in live.notifications(incident_id=first["id"])} == {"voice"}

    help_answer = answer_text(live.reply(ADA, "help")[1])
    assert help_answer is not None and help_answer.startswith("Watchbill on-call paging. Reply 1a")
    status, twiml = live.reply(ADA, "start")
    assert (status, answer_text(twiml), sms_opted_out()) == (200, None, False)
    # Without Twilio's own keyword handling (no OptOutType) we answer ourselves.
    assert answer_text(live.reply(ADA, "revoke")[1]) == (
        "Watchbill: you will no longer receive pages by SMS. Reply START to resume."
    )
    assert sms_opted_out()
    assert answer_text(live.reply(ADA, "Start", extra_params={"OptOutType": ""})[1]) == (
        "Watchbill: SMS pages resumed. Reply HELP for help, STOP to opt out."
    )
    second = live.page(ada, first_number=50)
    assert "#50" in live.sms_to(ADA)[0].body
    assert {n.channel for n in live.notifications(incident_id=second["id"])} == {"sms", "voice"}


def test_signed_but_malformed_webhooks_are_clear_4xx(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    incident = live.page(ada)
    live.sms_to(ADA)
    [row] = live.recorded(incident_id=incident["id"])
    base = f"{live.base_url}/webhooks/twilio"
    cases = [
        (f"{base}/sms", {"From": ADA, "Body": "1a"}, 422),  # no MessageSid
        (f"{base}/sms", {"MessageSid": "SM1", "From": "+1" * 40, "Body": "1a"}, 422),
        (f"{base}/status/{row.id}", {"MessageSid": "SM1"}, 422),  # no status
        (f"{base}/status/{'0' * 32}", {"MessageStatus": "delivered"}, 404),
        (f"{base}/voice/{row.id}", {"CallSid": "CA1"}, 404),  # an SMS, not a call
        (f"{base}/voice/{row.id}?attempt=x", {"CallSid": "CA1"}, 422),
    ]
    for url, params, expected in cases:
        hook = live.twilio.post_webhook(url, params)
        assert hook.status_code == expected, (url, params, hook.body)
        assert '"status":' in hook.body
    assert live.status(incident["id"]) == "triggered"
