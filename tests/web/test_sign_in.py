"""Signing in and out in a real browser, and the home page it leads to."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import sign_in
from tests.web.served import Served


def test_sign_in_leads_to_on_call_now_and_sign_out_ends_the_session(
    page: Page, served: Served
) -> None:
    person = served.person(name="Ada Lovelace")
    page.goto(served.url("/"))
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Email or password is wrong.")

    sign_in(page, served, person)
    expect(page.get_by_role("heading", name="On call now", level=1)).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "watchbill_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(served.url("/?x=1"))
    expect(page).to_have_url(re.compile(r"/login\?next=%2F%3Fx%3D1"))
