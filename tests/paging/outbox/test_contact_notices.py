"""Verification codes and test pages actually reach the contact method."""

from __future__ import annotations

import re
from typing import Any

from people.models import ContactType as CT
from tests.factories import Person
from tests.fakes.twilio_fake import CallRecord
from tests.live_service import Live
from tests.waiting import wait_until

ADA = "+12015550101"


def add(live: Live, person: Person, kind: str, address: str) -> dict[str, Any]:
    """The person adds a contact method for themselves (so it waits for its code)."""
    body = {"type": kind, "address": address}
    result: dict[str, Any] = live.api(
        "POST", f"/users/{person.id}/contact-methods", 201, json=body, headers=person.headers
    )
    return result


def verify(live: Live, person: Person, cm_id: str, code: str, status: int) -> Any:
    path = f"/contact-methods/{cm_id}/verify"
    return live.api("POST", path, status, json={"code": code}, headers=person.headers)


def completed_call(live: Live, number: str) -> CallRecord:
    call = wait_until(
        lambda: next((c for c in live.twilio.calls_to(number) if c.status == "completed"), None)
    )
    assert call is not None
    return call


def code_in(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


def test_a_self_added_number_is_enabled_by_the_code_sent_to_it(live: Live) -> None:
    ada = live.factory.user()
    cm = add(live, ada, "sms", ADA)
    assert cm["enabled"] is False
    [sms] = live.sms_to(ADA)
    assert sms.body.startswith("Your Watchbill verification code is ")
    first = code_in(sms.body)

    resend = f"/contact-methods/{cm['id']}/resend-verification"
    again = live.api("POST", resend, 202, headers=ada.headers)
    assert again["channel"] == "sms" and again["address"] == ADA
    live.api("POST", resend, 403, headers=live.factory.user().headers)  # not theirs
    second = code_in(live.sms_to(ADA, 2)[1].body)
    wrong = "000000" if second != "000000" else "111111"
    if first != second:
        verify(live, ada, cm["id"], first, 422)
    verify(live, ada, cm["id"], wrong, 422)
    done = verify(live, ada, cm["id"], second, 200)
    assert done["enabled"] is True
    live.api("POST", resend, 409, headers=ada.headers)


def test_verification_codes_by_email_and_by_voice(live: Live) -> None:
    ada = live.factory.user()
    email = add(live, ada, "email", "ada@example.com")
    wait_until(lambda: live.mail.to("ada@example.com"))
    [mail] = live.mail.to("ada@example.com")
    assert mail["Subject"].startswith("[Watchbill] Verification code ")
    code = code_in(mail["Subject"])
    verify(live, ada, email["id"], code, 200)

    add(live, ada, "voice", ADA)
    call = completed_call(live, ADA)
    assert len(call.say) == 1 and call.say[0].startswith("Your Watchbill verification code is ")
    spoken = re.search(r"is ([\d, ]+)\. Again", call.say[0])
    assert spoken and len(spoken.group(1).replace(", ", "")) == 6


def test_an_admin_added_method_is_enabled_at_once_and_gets_no_code(live: Live) -> None:
    ada = live.factory.user()
    cm = live.post(f"/users/{ada.id}/contact-methods", {"type": "sms", "address": ADA})
    assert cm["enabled"] is True
    live.api("POST", f"/contact-methods/{cm['id']}/resend-verification", 409)
    assert not live.notifications(user_id=ada.id)


def test_send_a_test_page_to_each_kind_of_contact_method(live: Live) -> None:
    ada = live.factory.user()
    ids = {
        kind: live.factory.contact(ada, kind, address)
        for kind, address in ((CT.sms, ADA), (CT.voice, ADA), (CT.email, "ada@example.com"))
    }
    for cm_id in ids.values():
        sent = live.api("POST", f"/contact-methods/{cm_id}/test", 202, headers=ada.headers)
        assert sent["notification_id"]
    [sms] = live.sms_to(ADA)
    assert sms.body.startswith("Watchbill test page for ")
    call = completed_call(live, ADA)
    assert call.say[0].startswith("Watchbill test page for ")
    wait_until(lambda: live.mail.to("ada@example.com"))
    assert live.mail.to("ada@example.com")[0]["Subject"] == "[Watchbill] Test page"
    wait_until(
        lambda: all(
            n.status.value in ("sent", "delivered") for n in live.notifications(user_id=ada.id)
        )
    )

    stranger = live.factory.user()
    live.api("POST", f"/contact-methods/{ids[CT.sms]}/test", 403, headers=stranger.headers)
    live.api("POST", f"/contact-methods/{'0' * 32}/test", 404)
    pending = add(live, stranger, "email", "s@example.com")
    problem = live.http.post(
        f"/api/v1/contact-methods/{pending['id']}/test", headers=stranger.headers
    )
    assert problem.status_code == 409
    assert problem.headers["content-type"] == "application/problem+json"
