"""``watchbill serve --workers N``: several API processes, one engine beside them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from paging.outbox.models import Notification, NotificationStatus
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


def _start_serve(url: str, port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    """``watchbill serve --workers 2``, answering /healthz."""
    log = (tmp_path / "serve.log").open("ab")
    process = subprocess.Popen(
        [*WATCHBILL, "serve", "--workers", "2", "--port", str(port)],
        env=_env(url),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    _wait_healthy(process, port, tmp_path)
    return process


def _wait_healthy(process: subprocess.Popen[bytes], port: int, tmp_path: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
        time.sleep(0.1)


def _workers(parent: int) -> list[int]:
    """The API worker processes of a ``serve`` process (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        spawned = b"multiprocessing.spawn" in command and b"resource_tracker" not in command
        if ppid == parent and spawned:
            found.append(int(entry.name))
    return found


def _connections_held(pid: int, port: int) -> int:
    """Established TCP connections to ``port`` whose socket ``pid`` holds (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                held += 1
    return held


def test_connections_are_spread_over_the_workers_and_a_dead_worker_is_replaced(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several API processes need PostgreSQL")
    port = _free_port()
    process = _start_serve(database_url, port, tmp_path)
    try:
        wait_until(lambda: len(_workers(process.pid)) == 2)
        workers = _workers(process.pid)
        # Monitoring tools keep connections open: 16 at once must not all land on one worker.
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(16)]
        try:
            for client in clients:
                assert client.get("/healthz").status_code == 200
            held = {pid: _connections_held(pid, port) for pid in workers}
            assert sum(held.values()) == 16 and all(held.values()), held
        finally:
            for client in clients:
                client.close()

        os.kill(workers[0], signal.SIGKILL)
        replaced = wait_until(
            lambda: (
                (found := _workers(process.pid)) and len(found) == 2 and workers[0] not in found
            ),
            timeout=30,
        )
        assert replaced
        for _ in range(10):  # whichever worker a new connection reaches answers
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]


def test_serve_workers_on_a_port_in_use_is_one_line_error(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several API processes need PostgreSQL")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*WATCHBILL, "serve", "--workers", "2", "--port", str(port), "--no-engine"],
            env=_env(database_url),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: cannot listen on 127.0.0.1:{port}")
    )
    assert "Traceback" not in result.stderr


def test_events_taken_by_worker_processes_are_paged_by_the_engine_beside_them(
    database_url: str, database: Database, factory: Factory, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several API processes need PostgreSQL")
    key = _service_key(database, factory)
    port = _free_port()
    process = _start_serve(database_url, port, tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
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
    assert process.returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]
