"""A service with a settable clock, and helpers to build schedules through the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from store.db import Database
from store.settings import Settings
from tests.conftest import admin_headers
from tests.factories import Factory, Person

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Api:
    client: TestClient
    factory: Factory
    clock: Clock
    headers: dict[str, str] = field(default_factory=admin_headers)

    def call(
        self,
        method: str,
        path: str,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        response = self.client.request(
            method, f"/api/v1{path}", headers=headers or self.headers, **kwargs
        )
        if status is not None:
            assert response.status_code == status, response.text
        return response.json() if response.content else None

    def get(self, path: str, *, status: int = 200, **params: Any) -> Any:
        return self.call("GET", path, status, params=params)

    def post(self, path: str, body: dict[str, Any], status: int = 201) -> Any:
        return self.call("POST", path, status, json=body)

    def users(self, *names: str) -> list[Person]:
        return [self.factory.user(name=name) for name in names]

    def schedule(
        self, layers: list[dict[str, Any]], time_zone: str = "UTC", **extra: Any
    ) -> dict[str, Any]:
        body = {"name": "Primary", "time_zone": time_zone, "layers": layers, **extra}
        result: dict[str, Any] = self.post("/schedules", body)
        return result


def layer(
    users: list[str],
    handoff: str,
    *,
    length: int = 1,
    unit: str = "days",
    start: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": extra.pop("name", "Layer"),
        "start": start or handoff,
        "users": users,
        "rotation": {"handoff": handoff, "shift_length": length, "shift_unit": unit},
        **extra,
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(settings: Settings, database: Database, factory: Factory, clock: Clock) -> Iterator[Api]:
    app = create_app(settings, database, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client=client, factory=factory, clock=clock)


Row = tuple[datetime, datetime, str, int | None, str | None]


def shifts(items: list[dict[str, Any]]) -> list[Row]:
    """API shifts as comparable tuples (start, end, user_id, layer, override_id)."""
    return [
        (
            datetime.fromisoformat(s["start"]),
            datetime.fromisoformat(s["end"]),
            s["user_id"],
            s["layer"],
            s["override_id"],
        )
        for s in items
    ]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)
