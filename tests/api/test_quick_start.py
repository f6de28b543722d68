"""The README's quick start, as a new user follows it: start the service, ``watchbill demo``,
then the three commands the demo prints, exactly as printed (real processes, loopback only).

Two things differ from a new user's machine, and only those: the install step is the test's own
environment (a fresh ``pip install`` would need the network), linked in as ``.venv`` in an empty
folder; and the service listens on a free port rather than 8080 (``--port``, and
``WATCHBILL_PUBLIC_URL`` for the demo so that it prints that address).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ["python3 -m venv .venv", ".venv/bin/pip install -q ."]


def _quick_start_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def new_user(tmp_path: Path) -> Path:
    """An empty folder whose ``.venv/bin/watchbill`` is this environment's."""
    installed = Path(sys.executable).parent / "watchbill"
    assert installed.exists(), "the watchbill entry point is installed with the package"
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "watchbill").symlink_to(installed)
    return tmp_path


@pytest.fixture
def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}


@pytest.fixture
def serving(new_user: Path, env: dict[str, str]) -> Iterator[tuple[int, Path]]:
    first = next(b for b in _quick_start_blocks() if "watchbill serve" in b)
    steps = [step.strip() for step in first.split("&&")]
    assert steps[:2] == INSTALL and len(steps) == 3, steps
    port = _free_port()
    log = new_user / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", "-c", f"{steps[2]} --port {port}"],
            cwd=new_user,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"watchbill serve did not come up:\n{log.read_text()}")
        yield port, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def _printed_commands(demo_output: str) -> list[str]:
    lines = demo_output.splitlines()
    commands = []
    for number in ("1", "2", "3"):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"  {number}. "))
        commands.append(lines[at + 1].strip())
    return commands


def test_quick_start_demo_and_the_three_printed_commands(
    serving: tuple[int, Path], new_user: Path, env: dict[str, str]
) -> None:
    port, log = serving
    demo_block = next(b for b in _quick_start_blocks() if "watchbill demo" in b)
    demo = _shell(demo_block, new_user, {**env, "WATCHBILL_PUBLIC_URL": f"http://127.0.0.1:{port}"})
    assert demo.returncode == 0, demo.stderr
    trigger, watch, acknowledge = _printed_commands(demo.stdout)
    assert trigger.startswith(f"curl -sS -X POST http://127.0.0.1:{port}/v2/enqueue ")

    sent = _shell(trigger, new_user, env)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["status"] == "success"

    deadline = time.monotonic() + 15
    while True:  # the page goes out within a second or so: watch until it is there
        shown = _shell(watch, new_user, env)
        assert shown.returncode == 0, shown.stderr
        if "page_logged" in shown.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "page_logged" in shown.stdout and "Reply 1a to ack" in shown.stdout, shown.stdout
    assert "Disk 95% full on db-1" in shown.stdout

    oncall = _shell(f"{watch.split(' incidents ')[0]} oncall", new_user, env)
    assert oncall.returncode == 0, oncall.stderr
    paged = demo.stdout.split("On call now in Payments primary: ", 1)[1].splitlines()[0]
    assert re.search(rf"Payments primary\s+{paged}\s", oncall.stdout), oncall.stdout

    acked = _shell(acknowledge, new_user, env)
    assert acked.returncode == 0, acked.stderr
    assert "#1 acknowledged by" in acked.stdout
    after = _shell(watch, new_user, env)
    assert "status    acknowledged" in after.stdout

    pages = [line for line in log.read_text().splitlines() if "watchbill.pages" in line]
    assert len(pages) == 1 and "page by sms" in pages[0]  # printed once, with its codes
    assert "Reply 1a to ack, 1r to resolve, 1e to escalate" in pages[0]


def test_the_readme_api_examples_work(
    serving: tuple[int, Path], new_user: Path, env: dict[str, str]
) -> None:
    port, _ = serving
    api_block = next(b for b in _quick_start_blocks() if "/healthz" in b)
    answer = _shell(api_block.replace("127.0.0.1:8080", f"127.0.0.1:{port}"), new_user, env)
    assert answer.returncode == 0, answer.stderr
    health, created = answer.stdout.split("}", 1)
    assert json.loads(health + "}") == {"status": "ok"}
    assert json.loads(created)["email"] == "lin@example.com"
