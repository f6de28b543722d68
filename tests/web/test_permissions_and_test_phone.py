"""Who may act (buttons shown only to them, and the server refuses the others), and the test
phone that runs the two-way flow with no provider configured."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from people.models import ContactType, TeamRole, UserRole
from tests.waiting import wait_until
from tests.web.conftest import sign_in
from tests.web.served import Served, new_number


def test_an_observer_sees_no_buttons_and_the_server_refuses_a_forged_post(
    page: Page, served: Served
) -> None:
    paged = served.person(name="On Call")
    observer = served.person(name="Just Watching")
    team = served.team((paged, TeamRole.responder), (observer, TeamRole.observer))
    incident_id = served.trigger(served.service_paging(paged, team_id=team))
    sign_in(page, served, observer, f"/incidents/{incident_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout API errors")
    for name in ("Acknowledge", "Resolve", "Escalate", "Add note"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_text("You may not act on this incident")).to_be_visible()

    # The form the observer's browser could forge, with a valid session and CSRF token:
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    for action in ("acknowledge", "resolve", "escalate"):
        answer = httpx.post(
            served.url(f"/incidents/{incident_id}/{action}"),
            data={"csrf_token": token},
            cookies=cookies,
            trust_env=False,
        )
        assert answer.status_code == 403, answer.text
    note = httpx.post(
        served.url(f"/incidents/{incident_id}/notes"),
        data={"csrf_token": token, "text": "sneaky"},
        cookies=cookies,
        trust_env=False,
    )
    assert note.status_code == 403
    # And without the CSRF token even an allowed action is refused.
    bare = httpx.post(
        served.url(f"/incidents/{incident_id}/acknowledge"), cookies=cookies, trust_env=False
    )
    assert bare.status_code == 403
    assert served.status(incident_id) == "triggered"


def test_reply_from_the_test_phone_and_see_the_incident_acknowledged(
    page: Page, served_bare: Served
) -> None:
    served = served_bare
    admin = served.person(name="Admin Ada", role=UserRole.admin)
    number = new_number()
    responder = served.person(name="Night Owl")
    served.responder(responder, ContactType.sms, number)
    incident_id = served.trigger(served.service_paging(responder), "Queue backlog growing")
    sign_in(page, served, admin, "/test-phone")

    def listed() -> bool:
        page.goto(served.url("/test-phone"))
        return page.get_by_label(f"Reply from {number}").count() > 0

    wait_until(listed, 15, 0.5)
    card = page.get_by_role("listitem").filter(has_text=number).first
    expect(card).to_contain_text("Queue backlog growing")
    expect(card).to_contain_text("to ack")
    code = re.search(r"Reply (\d+)a to ack", card.inner_text())
    assert code is not None
    card.get_by_label(f"Reply from {number}").fill(f"{code.group(1)}a")
    card.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Acknowledged #")
    assert served.status(incident_id) == "acknowledged"
    page.goto(served.url(f"/incidents/{incident_id}"))
    expect(page.get_by_text("Acknowledged", exact=True).first).to_be_visible()
    expect(page.get_by_role("list", name=re.compile("timeline"))).to_contain_text("via sms")


def test_the_test_phone_is_for_admins_only(page: Page, served_bare: Served) -> None:
    member = served_bare.person(name="Plain Member")
    sign_in(page, served_bare, member)
    expect(page.get_by_role("link", name="Test phone")).to_have_count(0)
    page.goto(served_bare.url("/test-phone"))
    expect(page.get_by_role("alert")).to_contain_text("only an admin may use the test phone")
