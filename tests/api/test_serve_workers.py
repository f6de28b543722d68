"""``watchbill serve --workers N``: several API processes, one engine beside them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from paging.models import Notification, NotificationStatus
from people.models import ContactType
from store.db import Database
from tests.factories import Factory
from tests.waiting import wait_until

WATCHBILL = [sys.executable, "-c", "from api.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    # A long sweep: a page that goes out promptly was woken by NOTIFY, not found by the sweep.
    env.update(WATCHBILL_DATABASE_URL=url, WATCHBILL_ENGINE_SWEEP_SECONDS="60")
    return env


def test_serve_with_several_workers_on_sqlite_is_refused_in_one_line(tmp_path: Path) -> None:
    env = _env(f"sqlite:///{tmp_path / 'w.db'}")
    result = subprocess.run(
        [*WATCHBILL, "serve", "--workers", "2", "--port", str(_free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: --workers above 1 needs PostgreSQL")
    assert "Traceback" not in result.stderr


def _service_key(database: Database, factory: Factory) -> str:
    person = factory.user()
    cm = factory.contact(person, ContactType.sms, "+12015550142")
    factory.rule(person, cm, 0)
    return factory.service(person, name="api").integration_key


def test_events_taken_by_worker_processes_are_paged_by_the_engine_beside_them(
    database_url: str, database: Database, factory: Factory, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several API processes need PostgreSQL")
    key = _service_key(database, factory)
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*WATCHBILL, "serve", "--workers", "2", "--port", str(port)],
        env=_env(database_url),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        sent_at = []
        for n in range(3):  # connections land on either worker; 3 pages stay below the burst
            began = time.monotonic()
            answer = httpx.post(
                f"{base}/v2/enqueue",
                json={
                    "routing_key": key,
                    "event_action": "trigger",
                    "dedup_key": f"disk-{n}",
                    "payload": {"summary": f"disk {n} full", "source": "db1", "severity": "error"},
                },
            )
            assert answer.status_code == 202, answer.text

            def paged(expected: int = n + 1) -> bool:
                with database.transaction() as session:
                    sent = session.scalar(
                        select(func.count())
                        .select_from(Notification)
                        .where(Notification.status == NotificationStatus.sent)
                    )
                return sent == expected

            wait_until(paged, timeout=10)
            sent_at.append(time.monotonic() - began)
        # Woken through NOTIFY from the worker processes, not by the 60 s sweep.
        assert max(sent_at) < 5, sent_at
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert process.returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]
