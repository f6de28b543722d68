"""What a responder does from a phone at 3 a.m., in a real browser against ``watchbill serve``:
see who is on call, open an incident and acknowledge it, follow the SMS link, add a number."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from people.models import ContactType, TeamRole, UserRole
from tests.fakes.twilio_fake import MessageRecord
from tests.waiting import wait_until
from tests.web.conftest import sign_in
from tests.web.served import Served, new_number


def first_sms(served: Served, number: str) -> MessageRecord:
    twilio = served.twilio
    assert twilio is not None
    wait_until(lambda: twilio.messages_to(number), 15)
    return twilio.messages_to(number)[0]


def test_home_shows_who_is_on_call_now_and_my_shift(page: Page, served: Served) -> None:
    grace = served.person(name="Grace Hopper")
    alan = served.person(name="Alan Turing")
    name = f"Payments primary {uuid.uuid4().hex[:6]}"
    served.schedule(name, grace, alan)
    sign_in(page, served, grace)
    expect(page.get_by_role("heading", name="On call now", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Grace Hopper (you)")
    expect(page.get_by_text(re.compile(rf"On call now\s+in {name} until"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Next shift:"))).to_be_visible()


def test_open_an_incident_from_the_list_and_acknowledge_it(page: Page, served: Served) -> None:
    person = served.person(name="Katherine Johnson")
    team = served.team((person, TeamRole.responder))
    service = served.service_paging(person, team_id=team, name="Checkout API")
    incident_id = served.trigger(service, "Checkout API errors above 5%")
    sign_in(page, served, person, "/incidents")
    page.get_by_role("link", name=re.compile(r"Checkout API errors above 5%")).first.click()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident_id}$"))
    expect(page.get_by_text("Triggered").first).to_be_visible()
    expect(page.get_by_text("error_rate: 7%")).to_be_visible()  # details from the monitoring tool
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("Acknowledged #")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.get_by_role("button", name="Resolve")).to_be_visible()
    assert served.status(incident_id) == "acknowledged"
    expect(page.get_by_role("list", name=re.compile("timeline"))).to_contain_text(
        "Acknowledged by Katherine Johnson via web"  # a name, not the log's user:<email> label
    )
    expect(page.get_by_text("Acknowledged by Katherine Johnson").first).to_be_visible()
    page.get_by_label("Note").fill("Rolled back the deploy.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("list", name=re.compile("timeline"))).to_contain_text(
        "Note by Katherine Johnson: Rolled back the deploy."
    )


def test_the_sms_link_opens_the_incident_without_signing_in_and_resolves_it(
    page: Page, served: Served
) -> None:
    assert served.twilio is not None
    number = new_number()
    person = served.person(name="Margaret Hamilton")
    served.responder(person, ContactType.sms, number)
    incident_id = served.trigger(served.service_paging(person), "Disk full on db-1")
    sms = first_sms(served, number)
    link = re.search(r"(https?://\S+/l/\S+)", sms.body)
    assert link is not None, sms.body
    url = link.group(1)
    assert len(url) - len(served.base_url) < 40, url

    # A GET (as a link scanner would) changes nothing.
    assert httpx.get(url, trust_env=False).status_code == 200
    assert served.status(incident_id) == "triggered"

    page.goto(url)
    expect(page.get_by_role("heading", name=re.compile("Disk full on db-1"))).to_be_visible()
    expect(page.get_by_text("You act as Margaret Hamilton")).to_be_visible()
    assert served.status(incident_id) == "triggered"
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text("Resolved #")
    assert served.status(incident_id) == "resolved"
    # Once resolved, the link has expired.
    assert httpx.get(url, trust_env=False).status_code == 410
    # A forged signature opens nothing.
    forged = url[:-1] + ("A" if url[-1] != "A" else "B")
    assert httpx.get(forged, trust_env=False).status_code in (403, 404)


def test_add_a_number_and_confirm_it_with_the_code_it_received(page: Page, served: Served) -> None:
    assert served.twilio is not None
    number = new_number()
    person = served.person(name="Radia Perlman")
    sign_in(page, served, person, "/profile")
    page.get_by_label("Type").select_option("sms")
    page.get_by_label("Phone number or e-mail address").fill(number)
    page.get_by_role("button", name="Add contact method").click()
    expect(page.get_by_role("status")).to_contain_text(f"We sent a code to {number}")
    sms = first_sms(served, number)
    code = re.search(r"\b(\d{6})\b", sms.body)
    assert code is not None, sms.body
    page.get_by_label(f"Code sent to {number}").fill(code.group(1))
    page.get_by_role("button", name="Confirm code").click()
    expect(page.get_by_role("status")).to_contain_text("Confirmed")
    card = page.get_by_role("listitem").filter(has_text=number)
    expect(card.get_by_text("On", exact=True)).to_be_visible()
    page.get_by_role("button", name=f"Send a test page to {number}").click()
    wait_until(lambda: served.twilio and len(served.twilio.messages_to(number)) >= 2, 15)
    assert "test page" in served.twilio.messages_to(number)[-1].body


def test_every_menu_entry_is_in_view_without_scrolling_sideways(page: Page, served: Served) -> None:
    """An admin has the longest menu; on a phone it wraps rather than hiding off the edge."""
    admin = served.person(name="Mary Jackson", role=UserRole.admin)
    sign_in(page, served, admin)
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    width = page.evaluate("window.innerWidth")
    assert links.count() >= 6
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
            links.nth(i).inner_text(),
            box,
        )
    assert page.evaluate("document.documentElement.scrollWidth") <= width
