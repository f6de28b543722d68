"""The profile page's forms (plain HTTP): quiet hours, rules, tokens, contact methods, calendar;
and that another person's things cannot be changed by forging a form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from people.models import ApiToken, ContactType, NotificationRule
from store.db import Database
from tests.factories import Factory
from tests.web.forms import csrf_of, give_password, sign_in


def post(client: TestClient, path: str, **data: str) -> tuple[int, str]:
    token = csrf_of(client.get("/profile").text)
    answer = client.post(path, data={**data, "csrf_token": token})
    return answer.status_code, answer.text


def test_quiet_hours_rules_and_contact_methods(
    client: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user(time_zone="Europe/Paris")
    give_password(database, person)
    sign_in(client, person)
    status, page = post(
        client,
        "/profile",
        name="Night Owl",
        time_zone="Asia/Tokyo",
        quiet_start="22:00",
        quiet_end="07:00",
    )
    assert status == 200 and "Saved." in page
    me = client.get("/api/v1/users/me", headers=person.headers).json()
    assert (me["name"], me["time_zone"], me["quiet_start"]) == ("Night Owl", "Asia/Tokyo", "22:00")
    status, page = post(client, "/profile", name="Night Owl", time_zone="Mars/Olympus")
    assert status == 422 and "unknown time zone" in page

    cm = factory.contact(person, ContactType.email, "owl@example.com")
    status, page = post(
        client, "/profile/rules", contact_method_id=cm, delay_minutes="5", urgency="high"
    )
    assert status == 200 and "Rule added." in page
    with database.transaction() as session:
        rule = session.scalars(
            select(NotificationRule).where(NotificationRule.user_id == person.id)
        ).one()
        rule_id = rule.id
        assert rule.delay_seconds == 300
    status, _ = post(client, f"/profile/rules/{rule_id}", delay_minutes="1.5", urgency="low")
    assert status == 200
    rules = client.get(f"/api/v1/users/{person.id}/notification-rules", headers=person.headers)
    assert [(r["delay_seconds"], r["urgency"]) for r in rules.json()["items"]] == [(90, "low")]
    status, page = post(client, f"/profile/rules/{rule_id}/delete")
    assert "Rule removed." in page
    status, page = post(client, f"/profile/contact-methods/{cm}/delete")
    assert "Removed." in page and "owl@example.com" not in page.split("Contact methods")[1]


def test_a_token_is_shown_once_and_can_be_revoked(
    client: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    sign_in(client, person)
    status, page = post(client, "/profile/tokens", name="my scripts")
    secret = re.search(r'id="new-token">(wb_[^<]+)<', page)
    assert status == 200 and secret is not None
    assert (
        client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {secret.group(1)}"}
        ).status_code
        == 200
    )
    assert secret.group(1) not in client.get("/profile").text  # shown only once
    with database.transaction() as session:
        token_id = session.scalars(
            select(ApiToken.id).where(ApiToken.user_id == person.id, ApiToken.name == "my scripts")
        ).one()
    status, page = post(client, f"/profile/tokens/{token_id}/revoke")
    assert "Token revoked." in page
    assert (
        client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {secret.group(1)}"}
        ).status_code
        == 401
    )


def test_calendar_buttons_and_a_new_address(
    client: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    sign_in(client, person)
    page = client.get("/profile").text
    feed = client.get("/api/v1/users/me", headers=person.headers).json()
    assert feed["webcal_url"] in page and feed["ical_url"] in page
    post(client, "/profile/calendar/rotate")
    assert (
        client.get("/api/v1/users/me", headers=person.headers).json()["ical_url"]
        != feed["ical_url"]
    )


def test_someone_else_s_contact_method_or_rule_cannot_be_touched(
    client: TestClient, factory: Factory, database: Database
) -> None:
    victim, attacker = factory.user(), factory.user()
    give_password(database, attacker)
    cm = factory.contact(victim, ContactType.email, "victim@example.com")
    rule = factory.rule(victim, cm)
    sign_in(client, attacker)
    for path in (
        f"/profile/contact-methods/{cm}/delete",
        f"/profile/contact-methods/{cm}/test",
        f"/profile/rules/{rule}/delete",
    ):
        status, _ = post(client, path)
        assert status == 403, path
    methods = client.get(f"/api/v1/users/{victim.id}/contact-methods", headers=victim.headers)
    assert [m["address"] for m in methods.json()["items"]] == ["victim@example.com"]
