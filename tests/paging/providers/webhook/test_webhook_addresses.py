"""Which URLs a webhook contact method may have, and what a receiver's answer means."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from paging.outbox.channel import Outcome
from paging.providers.webhook.channel import outcome
from tests.conftest import admin_headers
from tests.factories import Factory


def _add(client: TestClient, user_id: str, address: str) -> tuple[int, str]:
    answer = client.post(
        f"/api/v1/users/{user_id}/contact-methods",
        json={"type": "webhook", "address": address},
        headers=admin_headers(),
    )
    return answer.status_code, answer.text


def test_an_https_url_to_a_public_host_is_a_webhook(client: TestClient, factory: Factory) -> None:
    person = factory.user()
    status, text = _add(client, person.id, "https://hooks.example.com/watchbill?team=7")
    assert status == 201, text
    assert (
        '"type":"webhook"' in text
        and '"address":"https://hooks.example.com/watchbill?team=7"' in text
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("http://hooks.example.com/x", "must be https"),
        ("ftp://hooks.example.com/x", "must be https"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://localhost:8443/x", "loopback"),
        ("https://10.1.2.3/x", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[::1]/x", "loopback"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https://hooks.example.com:99999/x", "not a URL"),
        ("+12015550123", "must be https"),
    ],
)
def test_urls_that_may_not_be_paged_are_refused_when_saved(
    client: TestClient, factory: Factory, address: str, why: str
) -> None:
    person = factory.user()
    status, text = _add(client, person.id, address)
    assert status == 422, text
    assert why in text


def test_a_phone_number_is_still_checked_as_one(client: TestClient, factory: Factory) -> None:
    person = factory.user()
    answer = client.post(
        f"/api/v1/users/{person.id}/contact-methods",
        json={"type": "sms", "address": "https://hooks.example.com/x"},
        headers=admin_headers(),
    )
    assert answer.status_code == 422 and "phone number" in answer.text


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Outcome.sent),
        (204, Outcome.sent),
        (500, Outcome.temporary),
        (503, Outcome.temporary),
        (429, Outcome.temporary),
        (408, Outcome.temporary),
        (400, Outcome.permanent),
        (404, Outcome.permanent),
        (410, Outcome.permanent),
        (301, Outcome.permanent),
    ],
)
def test_5xx_and_429_are_retried_other_answers_are_final(status: int, expected: Outcome) -> None:
    assert outcome(status) is expected
