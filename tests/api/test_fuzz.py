"""Fuzzing every route with schemathesis (bounded, seeded): no server error, and every answer
as documented (status, content type, body schema), on SQLite and PostgreSQL.

Each operation runs against a fresh database holding a small organisation
(``tests/api/role_world.py``), as the bootstrap admin, with the path's ids pointing at real
rows (a random id only ever finds a 404) while bodies and queries are generated from the
schema, valid ones and invalid ones. ``WATCHBILL_FUZZ_EXAMPLES`` raises the number of
generated cases per operation for a longer run by hand; CI keeps the default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, seed
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from api.app import create_app
from escalation.models import Service
from store.db import Database
from store.settings import Settings
from tests.api.role_world import T0, World, build
from tests.conftest import ADMIN_TOKEN, admin_headers
from tests.dbtools import backends, own_database

SEED = 20260313
EXAMPLES = int(os.environ.get("WATCHBILL_FUZZ_EXAMPLES", "3"))
PHASES = os.environ.get("WATCHBILL_FUZZ_PHASES", "fuzzing").split(",")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
#: Path parameters → the world's row they name (the rest stay generated).
REAL_IDS = {
    "user_id": "self",
    "team_id": "team",
    "schedule_id": "schedule",
    "layer_id": "layer",
    "override_id": "override",
    "import_id": "import",
    "policy_id": "policy",
    "service_id": "service",
    "heartbeat_id": "heartbeat",
    "window_id": "future_window",
    "incident_id": "incident",
    "cm_id": "email",
    "rule_id": "rule",
    "token_id": "spare_token",
}

schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(Settings(_env_file=None, database_url="sqlite://")),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "phases": {
                phase: {"enabled": phase in PHASES} for phase in ("examples", "coverage", "fuzzing")
            },
            # Unknown query parameters are ignored (as most APIs do), so none are generated.
            "generation": {
                "deterministic": True,
                "allow-x00": True,
                "allow-extra-parameters": False,
            },
        }
    ),
)


def _as_httpx(kwargs: dict[str, Any]) -> None:
    """Schemathesis speaks ``requests``; the test client is httpx: raw bodies are ``content``
    and multipart form values must be text."""
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    if kwargs.get("files"):
        kwargs["files"] = [
            (name, (part[0], part[1] if isinstance(part[1], bytes | str) else str(part[1])))
            for name, part in kwargs["files"]
        ]


@pytest.fixture(scope="module", params=backends())
def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, World, str]]:
    """One database and app for the whole run (per backend and worker): operations leave
    their changes to the next ones, which is fine: no state may lead to a server error."""
    with own_database(request.param, tmp_path_factory.mktemp("fuzz")) as url:
        database = Database(url)
        settings = Settings(
            _env_file=None,
            database_url=url,
            admin_token=SecretStr(ADMIN_TOKEN),
            public_url="http://testserver",
        )
        app = create_app(settings, database, clock=lambda: T0)
        with TestClient(app, raise_server_exceptions=False) as client:
            world = build(database)
            with database.transaction() as session:
                key = session.scalar(
                    select(Service.integration_key).where(Service.id == world.ids["service"])
                )
            assert key is not None
            yield client, world, key
        database.dispose()


@schema.parametrize()
@seed(SEED)
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_answers_as_documented(
    case: schemathesis.Case[Any], org: tuple[TestClient, World, str]
) -> None:
    client, world, key = org
    for name in case.path_parameters or {}:
        if name in REAL_IDS:
            case.path_parameters[name] = world.ids[REAL_IDS[name]]
        elif name == "integration_key":
            case.path_parameters[name] = key
    kwargs: dict[str, Any] = case.as_transport_kwargs(
        base_url="http://testserver", headers=admin_headers()
    )
    _as_httpx(kwargs)
    request = client.build_request(**kwargs)
    request.read()  # multipart bodies are streams: read them so the checks can see them
    case.validate_response(client.send(request), checks=CHECKS)
