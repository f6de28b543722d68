"""The log channel: what an unconfigured install does with a page, said once and in full."""

from __future__ import annotations

import logging

import pytest

from people.models import ContactType as CT
from tests.paging.conftest import Paging
from tests.waiting import wait_until


def _pages(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "watchbill.pages"]


def test_an_sms_page_is_logged_once_with_its_reply_codes_and_ids(
    paging: Paging, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="watchbill.pages")
    ada = paging.responder((CT.sms, "+12015550101", 0))
    incident = paging.trigger(paging.service(paging.policy([(600, [ada.id])])), title="Disk full")
    wait_until(lambda: len(paging.sent_to(ada, incident)) == 1, timeout=5)
    [record] = _pages(caplog)
    text = record.getMessage()
    assert "by sms" in text and "+12015550101" in text and "Disk full" in text
    assert "Reply 1a to ack, 1r to resolve, 1e to escalate" in text
    assert "http://testserver/l/" in text  # the short link to the incident's page
    [notification] = paging.sent_to(ada, incident)
    assert record.notification_id == notification.id  # type: ignore[attr-defined]
    assert record.incident_id == incident  # type: ignore[attr-defined]
    assert capsys.readouterr().out == ""  # not printed a second time
    assert "page_logged" in paging.log_kinds(incident)


def test_a_logged_email_page_keeps_its_acknowledge_and_resolve_links(
    paging: Paging, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="watchbill.pages")
    grace = paging.responder((CT.email, "grace@example.com", 0))
    incident = paging.trigger(paging.service(paging.policy([(600, [grace.id])])))
    wait_until(lambda: len(paging.sent_to(grace, incident)) == 1, timeout=5)
    [record] = _pages(caplog)
    text = record.getMessage()
    assert "Acknowledge: http://testserver/links/" in text
    assert "Resolve:     http://testserver/links/" in text
    ack_link = text.split("Acknowledge: ")[1].split()[0]
    # The logged link is the real one: following it acknowledges the incident.
    path = ack_link.removeprefix("http://testserver")
    assert paging.client.get(path).status_code == 200
    assert paging.incident(incident)["status"] == "triggered"  # a GET changes nothing
    assert paging.client.post(path).status_code == 200
    assert paging.incident(incident)["status"] == "acknowledged"


def test_a_logged_call_says_which_keys_do_what(
    paging: Paging, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="watchbill.pages")
    alan = paging.responder((CT.voice, "+12015550103", 0))
    incident = paging.trigger(paging.service(paging.policy([(600, [alan.id])])))
    wait_until(lambda: len(paging.sent_to(alan, incident)) == 1, timeout=5)
    [record] = _pages(caplog)
    assert "Press 4 to acknowledge, 5 to escalate, 6 to resolve, star to repeat" in (
        record.getMessage()
    )
