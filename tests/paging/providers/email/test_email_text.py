from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from escalation.rules import Action
from paging.providers.email.email_text import (
    ActionPage,
    EmailBundle,
    EmailIncident,
    EmailPage,
    compose_bundle_email,
    compose_page_email,
    compose_verification_email,
    render_action_confirmation_page,
    render_action_done_page,
    render_action_error_page,
)


def incident(number: int = 42, **kw: str) -> EmailIncident:
    fields = {
        "severity": "critical",
        "service": "Checkout API",
        "title": "Checkout API errors",
        "incident_url": f"https://wb.example/incidents/{number}",
        "ack_url": f"https://wb.example/e/ack?t=abc{number}&x=1",
        "resolve_url": f"https://wb.example/e/resolve?t=def{number}",
        "details": "error_rate=7%\nthreshold=5%",
    }
    fields.update(kw)
    return EmailIncident(number=number, **fields)


def page_email(inc: EmailIncident | None = None) -> EmailMessage:
    return compose_page_email(
        EmailPage("Watchbill <pager@wb.example>", "alice@example.com", inc or incident())
    )


def bodies(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    rich = msg.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(rich, EmailMessage)
    return plain.get_content(), rich.get_content()


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(doc: str) -> _Collector:
    parser = _Collector()
    parser.feed(doc)
    return parser


def test_page_subject_is_app_number_severity_title() -> None:
    assert page_email()["Subject"] == "[Watchbill] #42 CRITICAL Checkout API errors"


def test_page_email_has_plain_and_html_alternatives_with_action_links() -> None:
    msg = page_email()
    assert msg.get_content_type() == "multipart/alternative"
    plain, rich = bodies(msg)
    assert "https://wb.example/e/ack?t=abc42&x=1" in plain
    assert "https://wb.example/e/resolve?t=def42" in plain
    assert "https://wb.example/incidents/42" in plain
    assert "threshold=5%" in plain
    hrefs = [a.get("href") for tag, a in parse_html(rich).tags if tag == "a"]
    assert hrefs == [
        "https://wb.example/e/ack?t=abc42&x=1",
        "https://wb.example/e/resolve?t=def42",
        "https://wb.example/incidents/42",
    ]


def test_page_email_addresses_and_auto_submitted_header() -> None:
    msg = page_email()
    assert msg["To"] == "alice@example.com"
    assert msg["From"] == "Watchbill <pager@wb.example>"
    assert msg["Auto-Submitted"] == "auto-generated"


def test_html_in_title_and_details_is_escaped() -> None:
    msg = page_email(incident(title="<script>alert(1)</script>", details="a & <b>"))
    _, rich = bodies(msg)
    assert "<script>" not in rich
    assert "&lt;script&gt;" in rich
    assert "a &amp; &lt;b&gt;" in rich


def test_newline_in_title_cannot_inject_headers() -> None:
    msg = page_email(incident(title="down\r\nBcc: evil@example.com"))
    assert msg["Subject"] == "[Watchbill] #42 CRITICAL down Bcc: evil@example.com"
    assert msg["Bcc"] is None
    reparsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert reparsed["Bcc"] is None


def test_javascript_links_are_rejected() -> None:
    with pytest.raises(ValueError):
        page_email(incident(ack_url="javascript:alert(1)"))


def test_page_email_serialises() -> None:
    raw = page_email(incident(title="Überlast – “Kasse”")).as_bytes()
    reparsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert reparsed["Subject"] == "[Watchbill] #42 CRITICAL Überlast – “Kasse”"


def test_bundle_email_lists_every_incident_with_own_links() -> None:
    msg = compose_bundle_email(
        EmailBundle(
            "pager@wb.example",
            "alice@example.com",
            (incident(42), incident(43, title="DB slow")),
            overview_url="https://wb.example/incidents",
        )
    )
    assert msg["Subject"] == "[Watchbill] 2 incidents: #42, #43"
    plain, rich = bodies(msg)
    for number in (42, 43):
        assert f"https://wb.example/e/ack?t=abc{number}&x=1" in plain
        assert f"Acknowledge #{number}" in rich
    assert "https://wb.example/incidents" in plain


def test_empty_bundle_email_is_rejected() -> None:
    with pytest.raises(ValueError):
        compose_bundle_email(EmailBundle("a@example.com", "b@example.com", ()))


def test_verification_email_shows_code() -> None:
    msg = compose_verification_email("042917", "pager@wb.example", "alice@example.com")
    assert msg["Subject"] == "[Watchbill] Verification code 042917"
    plain, rich = bodies(msg)
    assert "042917" in plain
    assert "042917" in rich


def action_page(**kw: object) -> ActionPage:
    fields: dict[str, object] = {
        "action": Action.acknowledge,
        "incident_number": 42,
        "title": 'Checkout "API" <errors>',
        "severity": "critical",
        "service": "Checkout API",
        "post_url": "/email-actions/confirm",
        "token": 'signed.tok"en<',
        "status": "triggered",
    }
    fields.update(kw)
    return ActionPage(**fields)  # type: ignore[arg-type]


def test_confirmation_page_has_post_form_with_hidden_token_and_button() -> None:
    parsed = parse_html(render_action_confirmation_page(action_page()))
    forms = [a for tag, a in parsed.tags if tag == "form"]
    assert forms == [{"method": "post", "action": "/email-actions/confirm"}]
    hidden = [a for tag, a in parsed.tags if tag == "input"]
    assert hidden == [{"type": "hidden", "name": "token", "value": 'signed.tok"en<'}]
    assert "Acknowledge #42" in parsed.text
    assert 'Checkout "API" <errors>' in parsed.text


def test_confirmation_page_button_names_the_action() -> None:
    doc = render_action_confirmation_page(action_page(action=Action.resolve))
    assert '<button type="submit">Resolve #42</button>' in doc


def test_confirmation_page_is_not_indexed_and_leaks_no_referrer() -> None:
    metas = [
        a
        for tag, a in parse_html(render_action_confirmation_page(action_page())).tags
        if tag == "meta"
    ]
    assert {"name": "referrer", "content": "no-referrer"} in metas
    assert {"name": "robots", "content": "noindex, nofollow"} in metas


def test_done_page_confirms_action() -> None:
    doc = render_action_done_page(
        Action.acknowledge, 42, "Checkout <API>", "https://wb.example/incidents/42"
    )
    parsed = parse_html(doc)
    assert "Acknowledged #42" in parsed.text
    assert "Checkout <API>" in parsed.text
    assert ("a", {"href": "https://wb.example/incidents/42"}) in parsed.tags


def test_error_page_escapes_message() -> None:
    doc = render_action_error_page("Link expired <b>")
    assert "Link expired &lt;b&gt;" in doc
    assert "<b>" not in doc
