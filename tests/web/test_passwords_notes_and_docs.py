"""Passwords (API, CLI, reset by e-mail link), incident notes and rule changes in the API,
the test phone's key presses, and the offline /docs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from escalation import service as escalation
from escalation.models import Incident, IncidentStatus
from paging.intake.trigger import Trigger, ingest
from paging.outbox.contact_notices import PASSWORD_RESET
from paging.outbox.models import Notification, NotificationStatus
from paging.providers.log import test_phone
from people import passwords
from people.models import ContactType, User
from store.audit import Actor
from store.base import utcnow
from store.db import Database
from store.errors import Forbidden
from store.settings import Settings
from tests.conftest import admin_headers
from tests.factories import Factory, Person
from tests.web.forms import PASSWORD, csrf_of, give_password, post_login

WATCHBILL = [sys.executable, "-c", "from api.cli import main; main()"]


def test_password_is_set_by_the_user_or_an_admin_only(client: TestClient, factory: Factory) -> None:
    ada, bob = factory.user(), factory.user()
    url = f"/api/v1/users/{ada.id}/password"
    assert client.put(url, json={"password": "ten chars!!"}, headers=ada.headers).status_code == 204
    assert client.put(url, json={"password": "ten chars!!"}, headers=bob.headers).status_code == 403
    assert (
        client.put(url, json={"password": "admin sets"}, headers=admin_headers()).status_code == 204
    )
    short = client.put(url, json={"password": "short"}, headers=ada.headers)
    assert short.status_code == 422 and "password" in short.json()["detail"]
    assert post_login(client, ada.email, "admin sets").status_code == 303


def test_cli_set_password_reads_stdin(tmp_path: Path) -> None:
    env = {"WATCHBILL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*WATCHBILL, *args],
            input=stdin,
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("migrate").returncode == 0
    assert run("user", "create", "--email", "ada@example.com", "--name", "Ada").returncode == 0
    done = run("user", "set-password", "--email", "ada@example.com", stdin="a long password\n")
    assert done.returncode == 0, done.stderr
    assert "password set for ada@example.com" in done.stdout
    database = Database(env["WATCHBILL_DATABASE_URL"])
    with database.transaction() as session:
        user = session.scalar(select(User).where(User.email == "ada@example.com"))
        assert user is not None and passwords.matches(user.password_hash, "a long password")
    database.dispose()
    short = run("user", "set-password", "--email", "ada@example.com", stdin="short\n")
    assert short.returncode == 1 and short.stderr.startswith("error: password:")
    nobody = run("user", "set-password", "--email", "no@example.com", stdin="a long password\n")
    assert nobody.returncode == 1 and "no user with email" in nobody.stderr


def test_password_reset_by_mailed_link_works_once(
    client: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    give_password(database, person)
    token = csrf_of(client.get("/password/forgot").text)
    answer = client.post("/password/forgot", data={"email": person.email, "csrf_token": token})
    assert "on its way" in answer.text
    unknown = client.post("/password/forgot", data={"email": "x@example.com", "csrf_token": token})
    assert unknown.text.count("on its way") == answer.text.count("on its way")  # says nothing
    with database.transaction() as session:
        mails = session.scalars(
            select(Notification).where(Notification.kind == PASSWORD_RESET)
        ).all()
        assert [m.address for m in mails] == [person.email]
        text = str((mails[0].payload or {})["text"])
    link = re.search(r"http://testserver(/password/reset/\S+)", text)
    assert link is not None, text
    form = client.get(link.group(1))
    assert form.status_code == 200 and person.email in form.text
    new = {"password": "brand new password", "password_again": "brand new password"}
    done = client.post(
        link.group(1), data={**new, "csrf_token": csrf_of(form.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert post_login(client, person.email, PASSWORD).status_code == 401
    client.cookies.clear()
    assert post_login(client, person.email, "brand new password").status_code == 303
    client.cookies.clear()
    again = client.get(link.group(1))
    assert again.status_code == 422 and "not valid or was used already" in again.text


def open_incident(database: Database, factory: Factory, person: Person) -> str:
    service = factory.service(person)
    with database.transaction() as session:
        row = escalation.get_service(session, service.id)
        return ingest(session, row, Trigger(title="Disk full"), utcnow()).incident.id


def test_notes_are_added_through_the_api_by_those_who_may_act(
    client: TestClient, factory: Factory, database: Database
) -> None:
    incident_id = open_incident(database, factory, factory.user())
    url = f"/api/v1/incidents/{incident_id}/notes"
    made = client.post(url, json={"text": "Looking into it"}, headers=admin_headers())
    assert made.status_code == 201, made.text
    assert made.json()["kind"] == "note" and made.json()["message"] == "Looking into it"
    outsider = factory.user()
    assert client.post(url, json={"text": "hi"}, headers=outsider.headers).status_code == 403
    empty = client.post(url, json={"text": ""}, headers=admin_headers())
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "text"
    log = client.get(f"/api/v1/incidents/{incident_id}", headers=admin_headers()).json()["log"]
    assert [e["message"] for e in log if e["kind"] == "note"] == ["Looking into it"]


def test_a_rule_s_delay_and_urgency_can_be_changed(client: TestClient, factory: Factory) -> None:
    person, other = factory.user(), factory.user()
    rule = factory.rule(person, factory.contact(person, ContactType.email, "p@example.com"))
    url = f"/api/v1/notification-rules/{rule}"
    changed = client.patch(
        url, json={"delay_seconds": 300, "urgency": "low"}, headers=person.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["delay_seconds"], changed.json()["urgency"]) == (300, "low")
    assert client.patch(url, json={"delay_seconds": 0}, headers=other.headers).status_code == 403


def test_a_key_pressed_on_the_test_phone_acts_like_twilio_s_voice_webhook(
    settings: Settings, factory: Factory, database: Database
) -> None:
    person = factory.user()
    incident_id = open_incident(database, factory, person)
    now = utcnow()
    with database.transaction() as session:
        call = Notification(
            kind="page",
            incident_id=incident_id,
            epoch=0,
            loop=0,
            tier=0,
            user_id=person.id,
            channel="voice",
            address="+14155550100",
            send_at=now,
            status=NotificationStatus.sent,
            sent_at=now,
        )
        session.add(call)
        session.flush()
        call_id = call.id
    member = Actor(user_id=person.id, is_admin=False, label="user")
    with database.transaction() as session:
        try:
            test_phone.press_key(session, settings, member, call_id, "4", now)
        except Forbidden:
            pass
        else:
            raise AssertionError("a member used the test phone")
    with database.transaction() as session:
        said = test_phone.press_key(session, settings, Actor.system("admin"), call_id, "4", now)
    assert "acknowledged" in said.lower()
    with database.transaction() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None and incident.status is IncidentStatus.acknowledged


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"(?:src|href)=[\"']([^\"']+)", page.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    assert "cdn" not in page.text.lower()
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_the_web_ui_s_assets_are_its_own(client: TestClient) -> None:
    login = client.get("/login")
    urls = [u for u in re.findall(r"(?:src|href)=\"([^\"]+)\"", login.text) if u != "#main"]
    assert all(u.startswith("/") for u in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "default-src 'self'" in login.headers["content-security-policy"]


def test_calendar_events_link_to_the_schedule_s_web_page(
    client: TestClient, factory: Factory
) -> None:
    person = factory.user()
    start = "2026-01-05T09:00:00+00:00"
    layer = {
        "name": "Primary",
        "start": start,
        "users": [person.id],
        "rotation": {"handoff": start, "shift_length": 1, "shift_unit": "weeks"},
    }
    made = client.post(
        "/api/v1/schedules",
        json={"name": "Web links", "time_zone": "UTC", "layers": [layer]},
        headers=admin_headers(),
    )
    assert made.status_code == 201, made.text
    feed = client.get(made.json()["ical_url"].removeprefix("http://testserver"))
    assert feed.status_code == 200
    unfolded = feed.text.replace("\r\n ", "")
    assert f"http://testserver/schedules/{made.json()['id']}" in unfolded
    assert "/api/v1/" not in unfolded
