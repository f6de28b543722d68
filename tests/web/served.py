"""A real ``watchbill serve`` process for browser tests, with the Twilio fake and a mailbox.

One server per database backend (and per configuration) is started for the test session and
shared by its tests; each test makes its own people and services, so tests stay independent.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import select

from escalation import service as escalation
from escalation.models import Incident, TargetType
from paging.intake.trigger import Trigger, ingest
from people import passwords
from people.models import ContactType, TeamRole, UserRole
from schedules import service as schedules
from schedules.specs import LayerSpec
from store.base import utcnow
from store.db import Database
from tests import dbtools
from tests.factories import SYSTEM, Factory, Person
from tests.fakes.twilio_fake import TwilioFake
from tests.live_service import Mailbox

WATCHBILL = [sys.executable, "-c", "from api.cli import main; main()"]
OURS = "+12015550100"
PASSWORD = "correct horse battery staple"
_numbers = itertools.count(int.from_bytes(os.urandom(2), "big") % 5000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def unique() -> int:
    """A number no other test uses (for names people pick from lists in a shared server)."""
    return next(_numbers)


def new_number() -> str:
    """A phone number no other test uses (valid for ``phonenumbers``)."""
    return f"+1415555{next(_numbers) % 10000:04d}"


@dataclass
class Served:
    """A running server, its database, and the fakes it talks to (None when not configured)."""

    base_url: str
    database: Database
    factory: Factory
    twilio: TwilioFake | None
    mail: Mailbox | None
    log: Path

    def errors(self) -> str:
        """Tracebacks the server logged (a test that ends with some has found a bug)."""
        text = self.log.read_text(errors="replace")
        return text[text.find("Traceback") :] if "Traceback" in text else ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def person(
        self,
        *,
        name: str | None = None,
        role: UserRole = UserRole.member,
        time_zone: str = "Europe/London",
    ) -> Person:
        """A user who can sign in with ``PASSWORD``."""
        person = self.factory.user(role=role, name=name, time_zone=time_zone)
        with self.database.transaction() as session:
            passwords.set_password(session, SYSTEM, person.id, PASSWORD)
        return person

    def responder(self, person: Person, kind: ContactType, address: str, delay: int = 0) -> str:
        """Give ``person`` a verified contact method and a rule for it; the method's id."""
        cm = self.factory.contact(person, kind, address)
        self.factory.rule(person, cm, delay)
        return cm

    def service_paging(
        self, person: Person, *, team_id: str | None = None, name: str | None = None
    ) -> str:
        """A service whose policy pages ``person`` at once (tier 2 after 10 minutes)."""
        n = next(_numbers)
        with self.database.transaction() as session:
            policy = escalation.create_policy(
                session,
                SYSTEM,
                name=f"Policy {n}",
                team_id=team_id,
                repeat=0,
                tiers=[
                    escalation.TierInput(600, [(TargetType.user, person.id)]),
                    escalation.TierInput(600, [(TargetType.user, person.id)]),
                ],
            )
            service = escalation.create_service(
                session,
                SYSTEM,
                name=name or f"Checkout {n}",
                escalation_policy_id=policy.id,
                team_id=team_id,
                acknowledgement_timeout_seconds=None,
                auto_resolve_timeout_seconds=None,
            )
            session.flush()
            return service.id

    def trigger(self, service_id: str, title: str = "Checkout API errors above 5%") -> str:
        """Open an incident (as monitoring would); its id. The engine pages at once."""
        with self.database.transaction() as session:
            service = escalation.get_service(session, service_id)
            result = ingest(
                session,
                service,
                Trigger(
                    title=title,
                    details={"source": "checkout-1", "custom_details": {"error_rate": "7%"}},
                ),
                utcnow(),
            )
            return result.incident.id

    def schedule(self, name: str, *people: Person, shift_days: int = 7) -> str:
        """A schedule of one weekly (``shift_days``) rotation of ``people``, started an hour ago
        (so the first of them is on call now)."""
        start = utcnow().replace(microsecond=0) - timedelta(hours=1)
        layer = LayerSpec(
            name="Primary",
            start=start,
            users=tuple(p.id for p in people),
            handoff=start,
            shift_length=shift_days,
            shift_unit="days",
        )
        with self.database.transaction() as session:
            return schedules.create_schedule(
                session, SYSTEM, name=name, time_zone="Europe/London", team_id=None, layers=[layer]
            ).id

    def team(self, *members: tuple[Person, TeamRole]) -> str:
        team_id = self.factory.team()
        for person, role in members:
            self.factory.member(team_id, person, role)
        return team_id

    def status(self, incident_id: str) -> str:
        with self.database.transaction() as session:
            incident = session.get(Incident, incident_id)
            assert incident is not None
            return incident.status.value

    def incidents_count(self) -> int:
        with self.database.transaction() as session:
            return len(session.scalars(select(Incident.id)).all())


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"watchbill serve exited: {log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"watchbill serve did not come up: {log.read_text()[-4000:]}")


@contextmanager
def _database_url(backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'web.db'}"
        return
    server = dbtools.pg_server_url()
    assert server is not None
    with dbtools.postgres_database(server) as url:
        yield url


@contextmanager
def serve(backend: str, directory: Path, *, providers: bool) -> Iterator[Served]:
    """``watchbill serve`` on a free port; with ``providers``, Twilio (the fake) and SMTP."""
    with ExitStack() as stack:
        url = stack.enter_context(_database_url(backend, directory))
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
        env.update(
            WATCHBILL_DATABASE_URL=url,
            WATCHBILL_PUBLIC_URL=base_url,
            WATCHBILL_ENGINE_SWEEP_SECONDS="1",
        )
        twilio: TwilioFake | None = None
        mail: Mailbox | None = None
        if providers:
            twilio = stack.enter_context(TwilioFake())
            mail = Mailbox()
            mail.port = free_port()
            controller = Controller(mail, hostname="127.0.0.1", port=mail.port)
            controller.start()
            stack.callback(controller.stop)
            env.update(
                WATCHBILL_TWILIO_ACCOUNT_SID=twilio.account_sid,
                WATCHBILL_TWILIO_AUTH_TOKEN=twilio.auth_token,
                WATCHBILL_TWILIO_FROM=OURS,
                WATCHBILL_TWILIO_API_URL=twilio.url,
                WATCHBILL_SMTP_HOST="127.0.0.1",
                WATCHBILL_SMTP_PORT=str(mail.port),
                WATCHBILL_SMTP_FROM="Watchbill <pager@watchbill.test>",
            )
        log = directory / "serve.log"  # a file, not a pipe nobody reads (it would fill up)
        output = stack.enter_context(log.open("wb"))
        process = subprocess.Popen(
            [*WATCHBILL, "serve", "--port", str(port), "--migrate", "--no-access-log"],
            env=env,
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

        def stop() -> None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

        stack.callback(stop)
        _wait_healthy(process, base_url, log)
        database = Database(url)
        stack.callback(database.dispose)
        yield Served(base_url, database, Factory(database), twilio, mail, log)


def launch_options() -> dict[str, Any]:
    """Debian's Chromium, headless, quiet (no downloads, no background traffic)."""
    return {
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
