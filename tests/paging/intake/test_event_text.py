"""Event text with control characters is never refused (the page must go out), but they do
not reach the incident: an ESC in a title would make the voice call's TwiML invalid XML."""

from __future__ import annotations

import xml.dom.minidom

from paging.providers.twilio.twiml import page_speech, page_twiml
from tests.paging.intake.conftest import Desk, trigger_body


def test_control_characters_in_an_event_summary_are_dropped_not_refused(desk: Desk) -> None:
    svc = desk.service()
    body = trigger_body(svc.key, dedup_key="ansi")
    body["payload"]["summary"] = "\x1b[31mDisk\x07 full\x7f on db1\tnow"
    body["payload"]["source"] = "host\x1b1"
    desk.enqueue(body)
    [incident] = desk.incidents(svc.id)
    assert incident.title == " [31mDisk  full  on db1\tnow"
    assert incident.source == "host 1"
    speech = page_speech(incident.number, "critical", "Checkout", incident.title)
    twiml = page_twiml(speech, "https://example.com/voice", 0)
    xml.dom.minidom.parseString(twiml)  # well-formed


def test_alertmanager_titles_lose_control_characters_too(desk: Desk) -> None:
    svc = desk.service()
    answer = desk.client.post(
        f"/integrations/alertmanager/{svc.key}",
        json={
            "version": "4",
            "groupKey": '{}:{alertname="Disk"}',
            "status": "firing",
            "receiver": "watchbill",
            "groupLabels": {"alertname": "Disk"},
            "commonLabels": {"alertname": "Disk"},
            "commonAnnotations": {"summary": "Disk \x1b[1mfull\x1b[0m"},
            "externalURL": "http://alertmanager.example.com",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "Disk"},
                    "annotations": {"summary": "Disk \x1b[1mfull\x1b[0m"},
                    "startsAt": "2026-03-01T12:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "fingerprint": "abc",
                }
            ],
        },
    )
    assert answer.status_code == 200, answer.text
    [incident] = desk.incidents(svc.id)
    assert "\x1b" not in incident.title and "full" in incident.title
