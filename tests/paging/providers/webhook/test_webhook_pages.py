"""The webhook channel end to end: a real HTTP receiver on loopback gets the signed JSON page,
a 5xx is retried, a 4xx is not, and POSTing the page's ack callback acknowledges the incident
as the person paged (through the API and the engine)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from people.models import ContactType
from store.db import Database
from tests.conftest import admin_headers
from tests.factories import Factory, Person
from tests.fakes.twilio_fake import TwilioFake
from tests.live_service import Live, Mailbox, serve
from tests.paging.providers.webhook.receiver import Receiver, receiver
from tests.waiting import wait_until


@pytest.fixture
def live(
    database_url: str, database: Database, factory: Factory, twilio: TwilioFake, mailbox: Mailbox
) -> Iterator[Live]:
    """The service allowed to page a loopback URL (``WATCHBILL_ALLOW_PRIVATE_URLS=true``)."""
    yield from serve(database_url, database, factory, twilio, mailbox, allow_private_urls=True)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as found:
        yield found


def _verified(key: str, header: str, body: bytes) -> int:
    """The header's timestamp, once its v1 signature checks out (computed here, by hand)."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(key.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(parts["v1"], expected.hexdigest()), "bad signature"
    return int(parts["t"])


def _key(live: Live, person: Person, cm_id: str) -> str:
    answer = live.api("GET", f"/contact-methods/{cm_id}/webhook-key", headers=person.headers)
    return str(answer["key"])


def _webhook_person(live: Live, url: str) -> tuple[Person, str]:
    person = live.factory.user()
    cm_id = live.factory.contact(person, ContactType.webhook, url)
    live.factory.rule(person, cm_id, 0)
    return person, cm_id


def test_a_page_is_signed_retried_after_a_5xx_and_its_ack_callback_acknowledges(
    live: Live, hook: Receiver
) -> None:
    hook.answers = [500, 200]
    person, cm_id = _webhook_person(live, hook.url)
    incident = live.page(person)

    assert wait_until(lambda: len(hook.requests()) >= 2, timeout=15)
    first, second = hook.requests()[:2]
    assert (first.answered, second.answered) == (500, 200)
    assert first.body == second.body, "the retry sends the same page"
    key = _key(live, person, cm_id)
    for request in (first, second):
        assert request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        sent_at = _verified(key, request.headers["watchbill-signature"], request.body)
        assert abs(sent_at - time.time()) < 60
    page: dict[str, Any] = json.loads(second.body)
    assert page["kind"] == "page"
    assert second.headers["watchbill-delivery"] == page["id"]
    [shown] = page["incidents"]
    assert shown["id"] == incident["id"]
    assert shown["number"] == incident["number"]
    assert shown["title"] == "Checkout API errors"
    assert (shown["severity"], shown["urgency"], shown["status"]) == (
        "critical",
        "high",
        "triggered",
    )
    assert shown["service"] == "Checkout"
    assert shown["url"] == f"{live.base_url}/incidents/{incident['id']}"
    assert shown["ack_url"].startswith(f"{live.base_url}/links/")
    assert shown["resolve_url"].startswith(f"{live.base_url}/links/")

    [row] = live.recorded(channel="webhook")
    assert row.status.value == "sent" and row.attempts == 2
    assert "notify_retry" in live.log_kinds(incident["id"])

    acked = live.http.post(shown["ack_url"])
    assert acked.status_code == 200, acked.text
    assert live.status(incident["id"]) == "acknowledged"
    found = live.incident(incident["id"])
    [ack] = [e for e in found["log"] if e["kind"] == "acknowledged"]
    assert f"user:{person.email} via webhook link" in ack["message"]


def test_a_4xx_is_permanent_and_a_forged_callback_does_nothing(live: Live, hook: Receiver) -> None:
    hook.answers = [410]
    person, _ = _webhook_person(live, hook.url)
    incident = live.page(person)

    [row] = live.recorded(channel="webhook")
    assert wait_until(lambda: live.notifications(channel="webhook")[0].status.value == "failed")
    assert len(hook.requests()) == 1, "never retried"
    assert "notify_retry" not in live.log_kinds(incident["id"])
    assert row.id

    forged = live.http.post(f"{live.base_url}/links/{row.id}.a.{'A' * 22}")
    assert forged.status_code == 403
    assert live.status(incident["id"]) == "triggered"


def test_only_the_owner_reads_the_signing_key(live: Live, hook: Receiver) -> None:
    person, cm_id = _webhook_person(live, hook.url)
    other = live.factory.user()
    key = _key(live, person, cm_id)
    assert len(key) == 64
    path = f"/api/v1/contact-methods/{cm_id}/webhook-key"
    assert live.http.get(path, headers=other.headers).status_code == 403
    assert live.http.get(path, headers={"Authorization": "Bearer " + "x" * 10}).status_code == 401
    assert live.http.get(path, headers=admin_headers()).status_code == 403
    email = live.factory.contact(person, ContactType.email, "owner@example.com")
    not_hook = f"/api/v1/contact-methods/{email}/webhook-key"
    assert live.http.get(not_hook, headers=person.headers).status_code == 409
