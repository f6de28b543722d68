"""In-process fixtures for the desk's pages: the app with a settable clock, people signed in
through the real sign-in form (each with their own cookies), and schedules made through the
services. Browser tests (real Chromium) use ``tests.web.conftest`` instead."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from people import passwords
from people.models import TeamRole, UserRole
from schedules import service as schedules
from schedules.specs import LayerSpec, RestrictionSpec
from store.db import Database
from store.settings import Settings
from tests.factories import SYSTEM, Factory, Person

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: A Tuesday, 10:00 in Berlin.
START = datetime(2025, 12, 9, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Browser:
    """One person's cookies against the app (what a browser keeps), and their CSRF token."""

    client: TestClient
    person: Person
    csrf: str = ""

    # The answers are the TestClient's (httpx2 or httpx, whichever Starlette uses).
    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | list[tuple[str, str]], **kwargs: Any) -> Any:
        """A form post (repeated fields in the order given) with this person's CSRF token."""
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        body = urlencode([*pairs, ("csrf_token", self.csrf)])
        response = self.client.post(
            path,
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
            **kwargs,
        )
        return response

    def flash(self, response: httpx.Response) -> str:
        """The one-time message a redirect carries (shown on the next page)."""
        page = self.get(response.headers["location"])
        found = re.search(r'<p class="flash" role="status">(.*?)</p>', page.text, re.S)
        return found.group(1).strip() if found else ""


@dataclass
class Desk:
    app: FastAPI
    database: Database
    factory: Factory
    clock: Clock
    clients: list[TestClient] = field(default_factory=list)

    def person(
        self, name: str | None = None, *, admin: bool = False, time_zone: str = "Europe/Berlin"
    ) -> Person:
        role = UserRole.admin if admin else UserRole.member
        person = self.factory.user(role=role, name=name, time_zone=time_zone)
        with self.database.transaction() as session:
            passwords.set_password(session, SYSTEM, person.id, PASSWORD)
        return person

    def sign_in(self, person: Person) -> Browser:
        client = TestClient(self.app, raise_server_exceptions=True)
        self.clients.append(client)
        form = client.get("/login")
        token = CSRF.search(form.text)
        assert token is not None
        answer = client.post(
            "/login",
            data={"email": person.email, "password": PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        home = client.get("/schedules")
        token = CSRF.search(home.text)
        assert token is not None
        return Browser(client, person, token.group(1))

    def may_sign_in(self, person: Person) -> bool:
        with TestClient(self.app) as client:
            form = client.get("/login")
            token = CSRF.search(form.text)
            assert token is not None
            answer = client.post(
                "/login",
                data={"email": person.email, "password": PASSWORD, "csrf_token": token.group(1)},
                follow_redirects=False,
            )
            return bool(answer.status_code == 303)

    def team(self, *members: tuple[Person, TeamRole]) -> str:
        team_id = self.factory.team()
        for person, role in members:
            self.factory.member(team_id, person, role)
        return team_id

    def schedule(
        self,
        team_id: str | None,
        layers: list[LayerSpec],
        name: str = "Primary",
        zone: str = "Europe/Berlin",
    ) -> str:
        with self.database.transaction() as session:
            return schedules.create_schedule(
                session, SYSTEM, name=name, time_zone=zone, team_id=team_id, layers=layers
            ).id


def weekly(
    users: list[str],
    *,
    name: str = "Weekly",
    days: tuple[str, ...] | None = None,
    start: datetime = datetime(2025, 12, 1, 8, 0, tzinfo=UTC),
) -> LayerSpec:
    """Monday 09:00 Berlin handoffs; with ``days``, on call 09:00-17:00 those days only."""
    restrictions = (RestrictionSpec("09:00", "17:00", days),) if days else ()
    return LayerSpec(
        name=name,
        start=start,
        users=tuple(users),
        handoff=start,
        shift_length=1,
        shift_unit="weeks",
        restrictions=restrictions,
    )


def daily(
    users: list[str],
    *,
    name: str = "Daily",
    start: datetime = datetime(2025, 12, 1, 8, 0, tzinfo=UTC),
) -> LayerSpec:
    return LayerSpec(
        name=name,
        start=start,
        users=tuple(users),
        handoff=start,
        shift_length=1,
        shift_unit="days",
    )


@pytest.fixture
def desk(settings: Settings, database: Database, factory: Factory) -> Iterator[Desk]:
    clock = Clock()
    app = create_app(settings, database, clock=clock)
    found = Desk(app, database, factory, clock)
    yield found
    for client in found.clients:
        client.close()


class _FormReader(HTMLParser):
    """The fields a browser would post from one form (inputs, checked boxes, selects)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        if tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self.fields.extend((self._select, v) for v in chosen)
            self._select = None


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    reader = _FormReader(form_id)
    reader.feed(html)
    return [(k, v) for k, v in reader.fields if k != "csrf_token"]


def replaced(fields: list[tuple[str, str]], **values: str | list[str]) -> list[tuple[str, str]]:
    """``fields`` with every field named in ``values`` set (a list: repeated in that order)."""
    out = [(k, v) for k, v in fields if k not in values]
    for key, value in values.items():
        out.extend((key, v) for v in ([value] if isinstance(value, str) else value))
    return out
