"""E-mail through SMTP (stdlib ``smtplib``): pages with signed acknowledge / resolve links.

A 4xx SMTP reply, a dropped connection or a timeout is temporary (retried with backoff);
a 5xx reply (unknown mailbox, refused sender, failed login) is permanent.
"""

from __future__ import annotations

import re
import secrets
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

from paging.details_text import render_details
from paging.outbox.channel import IncidentView, Outcome, Outgoing, SendResult
from paging.providers.email.email_text import (
    EmailBundle,
    EmailIncident,
    EmailPage,
    compose_bundle_email,
    compose_page_email,
    compose_verification_email,
)
from store.settings import Settings

TIMEOUT_SECONDS = 20.0
_CODE = re.compile(r"\b(\d{6})\b")


def _incident(view: IncidentView) -> EmailIncident:
    return EmailIncident(
        number=view.number,
        severity=view.severity,
        service=view.service,
        title=view.title,
        incident_url=view.url,
        ack_url=view.ack_url or view.url,
        resolve_url=view.resolve_url or view.url,
        details=render_details(view.details),
    )


def _plain(from_addr: str, to_addr: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = from_addr
    msg["To"] = to_addr
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text + "\n")
    return msg


def compose(message: Outgoing, from_addr: str) -> EmailMessage:
    to_addr = message.address
    if message.kind == "verify" and message.text and (code := _CODE.search(message.text)):
        return compose_verification_email(code.group(1), from_addr, to_addr)
    if message.kind == "password_reset":
        return _plain(from_addr, to_addr, "[Watchbill] Set a new password", message.text or "")
    if message.kind == "invite":
        return _plain(from_addr, to_addr, "[Watchbill] You are invited", message.text or "")
    if message.text is not None or not message.incidents:
        return _plain(from_addr, to_addr, "[Watchbill] Test page", message.text or "")
    if len(message.incidents) == 1:
        return compose_page_email(EmailPage(from_addr, to_addr, _incident(message.incidents[0])))
    incidents = tuple(_incident(view) for view in message.incidents)
    return compose_bundle_email(EmailBundle(from_addr, to_addr, incidents))


def _failure(exc: Exception) -> SendResult:
    code: int | None = None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min(int(reply[0]) for reply in exc.recipients.values())
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = int(exc.smtp_code)
    error = f"SMTP {code or type(exc).__name__}: {exc}"
    permanent = code is not None and 500 <= code < 600
    return SendResult(
        Outcome.permanent if permanent else Outcome.temporary, error=error, error_code=code
    )


class SmtpChannel:
    def __init__(self, settings: Settings, timeout: float = TIMEOUT_SECONDS) -> None:
        if not settings.smtp_enabled:
            raise ValueError("SMTP is not configured")
        self.name = "email"
        self.host = str(settings.smtp_host)
        self.port = settings.smtp_port
        self.from_addr = str(settings.smtp_from)
        self.username = settings.smtp_username
        self.password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        self.starttls = settings.smtp_starttls
        self.timeout = timeout
        self.domain = self.from_addr.rpartition("@")[2].strip("> ") or "watchbill.invalid"

    def send(self, message: Outgoing) -> SendResult:
        msg = compose(message, self.from_addr)
        msg["Date"] = formatdate(usegmt=True)
        local = f"{message.notification_id}.{secrets.token_hex(4)}"
        msg["Message-ID"] = f"<{local}@{self.domain}>"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            return _failure(exc)
        return SendResult(Outcome.sent, provider_id=local)

    def lookup(
        self, message: Outgoing, since: datetime, known: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """SMTP cannot tell whether a message went out: send again (a duplicate beats a loss)."""
        return None
