"""A real Prometheus Alertmanager sends to Watchbill: webhook and PagerDuty receivers.

Starts Debian's ``prometheus-alertmanager`` on loopback (clustering off, a temporary storage
path, one-second grouping) with a ``webhook_configs`` receiver pointing at
``/integrations/alertmanager/{key}`` of one service and a ``pagerduty_configs`` receiver whose
``url`` is our ``/v2/enqueue`` with another service's key. Watchbill itself listens on a real
loopback port (uvicorn in a thread, the paging engine in-process).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from escalation.models import IncidentStatus
from store.db import Database
from store.settings import Settings
from tests.factories import Factory
from tests.paging.intake.conftest import Desk, Svc
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def watchbill(settings: Settings, database: Database, factory: Factory) -> Iterator[Desk]:
    """Watchbill on a real loopback port, engine included; ``desk.client`` talks to it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live = settings.model_copy(update={"public_url": base, "engine_sweep_seconds": 1.0})
    app = create_app(live, database, run_engine=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="watchbill-http", daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10)
    with httpx.Client(base_url=base, timeout=10) as client:
        yield Desk(client=client, database=database, factory=factory)  # type: ignore[arg-type]
    server.should_exit = True
    thread.join(timeout=10)


def config(port: int, webhook: Svc, pagerduty: Svc) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    return {
        "global": {"resolve_timeout": "5s"},
        "route": {
            "receiver": "watchbill",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "watchbill",
                "webhook_configs": [
                    {
                        "url": f"{base}/integrations/alertmanager/{webhook.key}",
                        "send_resolved": True,
                    }
                ],
                "pagerduty_configs": [
                    {
                        "routing_key": pagerduty.key,
                        "url": f"{base}/v2/enqueue",
                        "send_resolved": True,
                        "severity": "critical",
                    }
                ],
            }
        ],
    }


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """(config path, port); the process starts once the test has written the config."""
    if shutil.which(ALERTMANAGER) is None:
        pytest.skip(f"{ALERTMANAGER} is not installed (apt-get install prometheus-alertmanager)")
    yield tmp_path / "alertmanager.yml", free_port()


def start_alertmanager(path: Path, port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    log = (tmp_path / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={path}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError((tmp_path / "alertmanager.log").read_text())
        try:
            return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout=15, interval=0.1)
    return process


def post_alerts(port: int, ends_at: datetime, starts_at: datetime) -> None:
    alerts = [
        {
            "labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical"},
            "annotations": {"summary": "Disk almost full on the database servers"},
            "startsAt": starts_at.isoformat(),
            "endsAt": ends_at.isoformat(),
            "generatorURL": "http://prometheus.example.com/graph",
        }
        for instance in ("db-1:9100", "db-2:9100")
    ]
    response = httpx.post(f"http://127.0.0.1:{port}/api/v2/alerts", json=alerts, timeout=5)
    assert response.status_code == 200, response.text


def test_alerts_page_and_resolving_them_resolves_the_incidents(
    watchbill: Desk, alertmanager: tuple[Path, int], tmp_path: Path
) -> None:
    desk = watchbill
    webhook_svc, pagerduty_svc = desk.service(), desk.service()
    path, am_port = alertmanager
    app_port = int(str(desk.client.base_url).rsplit(":", 1)[1].rstrip("/"))
    path.write_text(json.dumps(config(app_port, webhook_svc, pagerduty_svc)))
    process = start_alertmanager(path, am_port, tmp_path)
    try:
        started = time.monotonic()
        starts_at = datetime.now(UTC) - timedelta(seconds=5)
        post_alerts(am_port, starts_at + timedelta(hours=1), starts_at)

        [hooked] = wait_until(lambda: desk.incidents(webhook_svc.id), timeout=15)
        [enqueued] = wait_until(lambda: desk.incidents(pagerduty_svc.id), timeout=15)

        def paged(incident_id: str) -> bool:
            return any(p.status.value == "sent" for p in desk.pages(incident_id))

        wait_until(lambda: paged(hooked.id) and paged(enqueued.id), timeout=5)

        # Under load Alertmanager may flush the group before it holds both alerts and send the
        # second one a group_interval later; the open incident's details then follow the group.
        def instances() -> list[str]:
            [now] = desk.incidents(webhook_svc.id)
            return sorted(a["labels"]["instance"] for a in (now.details or {})["alerts"])

        wait_until(lambda: instances() == ["db-1:9100", "db-2:9100"], timeout=5)
        [hooked] = desk.incidents(webhook_svc.id)
        assert hooked.title == "Disk almost full on the database servers"
        assert hooked.severity.value == "critical"
        assert enqueued.severity.value == "critical"
        assert "DiskFull" in enqueued.title
        # Both paths key the group the same way: SHA-256 of Alertmanager's group key.
        assert hooked.dedup_key == enqueued.dedup_key and len(hooked.dedup_key) == 64

        post_alerts(am_port, datetime.now(UTC) - timedelta(seconds=1), starts_at)

        def resolved() -> bool:
            return all(
                i.status is IncidentStatus.resolved
                for svc in (webhook_svc, pagerduty_svc)
                for i in desk.incidents(svc.id)
            )

        wait_until(resolved, timeout=15)
        assert len(desk.incidents(webhook_svc.id)) == 1
        assert len(desk.incidents(pagerduty_svc.id)) == 1
        assert "resolved" in desk.kinds(hooked.id) and "resolved" in desk.kinds(enqueued.id)
        assert time.monotonic() - started < 30
    finally:
        process.terminate()
        process.wait(timeout=10)
