"""Page e-mails and the HTML pages behind e-mail action links (pure).

Messages are built with :class:`email.message.EmailMessage` (plain text first,
HTML alternative second).  Nothing here reads the clock or generates ids: the
sender adds ``Date`` and ``Message-ID`` (``email.utils.make_msgid``) itself.

Every page mail carries ``Auto-Submitted: auto-generated`` (RFC 3834) and
``X-Auto-Response-Suppress: All`` so vacation responders do not answer.

E-mail action links are opened by humans *and* by link scanners, so a GET
only renders a confirmation page whose POST form carries the signed token;
only the POST changes anything.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

from escalation.rules import Action
from paging.response.replies_parse import confirmation_line

__all__ = [
    "ActionPage",
    "EmailBundle",
    "EmailIncident",
    "EmailPage",
    "compose_bundle_email",
    "compose_page_email",
    "compose_verification_email",
    "page_subject",
    "render_action_confirmation_page",
    "render_action_done_page",
    "render_action_error_page",
]


@dataclass(frozen=True)
class EmailIncident:
    number: int
    severity: str
    service: str
    title: str
    incident_url: str
    ack_url: str
    resolve_url: str
    details: str = ""


@dataclass(frozen=True)
class EmailPage:
    from_addr: str
    to_addr: str
    incident: EmailIncident
    app: str = "Watchbill"


@dataclass(frozen=True)
class EmailBundle:
    from_addr: str
    to_addr: str
    incidents: tuple[EmailIncident, ...]
    overview_url: str | None = None
    app: str = "Watchbill"


@dataclass(frozen=True)
class ActionPage:
    """What the GET on an e-mail action link shows."""

    action: Action
    incident_number: int
    title: str
    severity: str
    service: str
    post_url: str  # the form target; the POST applies the action
    token: str  # signed token, echoed in a hidden field
    status: str = ""  # current incident status, e.g. "triggered"
    token_field: str = "token"  # noqa: S105 -- a form field name, not a secret
    app: str = "Watchbill"


def _one_line(text: str) -> str:
    """Collapse whitespace; header values must not contain CR/LF."""
    return " ".join(text.split())


def _url(url: str) -> str:
    """Reject anything but http(s) URLs (no ``javascript:`` hrefs)."""
    if urlsplit(url).scheme.lower() not in ("http", "https") or any(c in url for c in "\r\n"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def page_subject(app: str, number: int, severity: str, title: str) -> str:
    """``[Watchbill] #42 CRITICAL Checkout API errors``."""
    return _one_line(f"[{app}] #{number} {severity.upper()} {title}")


def _new_message(from_addr: str, to_addr: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = _one_line(from_addr)
    msg["To"] = _one_line(to_addr)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    return msg


def _html_document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)}</title>\n</head>\n"
        '<body style="font-family: sans-serif; max-width: 40em; margin: 1em auto;">\n'
        f"{body}\n</body>\n</html>\n"
    )


def _incident_text(inc: EmailIncident) -> str:
    lines = [
        f"#{inc.number} {inc.severity.upper()} {_one_line(inc.service)}",
        _one_line(inc.title),
        "",
        f"Acknowledge: {_url(inc.ack_url)}",
        f"Resolve:     {_url(inc.resolve_url)}",
        f"Incident:    {_url(inc.incident_url)}",
    ]
    if inc.details.strip():
        lines += ["", "Details:", inc.details.strip()]
    return "\n".join(lines)


def _incident_html(inc: EmailIncident, heading: str) -> str:
    parts = [
        f"<{heading}>#{inc.number} {_e(inc.severity.upper())} {_e(_one_line(inc.service))}"
        f"</{heading}>",
        f"<p>{_e(_one_line(inc.title))}</p>",
        "<p>"
        f'<a href="{_e(_url(inc.ack_url))}">Acknowledge #{inc.number}</a> &middot; '
        f'<a href="{_e(_url(inc.resolve_url))}">Resolve #{inc.number}</a> &middot; '
        f'<a href="{_e(_url(inc.incident_url))}">View incident</a>'
        "</p>",
    ]
    if inc.details.strip():
        parts.append(f'<pre style="white-space: pre-wrap;">{_e(inc.details.strip())}</pre>')
    return "\n".join(parts)


