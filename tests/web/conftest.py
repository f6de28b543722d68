"""Browser fixtures: one Chromium per test session (worker), a fresh context per test, in a
phone and a desktop viewport, against ``watchbill serve`` processes shared per backend."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, profiles
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from people import passwords
from tests import dbtools
from tests.factories import Person
from tests.web.served import PASSWORD, VIEWPORTS, Served, launch_options, serve

expect.set_options(timeout=10_000)


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if dbtools.pg_server_url() else ["sqlite"]


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """Real argon2id, with argon2-cffi's cheapest parameters for the passwords tests set (the
    defaults cost about a second on this shared machine under load; a hash carries its own
    parameters, so the server verifies these just as cheaply)."""
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        patch.setattr(passwords, "_DUMMY_HASH", cheap.hash("no such account"))
        yield


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(**launch_options())
    yield browser
    browser.close()


@pytest.fixture(scope="session", params=_backends())
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Twilio (the fake) and SMTP (aiosmtpd) configured: pages really go out."""
    directory = tmp_path_factory.mktemp(f"served-{request.param}")
    with serve(request.param, directory, providers=True) as server:
        yield server
        assert server.twilio is not None
        server.twilio.wait_idle()
        assert server.twilio.errors == []
        assert server.errors() == ""


@pytest.fixture(scope="session", params=_backends())
def served_bare(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """No provider configured: every page goes to the log channel (the test phone's case)."""
    directory = tmp_path_factory.mktemp(f"bare-{request.param}")
    with serve(request.param, directory, providers=False) as server:
        yield server
        assert server.errors() == ""


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def context(browser: Browser, viewport: str) -> Iterator[BrowserContext]:
    context = browser.new_context(**VIEWPORTS[viewport])
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, served: Served, person: Person, path: str = "/") -> None:
    """Sign in through the form, as a person does; ends on ``path``."""
    page.goto(served.url(path))
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
