"""Bundled SMS carry each incident's own codes; codes and links at the database level."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from escalation.models import Incident
from escalation.rules import Action
from paging import links
from paging.outbox.models import Notification, NotificationStatus
from paging.providers.twilio import codes, inbound
from paging.server_secret import server_secret
from people.models import ContactType as CT
from store.base import utcnow
from store.db import Database
from store.settings import Settings
from tests.conftest import admin_headers
from tests.factories import Factory
from tests.live_service import Live, answer_text

ADA = "+12015550101"


def test_a_storm_bundle_lists_each_incident_with_its_own_codes(live: Live) -> None:
    ada = live.responder((CT.sms, ADA, 0))
    service_id = live.service([(600, [ada.id])], first_number=42)
    ids = live.storm(service_id, 4)
    messages = live.sms_to(ADA, 3)
    bodies = sorted(m.body for m in messages)
    bundle = next(b for b in bodies if b.startswith("Watchbill: 2 incidents."))
    singles = [b for b in bodies if b is not bundle]
    assert len(singles) == 2 and all("Reply " in b for b in singles)
    listed = {int(n): int(code) for n, code in _items(bundle)}
    assert len(listed) == 2
    coded = {**listed, **{_number(b): _code(b) for b in singles}}
    assert sorted(coded) == [42, 43, 44, 45] and sorted(coded.values()) == [1, 2, 3, 4]

    number, code = max(listed.items())
    assert (
        answer_text(live.reply(ADA, f"{code}a")[1])
        == f"Acknowledged #{number} Disk {number - 42} full"
    )
    statuses = {live.incident(i)["number"]: live.status(i) for i in ids}
    assert statuses == {n: "acknowledged" if n == number else "triggered" for n in coded}


def _items(bundle: str) -> list[tuple[str, str]]:
    return re.findall(r"#(\d+) (\d+)a/\d+r/\d+e", bundle)


def _number(body: str) -> int:
    return int(body.split("#", 1)[1].split(" ", 1)[0])


def _code(body: str) -> int:
    return int(body.rsplit("Reply ", 1)[1].split("a ", 1)[0])


@pytest.fixture
def incidents(client: TestClient) -> list[str]:
    """Three open incidents (no engine running)."""
    headers = admin_headers()
    user = client.post("/api/v1/users", headers=headers, json={
        "name": "Ada", "email": "ada@example.com", "time_zone": "UTC"}).json()  # fmt: skip
    policy = client.post("/api/v1/escalation-policies", headers=headers, json={
        "name": "P", "tiers": [{"delay_seconds": 60, "targets": [
            {"type": "user", "id": user["id"]}]}]}).json()  # fmt: skip
    service = client.post("/api/v1/services", headers=headers, json={
        "name": "S", "escalation_policy_id": policy["id"]}).json()  # fmt: skip
    return [
        client.post("/api/v1/incidents", headers=headers,
                    json={"service_id": service["id"], "title": f"I{n}"}).json()["id"]
        for n in range(3)
    ]  # fmt: skip


def test_codes_are_short_stable_per_number_and_freed_when_resolved(
    database: Database, client: TestClient, incidents: list[str]
) -> None:
    first, second, third = incidents
    now = utcnow()
    with database.transaction() as session:
        assert codes.assign(session, ADA, first, now) == 1
        assert codes.assign(session, ADA, second, now) == 2
        assert codes.assign(session, ADA, first, now) == 1  # reused while open
        assert codes.assign(session, "+12015550102", second, now) == 1  # per number
        assert codes.incidents_for(session, ADA, 2) == [second]
    resolved = client.post(f"/api/v1/incidents/{first}/resolve", headers=admin_headers())
    assert resolved.status_code == 200
    with database.transaction() as session:
        # Until the number needs a code again, a late "1a" still finds the resolved incident.
        assert codes.incidents_for(session, ADA, 1) == [first]
        assert codes.assign(session, ADA, third, now + timedelta(seconds=1)) == 1
        assert codes.incidents_for(session, ADA, 1) == [third]
        assert codes.assign(session, ADA, second, now) == 2


def test_two_engines_assigning_codes_to_one_number_at_once_never_share_a_code(
    database: Database, incidents: list[str]
) -> None:
    """The second assignment cannot see the first's uncommitted code; its insert waits on the
    unique index, does nothing once the first commits, and it looks again."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: two assignments never overlap")
    first, second, _ = incidents
    now = utcnow()

    def other_engine() -> int:
        with database.transaction() as other:
            return codes.assign(other, ADA, second, now)

    with ThreadPoolExecutor(1) as pool:
        with database.transaction() as session:
            assert codes.assign(session, ADA, first, now) == 1
            racing = pool.submit(other_engine)
            time.sleep(0.5)  # it has read the number's codes (none committed) and waits
            assert not racing.done()
        assert racing.result(timeout=10) == 2
    assert racing.result() == 2
    with database.transaction() as session:
        assert codes.incidents_for(session, ADA, 1) == [first]
        assert codes.incidents_for(session, ADA, 2) == [second]


def test_the_generated_secret_is_stored_once_and_a_configured_one_wins(
    database: Database, settings: Settings
) -> None:
    now = utcnow()
    with database.transaction() as session:
        assert server_secret(session, settings, now, create=False) is None
        generated = server_secret(session, settings, now)
    assert generated is not None and len(generated) == 64
    restarted = Database(settings.database_url)  # another process, or after a restart
    try:
        with restarted.transaction() as session:
            assert server_secret(session, settings, now) == generated
    finally:
        restarted.dispose()
    token = links.sign(generated, "a" * 32, Action.acknowledge)
    assert links.check(generated, token) == ("a" * 32, Action.acknowledge)
    configured = settings.model_copy(update={"secret_key": SecretStr("from-the-environment")})
    with database.transaction() as session:
        key = server_secret(session, configured, now)
    assert key == b"from-the-environment"
    with pytest.raises(links.LinkError) as refused:
        links.check(key, token)
    assert refused.value.status == 403


def test_a_bare_ack_acts_on_every_incident_of_the_newest_message(
    database: Database, factory: Factory, incidents: list[str]
) -> None:
    """The newest text to a number was a bundle of two: a bare "ack" acknowledges both, not
    an arbitrary one of them; the older single page is left alone."""
    ada = factory.user(name="Ada")
    factory.contact(ada, CT.sms, ADA)
    older, first, second = incidents
    now = utcnow()

    def page(incident_id: str, sent: timedelta, into: str | None = None) -> str:
        with database.transaction() as session:
            row = Notification(
                kind="page", incident_id=incident_id, epoch=0, loop=0, tier=0, user_id=ada.id,
                rule_id="r", channel="sms", address=ADA, send_at=now - sent,
                status=NotificationStatus.sent, sent_at=now - sent, bundled_into=into,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return row.id

    page(older, timedelta(seconds=30))
    carrier = page(first, timedelta(seconds=5))
    page(second, timedelta(seconds=5), into=carrier)
    with database.transaction() as session:
        answer = inbound.handle_sms(
            session, inbound.InboundMessage("SM" + "1" * 32, ADA, "ack"), now
        )
        rows = session.scalars(select(Incident).where(Incident.id.in_(incidents)))
        statuses = {row.id: row.status.value for row in rows}
    assert answer is not None and answer.startswith("Acknowledged 2 incidents: #")
    assert statuses == {older: "triggered", first: "acknowledged", second: "acknowledged"}
