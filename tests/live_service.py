"""The live service for end-to-end paging tests: our service on a real loopback port (uvicorn,
with its engine), the Twilio fake calling its webhooks over HTTP, and a real aiosmtpd server
receiving mail."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import select, update

from api.app import create_app
from escalation import service as escalation
from escalation.models import IncidentLog, Service
from paging.intake.trigger import Trigger, ingest
from paging.outbox.models import Notification
from people.models import ContactMethod, ContactType
from store.base import utcnow
from store.db import Database
from store.settings import Settings
from tests.conftest import ADMIN_TOKEN, admin_headers
from tests.factories import Factory, Person
from tests.fakes.twilio_fake import MessageRecord, TwilioFake
from tests.waiting import wait_until

OURS = "+12015550100"
FROM_ADDRESS = "Watchbill <pager@watchbill.test>"


class Mailbox:
    """An aiosmtpd handler keeping every message; ``refuse`` answers RCPT for an address."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, list[str]] = {}  # address -> replies to give, one per attempt
        self.port = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            replies = self.refuse.get(address)
            if replies:
                return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Live:
    base_url: str
    http: httpx.Client
    database: Database
    settings: Settings
    twilio: TwilioFake
    mail: Mailbox
    factory: Factory
    _services: list[str] = field(default_factory=list)

    # --- the API -------------------------------------------------------------------------

    def api(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", admin_headers())
        response = self.http.request(method, f"/api/v1{path}", **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def post(self, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        result: dict[str, Any] = self.api("POST", path, status, json=body)
        return result

    def responder(self, *methods: tuple[ContactType, str, int]) -> Person:
        """A user with contact methods and rules: (type, address, delay_seconds)."""
        person = self.factory.user()
        for kind, address, delay in methods:
            self.factory.rule(person, self.factory.contact(person, kind, address), delay)
        return person

    def service(self, tiers: list[tuple[int, list[str]]], *, first_number: int = 1) -> str:
        body = {
            "name": "Policy",
            "tiers": [
                {"delay_seconds": delay, "targets": [{"type": "user", "id": u} for u in users]}
                for delay, users in tiers
            ],
        }
        policy = self.post("/escalation-policies", body)["id"]
        service = str(
            self.post("/services", {"name": "Checkout", "escalation_policy_id": policy})["id"]
        )
        with self.database.transaction() as session:
            session.execute(
                update(Service)
                .where(Service.id == service)
                .values(last_incident_number=first_number - 1)
            )
        return service

    def trigger(
        self, service_id: str, title: str = "Checkout API errors", **extra: Any
    ) -> dict[str, Any]:
        body = {"service_id": service_id, "title": title, "severity": "critical", **extra}
        return self.post("/incidents", body)

    def storm(self, service_id: str, count: int, title: str = "Disk {n} full") -> list[str]:
        """``count`` incidents of the service committed at once (an alert storm); their ids."""
        with self.database.transaction() as session:
            service = escalation.get_service(session, service_id)
            return [
                ingest(session, service, Trigger(title=title.format(n=n)), utcnow()).incident.id
                for n in range(count)
            ]

    def page(self, person: Person, *, first_number: int = 42, delay: int = 60) -> dict[str, Any]:
        """One incident paging ``person`` (tier 1; the next tier would be ``delay`` later)."""
        return self.trigger(self.service([(delay, [person.id])], first_number=first_number))

    def incident(self, incident_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api("GET", f"/incidents/{incident_id}")
        return result

    def status(self, incident_id: str) -> str:
        return str(self.incident(incident_id)["status"])

    def log_kinds(self, incident_id: str) -> list[str]:
        with self.database.transaction() as session:
            return list(
                session.scalars(
                    select(IncidentLog.kind)
                    .where(IncidentLog.incident_id == incident_id)
                    .order_by(IncidentLog.id)
                )
            )

    def notifications(self, **where: Any) -> list[Notification]:
        with self.database.transaction() as session:
            stmt = select(Notification).filter_by(**where).order_by(Notification.created_at)
            return list(session.scalars(stmt))

    def recorded(self, **where: Any) -> list[Notification]:
        """The matching notifications, once none of them is being sent any more."""

        def settled() -> list[Notification] | None:
            rows = self.notifications(**where)
            return rows if rows and all(r.status.value != "sending" for r in rows) else None

        rows = wait_until(settled)
        assert rows is not None
        return rows

    def contact_method(self, cm_id: str) -> ContactMethod:
        with self.database.transaction() as session:
            cm = session.get(ContactMethod, cm_id)
            assert cm is not None
            return cm

    # --- Twilio --------------------------------------------------------------------------

    def sms_to(self, number: str, count: int = 1, timeout: float = 5.0) -> list[MessageRecord]:
        """The first ``count`` messages to ``number`` (waiting for them)."""
        found = wait_until(lambda: len(self.twilio.messages_to(number)) >= count, timeout)
        assert found
        return sorted(self.twilio.messages_to(number), key=lambda m: m.date_created)[:count]

    def reply(self, number: str, body: str, **kwargs: Any) -> tuple[int, str]:
        """Send an SMS from ``number`` to our number; (HTTP status, TwiML answer)."""
        url = f"{self.base_url}/webhooks/twilio/sms"
        return self.twilio.send_sms(number, OURS, body, url, **kwargs)


def answer_text(twiml: str) -> str | None:
    """The text of a TwiML ``<Message>`` answer (None: no answer)."""
    import xml.etree.ElementTree as ET

    message = ET.fromstring(twiml).find("Message")
    return None if message is None else "".join(message.itertext())


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a background thread: leave signals alone
        pass


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake() as fake:
        yield fake
        assert fake.errors == []


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


def serve(
    database_url: str,
    database: Database,
    factory: Factory,
    twilio: TwilioFake,
    mailbox: Mailbox,
    **tuning: Any,
) -> Iterator[Live]:
    """The service on a loopback port with its engine, Twilio pointed at the fake."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        admin_token=SecretStr(ADMIN_TOKEN),
        public_url=base_url,
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=SecretStr(twilio.auth_token),
        twilio_from=OURS,
        twilio_api_url=twilio.url,
        twilio_timeout_seconds=2.0,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from=FROM_ADDRESS,
        engine_sweep_seconds=1.0,
        **tuning,
    )
    app = create_app(settings, database, run_engine=True)
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10)
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
        yield Live(base_url, http, database, settings, twilio, mailbox, factory)
    twilio.release_answers()
    twilio.wait_idle(timeout=10)
    server.should_exit = True
    thread.join(15)
    sock.close()


@pytest.fixture
def live(
    database_url: str, database: Database, factory: Factory, twilio: TwilioFake, mailbox: Mailbox
) -> Iterator[Live]:
    yield from serve(database_url, database, factory, twilio, mailbox)
