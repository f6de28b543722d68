"""Signing in with a plain HTTP client (TestClient): read the form's CSRF token, post it."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from people import passwords
from store.db import Database
from tests.factories import SYSTEM, Person

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, html[:500]
    return found.group(1)


def give_password(database: Database, person: Person, password: str = PASSWORD) -> None:
    with database.transaction() as session:
        passwords.set_password(session, SYSTEM, person.id, password)


def post_login(client: TestClient, email: str, password: str) -> Any:
    """The TestClient's answer (httpx2 or httpx, whichever Starlette uses)."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def sign_in(client: TestClient, person: Person, password: str = PASSWORD) -> None:
    answer = post_login(client, person.email, password)
    assert answer.status_code == 303, answer.text
