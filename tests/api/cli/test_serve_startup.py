"""``watchbill serve`` as a new user starts it: the public URL it hands out, what it says at
start, a busy port, JSON logs. Real processes, real HTTP on loopback."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.cli import startup
from store.db import Database
from store.settings import Settings
from tests.waiting import wait_until

WATCHBILL = [sys.executable, "-c", "from api.cli import main; main()"]
TOKEN = "startup-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    env.update(WATCHBILL_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}")
    env.update(WATCHBILL_ADMIN_TOKEN=TOKEN, **extra)
    return env


@dataclass
class Served:
    base: str
    process: subprocess.Popen[str]
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return httpx.request(method, f"{self.base}/api/v1{path}", headers=headers, **kwargs)  # type: ignore[arg-type]


@contextmanager
def _serve(tmp_path: Path, port: int, **env: str) -> Iterator[Served]:
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*WATCHBILL, "serve", "--port", str(port)],
            env=_env(tmp_path, **env),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    served = Served(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"serve did not come up:\n{served.log}")
        yield served
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with _serve(tmp_path, _free_port()) as running:
        yield running


def _page_someone(served: Served) -> tuple[str, str]:
    """A responder paged by SMS and e-mail (no provider: the log channel); (incident id,
    the responder's id)."""
    user = served.api(
        "POST",
        "/users",
        json={"name": "Ada", "email": "ada@example.com", "time_zone": "UTC", "role": "member"},
    ).json()
    for kind, address in (("sms", "+12015550101"), ("email", "ada@example.com")):
        method = served.api(
            "POST", f"/users/{user['id']}/contact-methods", json={"type": kind, "address": address}
        ).json()
        rule = {"contact_method_id": method["id"], "delay_seconds": 0}
        assert served.api("POST", f"/users/{user['id']}/notification-rules", json=rule).is_success
    tier = {"delay_seconds": 600, "targets": [{"type": "user", "id": user["id"]}]}
    policy = served.api("POST", "/escalation-policies", json={"name": "P", "tiers": [tier]}).json()
    service = served.api(
        "POST", "/services", json={"name": "Checkout", "escalation_policy_id": policy["id"]}
    ).json()
    incident = served.api(
        "POST", "/incidents", json={"service_id": service["id"], "title": "Checkout down"}
    ).json()
    return incident["id"], user["id"]


def test_the_public_url_follows_the_port_everywhere_it_is_handed_out(served: Served) -> None:
    _, user_id = _page_someone(served)
    user = served.api("GET", f"/users/{user_id}").json()
    assert user["ical_url"].startswith(f"{served.base}/calendars/users/")
    assert user["webcal_url"].startswith(f"webcal://{served.base.removeprefix('http://')}/")
    wait_until(lambda: served.log.count("watchbill.pages") == 2, timeout=10)
    pages = [line for line in served.log.splitlines() if "watchbill.pages" in line]
    sms = next(line for line in pages if "page by sms" in line)
    assert any("page by email" in line for line in pages)
    assert f"{served.base}/l/" in sms  # the SMS link
    assert f"Acknowledge: {served.base}/links/" in served.log  # the e-mail's links (its text)
    assert "8080" not in served.log


def test_start_up_says_where_things_are(served: Served, tmp_path: Path) -> None:
    log = served.log
    assert f"public URL: {served.base} (from --host/--port;" in log
    assert f"database: SQLite file {tmp_path / 'serve.db'}" in log
    assert "there was no database file: this is a new, empty one" in log
    assert "pages by sms, voice, email go to the log channel" in log
    assert f"listening on 127.0.0.1:{served.base.rsplit(':', 1)[1]}" in log


def test_a_busy_port_fails_at_once_before_migrating(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [*WATCHBILL, "serve", "--port", str(port)],
            env=_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use (another watchbill "
        "serve?); stop it or choose another --port"
    )
    assert "Running upgrade" not in result.stderr  # nothing was migrated
    assert not (tmp_path / "serve.db").exists()
    assert time.monotonic() - started < 15


def test_json_logs_are_one_object_a_line_with_the_ids(tmp_path: Path) -> None:
    with _serve(tmp_path, _free_port(), WATCHBILL_LOG_FORMAT="json") as served:
        incident_id, _ = _page_someone(served)
        wait_until(lambda: served.log.count('"logger": "watchbill.pages"') == 2, timeout=10)
        records = [json.loads(line) for line in served.log.splitlines() if line.strip()]
        assert {"time", "level", "logger", "message"} <= set(records[0])
        pages = [r for r in records if r["logger"] == "watchbill.pages"]
        assert {r["incident_id"] for r in pages} == {incident_id}
        assert all(len(r["notification_id"]) == 32 for r in pages)
        assert any(r["logger"] == "uvicorn.access" for r in records)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_twilio_with_a_loopback_or_plain_http_public_url_is_warned_about(tmp_path: Path) -> None:
    twilio = {
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_auth_token": SecretStr("secret"),
        "twilio_from": "+12015550100",
    }
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    loopback = startup.report(
        _settings(public_url="http://127.0.0.1:8080", **twilio),
        database,
        live_channels={"sms", "voice"},
        public_url_from_listen=False,
    )
    warnings = [line.text for line in loopback if line.level == logging.WARNING]
    assert any("is a loopback address: Twilio cannot reach its webhooks" in w for w in warnings)
    assert any("is plain http: use https" in w for w in warnings)
    infos = [line.text for line in loopback if line.level == logging.INFO]
    assert "pages: sms by Twilio from +12015550100, voice by Twilio from +12015550100" in infos
    assert any(t.startswith("pages by email go to the log channel") for t in infos)
    public = startup.report(
        _settings(public_url="https://oncall.example.com", **twilio),
        database,
        live_channels={"sms", "voice"},
        public_url_from_listen=False,
    )
    assert [line for line in public if line.level == logging.WARNING] == []
    unset = startup.report(_settings(), database, live_channels=set(), public_url_from_listen=False)
    assert any(
        line.level == logging.WARNING and "set WATCHBILL_PUBLIC_URL" in line.text for line in unset
    )
    database.dispose()


def test_the_public_url_of_a_wildcard_address_names_this_machine() -> None:
    settings = startup.with_public_url(_settings(), "0.0.0.0", 9000)
    assert settings.public_url == f"http://{socket.gethostname()}:9000"
    assert startup.with_public_url(_settings(), "::1", 9000).public_url == "http://[::1]:9000"
    chosen = _settings(public_url="https://oncall.example.com/")
    assert startup.with_public_url(chosen, "127.0.0.1", 9000).public_url == (
        "https://oncall.example.com"
    )


def test_a_bad_setting_stops_any_command_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*WATCHBILL, "version"],
        env=_env(tmp_path, WATCHBILL_LOG_FORMAT="xml"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == "error: WATCHBILL_LOG_FORMAT: must be one of text or json\n"
