"""E-mail pages through a real SMTP server; signed links: GET shows, POST acts."""

from __future__ import annotations

import re
from email.message import EmailMessage

from escalation.rules import Action
from paging import links
from paging.server_secret import server_secret
from people.models import ContactType as CT
from store.base import utcnow
from tests.live_service import Live
from tests.waiting import wait_until

ADA = "ada@example.com"


def mail_to(live: Live, address: str, count: int = 1) -> list[EmailMessage]:
    wait_until(lambda: len(live.mail.to(address)) >= count, timeout=5)
    return live.mail.to(address)


def link(message: EmailMessage, label: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(rf"^{label}:\s+(\S+)\s*$", body.get_content(), re.MULTILINE)
    assert found, body.get_content()
    return found.group(1)


def test_email_page_link_get_changes_nothing_and_post_acknowledges(live: Live) -> None:
    ada = live.responder((CT.email, ADA, 0))
    incident = live.page(ada)
    [mail] = mail_to(live, ADA)
    assert mail["Subject"] == "[Watchbill] #42 CRITICAL Checkout API errors"
    assert mail["From"] == "Watchbill <pager@watchbill.test>"
    assert mail["Message-ID"].endswith("@watchbill.test>") and mail["Date"]
    html = mail.get_body(("html",))
    assert html is not None and "Acknowledge #42" in html.get_content()
    ack = link(mail, "Acknowledge")
    assert ack.startswith(f"{live.base_url}/links/") and link(mail, "Resolve") != ack

    wait_until(lambda: "notified" in live.log_kinds(incident["id"]))  # the send is recorded
    before = live.log_kinds(incident["id"])
    for _ in range(2):  # a mail scanner, then the person
        page = live.http.get(ack.removeprefix(live.base_url))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<form method="post"' in page.text and "Acknowledge #42?" in page.text
        assert "no-store" in page.headers["cache-control"]
    assert live.status(incident["id"]) == "triggered"
    assert live.log_kinds(incident["id"]) == before

    done = live.http.post(ack.removeprefix(live.base_url), data={"token": "ignored"})
    assert done.status_code == 200 and "Acknowledged #42" in done.text
    web_page = f"{live.base_url}/incidents/{incident['id']}"  # "View incident": the web page
    assert link(mail, "Incident") == web_page and f'href="{web_page}"' in done.text
    found = live.incident(incident["id"])
    assert found["status"] == "acknowledged"
    assert found["acknowledged_by"] == f"user:{ada.email}"
    assert any("via email link" in e["message"] for e in found["log"])


def test_resolve_link_and_links_expire_with_the_incident(live: Live) -> None:
    ada = live.responder((CT.email, ADA, 0))
    incident = live.page(ada)
    [mail] = mail_to(live, ADA)
    ack, resolve = link(mail, "Acknowledge"), link(mail, "Resolve")
    assert live.http.post(resolve).status_code == 200
    assert live.status(incident["id"]) == "resolved"
    for method in ("GET", "POST"):
        expired = live.http.request(method, ack)
        assert expired.status_code == 410 and "expired" in expired.text


def test_forged_and_malformed_links_are_refused(live: Live) -> None:
    ada = live.responder((CT.email, ADA, 0))
    incident = live.page(ada)
    [mail] = mail_to(live, ADA)
    ack = link(mail, "Acknowledge")
    token = ack.rsplit("/", 1)[1]
    notification, _, signature = token.split(".")
    forged = [
        f"{notification}.r.{signature}",  # the ack signature on a resolve link
        f"{notification}.a.{'A' * len(signature)}",
        f"{'0' * 32}.a.{signature}",
    ]
    for bad in forged:
        for method in ("GET", "POST"):
            assert live.http.request(method, f"/links/{bad}").status_code == 403, bad
    assert live.http.get("/links/not-a-token").status_code == 404
    assert live.http.post("/links/" + "x" * 5000).status_code == 404
    # Properly signed but for nothing that exists.
    with live.database.transaction() as session:
        secret = server_secret(session, live.settings, utcnow())
    assert secret is not None
    nowhere = links.sign(secret, "f" * 32, Action.acknowledge)
    assert live.http.post(f"/links/{nowhere}").status_code == 404
    assert live.status(incident["id"]) == "triggered"


def test_smtp_rejections_permanent_fails_over_temporary_retries(live: Live) -> None:
    bounce = "bounce@example.com"
    ada = live.responder((CT.email, bounce, 0), (CT.sms, "+12015550101", 600))
    live.mail.refuse[bounce] = ["550 5.1.1 No such user"]
    incident = live.page(ada)
    live.sms_to("+12015550101")
    [row] = live.notifications(incident_id=incident["id"], channel="email")
    assert (row.status.value, row.attempts) == ("failed", 1)
    assert "550" in (row.last_error or "")

    bob = live.responder((CT.email, "bob@example.com", 0))
    live.mail.refuse["bob@example.com"] = ["451 4.3.0 Try again later"]
    second = live.page(bob, first_number=7)
    [mail] = mail_to(live, "bob@example.com")
    assert mail["Subject"] == "[Watchbill] #7 CRITICAL Checkout API errors"
    [row] = live.notifications(incident_id=second["id"])
    assert row.attempts == 2 and "notify_retry" in live.log_kinds(second["id"])


def test_an_event_page_by_email_shows_what_the_monitoring_tool_sent(live: Live) -> None:
    ada = live.responder((CT.email, ADA, 0))
    service_id = live.service([(600, [ada.id])], first_number=42)
    key = live.api("GET", f"/services/{service_id}")["integration_key"]
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {
            "summary": "Disk almost full on db-1",
            "source": "db-1.example",
            "severity": "critical",
            "component": "postgres",
            "custom_details": {"free_space": "2%", "mount": "/var/lib/postgresql"},
        },
        "links": [{"href": "https://runbooks.example/disk", "text": "Runbook"}],
    }
    answer = live.http.post("/v2/enqueue", json=event)
    assert answer.status_code == 202, answer.text
    [mail] = mail_to(live, ADA)
    plain = mail.get_body(("plain",))
    assert plain is not None
    text = plain.get_content().replace("\r\n", "\n")
    assert "Details:\nsource: db-1.example\ncomponent: postgres\n" in text
    assert "custom_details:\n  free_space: 2%\n  mount: /var/lib/postgresql\n" in text
    assert "links:\n  - Runbook <https://runbooks.example/disk>" in text
    html = mail.get_body(("html",))
    assert html is not None and "free_space: 2%" in html.get_content()