def compose_page_email(p: EmailPage) -> EmailMessage:
    inc = p.incident
    subject = page_subject(p.app, inc.number, inc.severity, inc.title)
    msg = _new_message(p.from_addr, p.to_addr, subject)
    msg.set_content(f"{_incident_text(inc)}\n\n-- \n{p.app}\n")
    msg.add_alternative(
        _html_document(subject, _incident_html(inc, "h1") + f"\n<hr>\n<p>{_e(p.app)}</p>"),
        subtype="html",
    )
    return msg


def compose_bundle_email(b: EmailBundle) -> EmailMessage:
    """One mail for several incidents, each with its own action links.

    Subject: ``[Watchbill] 3 incidents: #42, #43, #44``.
    """
    if not b.incidents:
        raise ValueError("compose_bundle_email needs at least one incident")
    numbers = ", ".join(f"#{inc.number}" for inc in b.incidents)
    subject = _one_line(f"[{b.app}] {len(b.incidents)} incidents: {numbers}")
    msg = _new_message(b.from_addr, b.to_addr, subject)
    text_parts = [_incident_text(inc) for inc in b.incidents]
    html_parts = [_incident_html(inc, "h2") for inc in b.incidents]
    footer_text, footer_html = f"-- \n{b.app}", f"<p>{_e(b.app)}</p>"
    if b.overview_url:
        footer_text = f"All open incidents: {_url(b.overview_url)}\n\n{footer_text}"
        footer_html = (
            f'<p><a href="{_e(_url(b.overview_url))}">All open incidents</a></p>\n{footer_html}'
        )
    msg.set_content("\n\n".join([*text_parts, footer_text]) + "\n")
    body = f"<h1>{len(b.incidents)} incidents</h1>\n" + "\n<hr>\n".join(html_parts)
    msg.add_alternative(_html_document(subject, f"{body}\n<hr>\n{footer_html}"), subtype="html")
    return msg


def compose_verification_email(
    code: str, from_addr: str, to_addr: str, app: str = "Watchbill"
) -> EmailMessage:
    """Contact-method verification mail; ``code`` is shown verbatim."""
    code = _one_line(code)
    if not code:
        raise ValueError("verification code must not be empty")
    subject = f"[{app}] Verification code {code}"
    msg = _new_message(from_addr, to_addr, subject)
    msg.set_content(
        f"Your {app} verification code is: {code}\n\n"
        "Enter it in the page where you added this address. If you did not "
        "request it, ignore this mail.\n"
    )
    msg.add_alternative(
        _html_document(
            subject,
            f"<p>Your {_e(app)} verification code is:</p>\n"
            f'<p style="font-size: 2em; letter-spacing: 0.2em;"><strong>{_e(code)}</strong></p>\n'
            "<p>Enter it in the page where you added this address. If you did not "
            "request it, ignore this mail.</p>",
        ),
        subtype="html",
    )
    return msg


def render_action_confirmation_page(page: ActionPage) -> str:
    """HTML for a GET on an e-mail action link: summary plus a POST form."""
    label = f"{page.action.verb} #{page.incident_number}"
    status = f"<p>Status: {_e(page.status)}</p>\n" if page.status else ""
    body = (
        f"<h1>{_e(label)}?</h1>\n"
        f"<p><strong>#{page.incident_number} {_e(page.severity.upper())} "
        f"{_e(_one_line(page.service))}</strong></p>\n"
        f"<p>{_e(_one_line(page.title))}</p>\n"
        f"{status}"
        f'<form method="post" action="{_e(page.post_url)}">\n'
        f'<input type="hidden" name="{_e(page.token_field)}" value="{_e(page.token)}">\n'
        f'<button type="submit">{_e(label)}</button>\n'
        "</form>"
    )
    return _html_document(f"{label} - {page.app}", body)


def render_action_done_page(
    action: Action,
    incident_number: int,
    title: str,
    incident_url: str | None = None,
    app: str = "Watchbill",
) -> str:
    """``Acknowledged #42`` page shown after the POST succeeded."""
    head = confirmation_line(action, incident_number)
    link = f'<p><a href="{_e(_url(incident_url))}">View incident</a></p>' if incident_url else ""
    body = f"<h1>{_e(head)}</h1>\n<p>{_e(_one_line(title))}</p>\n{link}"
    return _html_document(f"{head} - {app}", body.rstrip())


def render_action_error_page(message: str, app: str = "Watchbill") -> str:
    body = f"<h1>Sorry</h1>\n<p>{_e(message)}</p>"
    return _html_document(f"Error - {app}", body)
