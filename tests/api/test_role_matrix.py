"""Every write route × every kind of actor (the rule in ``people/access.py`` and the README's
role table): the allowed ones get the route's success status, the others 403 problem+json and
no change to the database at all (every row of every table is compared)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from store.db import Database
from store.settings import Settings
from tests.api.role_routes import ROUTES, ROWS
from tests.api.role_world import ACTORS, T0, build, fingerprint

#: Routes whose credential is in the URL or a signature (no bearer token, no roles).
CREDENTIAL_ROUTES = {
    "POST /v2/enqueue",
    "POST /v2/change/enqueue",
    "POST /generic/2010-04-15/create_event.json",
    "POST /integrations/alertmanager/{integration_key}",
    "POST /heartbeats/{token}",
    "POST /webhooks/twilio/sms",
    "POST /webhooks/twilio/voice/{notification_id}",
    "POST /webhooks/twilio/status/{notification_id}",
    "POST /links/{token}",
}


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    app = create_app(settings, database, clock=lambda: T0)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_write_route_role_matrix(client: TestClient, database: Database, route: str) -> None:
    """Refused actors first, all against one world; each allowed actor on a world of its own."""
    spec = ROUTES[route]
    world = build(database)
    for actor in ACTORS:
        if actor in spec.allowed:
            continue
        before = fingerprint(database)
        response = spec.call(client, world, actor)
        assert response.status_code == 403, (actor, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert fingerprint(database) == before, f"{actor}: a refused write changed the database"
    for actor in sorted(spec.allowed):
        response = spec.call(client, build(database), actor)
        assert response.status_code == spec.status, (actor, response.status_code, response.text)


def test_write_routes_without_a_valid_token_are_401(client: TestClient, database: Database) -> None:
    world = build(database)
    world.tokens["nobody"] = "not-a-token"
    before = fingerprint(database)
    for name, spec in sorted(ROUTES.items()):
        response = spec.call(client, world, "nobody")
        assert response.status_code == 401, name
    assert fingerprint(database) == before


def test_the_matrix_covers_every_write_route(client: TestClient) -> None:
    """A new write route fails here until it is given its row (and a line in the README)."""
    document = client.get("/openapi.json").json()
    writes = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    }
    covered = {spec.operation for spec in ROUTES.values()}
    assert covered <= writes, covered - writes
    assert writes - CREDENTIAL_ROUTES == covered, (writes - CREDENTIAL_ROUTES) ^ covered


def readme_role_table() -> dict[str, frozenset[str]]:
    """The README's role table: each row's bold label → the actors it ticks."""
    readme = Path("README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- role table -->")[1]
    rows = [line for line in table.splitlines() if line.startswith("|") and "---" not in line]
    labels = dict(zip((c.strip() for c in rows[0].strip("|").split("|")[1:]), ACTORS, strict=True))
    found: dict[str, frozenset[str]] = {}
    for row in rows[1:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        label = re.match(r"\*\*(.+?)\*\*", cells[0])
        assert label is not None, row
        ticked = zip(labels.values(), cells[1:], strict=True)
        found[label.group(1)] = frozenset(actor for actor, cell in ticked if cell)
    return found


def test_readme_role_table_matches_the_matrix() -> None:
    """The README's role table says the rule in words; the matrix above checks the code."""
    table = readme_role_table()
    for label, allowed in ROWS.items():
        assert table.get(label) == allowed, label
