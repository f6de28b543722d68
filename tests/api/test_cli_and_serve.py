"""The command line and a real ``watchbill serve`` process, as a new user runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

WATCHBILL = [sys.executable, "-c", "from api.cli import main; main()"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    env["WATCHBILL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env.update(extra)
    return env


def _run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WATCHBILL, *args],
        env=_env(tmp_path, **extra),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = _run(tmp_path, "version")
    assert result.returncode == 0
    assert result.stdout.strip() == "0.1.0"


def test_token_create_for_unknown_user_is_one_line_error(tmp_path: Path) -> None:
    result = _run(tmp_path, "token", "create", "--name", "ci", "--user", "nobody@example.com")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no user with email 'nobody@example.com'"
    assert "Traceback" not in result.stderr


def test_user_create_with_bad_zone_is_one_line_error(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        "user",
        "create",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--time-zone",
        "Nowhere/Land",
    )
    assert result.returncode == 1
    assert "unknown time zone" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_reports_revision(tmp_path: Path) -> None:
    result = _run(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("database at revision ")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    process = subprocess.Popen(
        [*WATCHBILL, "serve", "--port", str(port)],
        env=_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            process.kill()
            pytest.fail(f"serve did not come up: {process.communicate()[1]}")
        yield base, tmp_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_on_embedded_default_is_healthy_and_documents_routes(
    served: tuple[str, Path],
) -> None:
    base, tmp_path = served
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/api/v1/users" in spec["paths"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") or operation.get("description"), (path, method)
    assert httpx.get(f"{base}/docs").status_code == 200
    assert (tmp_path / "cli.db").exists()


def test_cli_token_works_against_the_running_service(served: tuple[str, Path]) -> None:
    base, tmp_path = served
    made = _run(
        tmp_path, "user", "create", "--email", "root@example.com", "--name", "Root", "--admin"
    )
    assert made.returncode == 0, made.stderr
    token = _run(tmp_path, "token", "create", "--name", "ops", "--user", "root@example.com")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    me = httpx.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["email"] == "root@example.com"
