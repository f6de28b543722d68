"""Sessions, CSRF and the sign-in rate limits, through the app's HTTP interface."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from people.authentication import MAX_ACCOUNT_FAILURES, MAX_ADDRESS_FAILURES, WRONG
from store.db import Database
from store.settings import Settings
from tests.conftest import ADMIN_TOKEN, admin_headers
from tests.factories import Factory
from tests.web.forms import PASSWORD, csrf_of, give_password, post_login, sign_in


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web(database_url: str, database: Database, clock: Clock) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        admin_token=SecretStr(ADMIN_TOKEN),
        public_url="http://testserver",
        web_session_idle_minutes=60,
        web_session_max_hours=24,
    )
    with TestClient(create_app(settings, database, clock=clock)) as client:
        yield client


def signed_in(client: TestClient) -> bool:
    answer = client.get("/", follow_redirects=False)
    return answer.status_code == 200 and "On call now" in answer.text


def test_pages_need_a_session_and_lead_to_login(web: TestClient) -> None:
    for path in ("/", "/incidents", "/profile", "/incidents/nope", "/schedules/nope"):
        answer = web.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def test_wrong_password_and_unknown_account_get_the_same_answer(
    web: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    wrong = post_login(web, person.email, "not the password")
    unknown = post_login(web, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in wrong.text and WRONG in unknown.text


def _replace_session_cookie(client: TestClient, value: str) -> None:
    """Send ``value`` as the session cookie (the jar may hold it under the server's domain)."""
    client.cookies.delete("watchbill_session")
    client.cookies.set("watchbill_session", value)


def test_session_cookie_is_signed_httponly_lax_and_new_at_each_sign_in(
    web: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    answer = post_login(web, person.email, PASSWORD)
    header = answer.headers["set-cookie"].lower()
    assert "watchbill_session=" in header and "httponly" in header and "samesite=lax" in header
    assert "secure" not in header.split("watchbill_session=")[1].split(",")[0]
    first = web.cookies["watchbill_session"]
    assert signed_in(web)
    sign_in(web, person)  # signing in again rotates the session
    second = web.cookies["watchbill_session"]
    assert second != first
    _replace_session_cookie(web, first)
    assert not signed_in(web)
    _replace_session_cookie(web, second[:-2] + "xx")  # a forged signature
    assert not signed_in(web)


def test_cookie_is_secure_when_the_public_url_is_https(
    database_url: str, database: Database, factory: Factory
) -> None:
    person = factory.user()
    give_password(database, person)
    settings = Settings(_env_file=None, database_url=database_url, public_url="https://pager.test")
    with TestClient(create_app(settings, database), base_url="https://pager.test") as client:
        answer = post_login(client, person.email, PASSWORD)
    assert "secure" in answer.headers["set-cookie"].lower()


def test_sign_out_ends_the_session(web: TestClient, factory: Factory, database: Database) -> None:
    person = factory.user()
    give_password(database, person)
    sign_in(web, person)
    cookie = web.cookies["watchbill_session"]
    token = csrf_of(web.get("/").text)
    assert (
        web.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    _replace_session_cookie(web, cookie)
    assert not signed_in(web)


def test_idle_and_absolute_expiry(
    web: TestClient, factory: Factory, database: Database, clock: Clock
) -> None:
    person = factory.user()
    give_password(database, person)
    sign_in(web, person)
    for _ in range(30):  # active every 50 minutes: the idle limit (60) never passes...
        clock.now += timedelta(minutes=50)
        if clock.now - datetime(2026, 12, 6, 3, 0, tzinfo=UTC) >= timedelta(hours=24):
            break
        assert signed_in(web)
    assert not signed_in(web)  # ...but the absolute limit (24 h) does
    sign_in(web, person)
    clock.now += timedelta(minutes=61)
    assert not signed_in(web)


def test_every_post_needs_the_csrf_token(
    web: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    login = web.post(
        "/login", data={"email": person.email, "password": PASSWORD}, follow_redirects=False
    )
    assert login.status_code == 403
    sign_in(web, person)
    profile = web.post("/profile", data={"name": "Changed"}, follow_redirects=False)
    assert profile.status_code == 403
    wrong = web.post(
        "/profile", data={"name": "Changed", "csrf_token": "x" * 43}, follow_redirects=False
    )
    assert wrong.status_code == 403
    me = web.get("/api/v1/users/me", headers=person.headers).json()
    assert me["name"] != "Changed"


def test_failed_sign_ins_are_limited_per_account(
    web: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    for _ in range(MAX_ACCOUNT_FAILURES):
        assert post_login(web, person.email, "wrong password!").status_code == 401
    refused = post_login(web, person.email, PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.text


def test_failed_sign_ins_are_limited_per_address(
    web: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    for n in range(MAX_ADDRESS_FAILURES):
        post_login(web, f"guess{n}@example.com", "wrong password!")
    assert post_login(web, person.email, PASSWORD).status_code == 429


def test_setting_a_password_ends_sessions_and_deleted_users_cannot_sign_in(
    web: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    sign_in(web, person)
    answer = web.put(
        f"/api/v1/users/{person.id}/password",
        json={"password": "another long password"},
        headers=person.headers,
    )
    assert answer.status_code == 204
    assert not signed_in(web)
    sign_in(web, person, "another long password")
    assert web.delete(f"/api/v1/users/{person.id}", headers=admin_headers()).status_code == 204
    assert not signed_in(web)
    assert post_login(web, person.email, "another long password").status_code == 401


def test_next_only_leads_to_this_site(
    web: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    for target, expected in (
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/incidents?status=all", "/incidents?status=all"),
    ):
        web.cookies.clear()
        token = csrf_of(web.get("/login").text)
        answer = web.post(
            "/login",
            data={"email": person.email, "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == expected
