"""The channel types wired in one place: every contact kind has exactly one, and what people
learn from them (address rules, the opt-out rule) comes from there."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from paging.providers.registry import CHANNEL_TYPES, build_channels, wire
from people import contact_kinds
from people.models import ContactType
from store.db import Database
from store.errors import Invalid
from store.settings import Settings


def test_every_contact_kind_is_served_by_exactly_one_channel_type() -> None:
    served = [kind for t in CHANNEL_TYPES.types for kind in t.kinds]
    assert sorted(served) == sorted(kind.value for kind in ContactType)


def test_what_each_kind_does_comes_from_its_descriptor() -> None:
    assert CHANNEL_TYPES.bundled == {"sms", "voice", "email"}
    assert CHANNEL_TYPES.one_at_a_time == {"voice"}
    settings = Settings(_env_file=None, public_url="https://oncall.example.com")
    assert CHANNEL_TYPES.status_url(settings, "sms", "n1") == (
        "https://oncall.example.com/webhooks/twilio/status/n1"
    )
    assert CHANNEL_TYPES.status_url(settings, "email", "n1") is None
    assert CHANNEL_TYPES.status_url(settings, "webhook", "n1") is None
    assert CHANNEL_TYPES.unconfigured(settings) == {"sms", "voice", "email"}


def test_only_an_sms_stop_pauses_a_contact_method() -> None:
    wire(Settings(_env_file=None))
    assert contact_kinds.opted_out("sms", True)
    assert not contact_kinds.opted_out("sms", False)
    assert not contact_kinds.opted_out("voice", True)
    assert not contact_kinds.opted_out("email", True)
    assert not contact_kinds.opted_out("webhook", True)


def test_addresses_follow_the_rules_their_channel_registered() -> None:
    wire(Settings(_env_file=None))
    assert contact_kinds.normalise_address("sms", "+12015550123") == "+12015550123"
    assert contact_kinds.normalise_address("email", "Ada@Example.com") == "Ada@example.com"
    with pytest.raises(Invalid, match="phone number"):
        contact_kinds.normalise_address("voice", "ada@example.com")
    with pytest.raises(Invalid, match="no channel serves pigeon contact methods"):
        contact_kinds.normalise_address("pigeon", "loft 3")


def test_unconfigured_providers_build_no_channel_but_webhooks_always_do() -> None:
    settings = Settings(_env_file=None)
    database = Database("sqlite://")
    try:
        assert set(build_channels(database, settings)) == {"webhook"}
    finally:
        database.dispose()


def test_every_inbound_route_a_provider_declares_is_served(client: TestClient) -> None:
    """The API's routes are in its OpenAPI document; the web UI's (``/l/{token}``) answer a
    page of their own, not the unknown-path problem."""
    documented = set(client.get("/openapi.json").json()["paths"])
    declared = {path for t in CHANNEL_TYPES.types for path in t.inbound_routes}
    assert {"/webhooks/twilio/sms", "/links/{token}", "/l/{token}"} <= declared
    for path in declared - documented:
        answer = client.get(re.sub(r"\{[a-z_]+\}", "x", path))
        assert answer.headers["content-type"].startswith("text/html"), path
