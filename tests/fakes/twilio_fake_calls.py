"""Records, signed webhooks and the simulated SMS / call lifecycles of the Twilio fake.

Internal to :mod:`tests.fakes.twilio_fake`; tests use the records (``MessageRecord``,
``CallRecord``, ``Webhook``) through :class:`tests.fakes.twilio_fake.TwilioFake`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
CALL_TERMINAL = frozenset({"completed", "canceled", "busy", "no-answer", "failed"})
SMS_DEFAULT_ERRORS = {"undelivered": 30003, "failed": 30008}
R = TypeVar("R", bound="MessageRecord | CallRecord")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Webhook:
    """One HTTP request the fake made to an application URL, and the answer it got."""

    url: str
    method: str
    params: Mapping[str, str]
    signature: str
    status_code: int | None  # None when the request could not be made (see ``error``)
    body: str
    error: str | None = None


@dataclass(frozen=True)
class MessageRecord:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    status_callback: str | None
    num_segments: int
    date_created: datetime
    date_updated: datetime
    error_code: int | None = None
    callbacks: tuple[Webhook, ...] = ()


@dataclass(frozen=True)
class CallRecord:
    sid: str
    account_sid: str
    to: str
    from_: str
    url: str | None
    method: str
    twiml: str | None
    status: str
    status_callback: str | None
    status_callback_events: tuple[str, ...]
    date_created: datetime
    date_updated: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    say: tuple[str, ...] = ()  # every <Say> text played, in order
    digits: tuple[str, ...] = ()  # every digit string sent to a <Gather> action
    webhooks: tuple[Webhook, ...] = ()  # TwiML fetches: Url, Gather actions, Redirects
    callbacks: tuple[Webhook, ...] = ()  # status callbacks
    errors: tuple[str, ...] = ()  # what Twilio would report as debugger notifications


@dataclass
class FakeState:
    """Everything the REST side and the simulation share; guard every access with ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: dict[str, MessageRecord] = field(default_factory=dict)
    calls: dict[str, CallRecord] = field(default_factory=dict)
    digits: defaultdict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    sms_outcomes: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    call_outcomes: dict[str, str] = field(default_factory=dict)
    # number -> (channel "sms" | "call" | "any", HTTP status, error code, message)
    number_errors: dict[str, tuple[str, int, int, str]] = field(default_factory=dict)
    fail_queue: deque[tuple[int, int]] = field(default_factory=deque)  # (HTTP status, code)

    def change(
        self,
        table: dict[str, R],
        sid: str,
        append: Mapping[str, tuple[object, ...]] | None = None,
        **changes: Any,
    ) -> R:
        """Replace record ``sid`` of ``table`` with ``changes`` and tuple fields extended."""
        with self.lock:
            old: R = table[sid]
            for name, items in (append or {}).items():
                changes[name] = (*getattr(old, name), *items)
            new = table[sid] = dataclasses.replace(old, **changes)
            return new

    def pop_digits(self, number: str) -> str | None:
        with self.lock:
            queue = self.digits.get(number)
            return queue.popleft() if queue else None


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookPoster:
    """Signs and sends webhooks the way Twilio does (X-Twilio-Signature, form-encoded POST)."""

    def __init__(self, auth_token: str, client: httpx.Client | None, timeout: float) -> None:
        self._validator = RequestValidator(auth_token)
        self._bad_validator = RequestValidator(auth_token + "-not-the-token")
        self._loopback_only = client is None
        self._client = client or httpx.Client(timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def sign(self, url: str, params: Mapping[str, str], *, bad: bool = False) -> str:
        validator = self._bad_validator if bad else self._validator
        return str(validator.compute_signature(url, dict(params)))

    def post(
        self,
        url: str,
        params: Mapping[str, str],
        *,
        method: str = "POST",
        bad_signature: bool = False,
    ) -> Webhook:
        method = method.upper()
        if method == "GET":  # Twilio signs the full URL incl. query; there is no body
            target = url + ("&" if "?" in url else "?") + urlencode(params)
            signature = self.sign(target, {}, bad=bad_signature)
        else:
            target, method = url, "POST"
            signature = self.sign(url, params, bad=bad_signature)
        record = Webhook(url, method, dict(params), signature, None, "")
        if self._loopback_only and not _is_loopback(url):
            return dataclasses.replace(record, error=f"refused non-loopback URL {url}")
        headers = {
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        try:
            if method == "GET":
                resp = self._client.get(target, headers=headers)
            else:
                resp = self._client.post(target, data=dict(params), headers=headers)
        except httpx.HTTPError as exc:
            return dataclasses.replace(record, error=f"{type(exc).__name__}: {exc}")
        return dataclasses.replace(record, status_code=resp.status_code, body=resp.text)


class Simulator:
    """Runs one message or call lifecycle (called on a background thread per resource)."""

    def __init__(
        self,
        state: FakeState,
        poster: WebhookPoster,
        stopping: threading.Event,
        step_delay: float,
        max_steps: int,
    ) -> None:
        self._state = state
        self._poster = poster
        self._stopping = stopping
        self._step_delay = step_delay
        self._max_steps = max_steps

    def _pause(self) -> bool:
        """Wait ``step_delay``; False when the fake is shutting down."""
        if self._step_delay > 0:
            self._stopping.wait(self._step_delay)
        return not self._stopping.is_set()

    # ----------------------------------------------------------------- SMS
    def run_message(self, sid: str, outcome: str, error_code: int | None) -> None:
        path = {
            "delivered": ("sent", "delivered"),
            "undelivered": ("sent", "undelivered"),
            "failed": ("failed",),
            "sent": ("sent",),
        }[outcome]
        for status in path:
            if not self._pause():
                return
            code = None
            if status in SMS_DEFAULT_ERRORS:
                code = error_code or SMS_DEFAULT_ERRORS[status]
            rec = self._state.change(
                self._state.messages, sid, status=status, error_code=code, date_updated=utcnow()
            )
            if not rec.status_callback:
                continue
            params = {
                "MessageSid": rec.sid,
                "SmsSid": rec.sid,
                "AccountSid": rec.account_sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "From": rec.from_,
                "To": rec.to,
                "ApiVersion": API_VERSION,
            }
            if code is not None:
                params["ErrorCode"] = str(code)
            hook = self._poster.post(rec.status_callback, params)
            self._state.change(self._state.messages, sid, append={"callbacks": (hook,)})

    # ---------------------------------------------------------------- calls
    def run_call(self, sid: str, behaviour: str) -> None:
        started = time.monotonic()
        for status, event in (("queued", "initiated"), ("ringing", "ringing")):
            if not self._pause() or not self._advance(sid, status):
                return self._finish(sid, None, started)
            self._status_callback(sid, event, event)
        if behaviour != "answer":
            return self._finish(sid, behaviour, started)
        if not self._pause() or not self._advance(sid, "in-progress", answered=True):
            return self._finish(sid, None, started)
        self._status_callback(sid, "answered", "in-progress")
        self._run_twiml(sid)
        return self._finish(sid, "completed", started)

    def _advance(self, sid: str, status: str, *, answered: bool = False) -> bool:
        """Move the call to ``status`` unless it already ended (e.g. hung up over REST)."""
        with self._state.lock:
            rec = self._state.calls[sid]
            if rec.status in CALL_TERMINAL:
                return False
            self._state.calls[sid] = dataclasses.replace(
                rec,
                status=status,
                date_updated=utcnow(),
                start_time=utcnow() if answered else rec.start_time,
            )
            return True

    def _finish(self, sid: str, status: str | None, started: float) -> None:
        """End the call (``status`` None: keep the terminal status set over REST)."""
        if self._stopping.is_set():
            return
        now = utcnow()
        with self._state.lock:
            rec = self._state.calls[sid]
            final = status if status and rec.status not in CALL_TERMINAL else rec.status
            duration = max(1, math.ceil(time.monotonic() - started)) if rec.start_time else 0
            rec = self._state.calls[sid] = dataclasses.replace(
                rec, status=final, end_time=now, date_updated=now, duration=duration
            )
        self._status_callback(
            sid,
            "completed",
            rec.status,
            {
                "CallDuration": str(rec.duration),
                "Duration": str(math.ceil((rec.duration or 0) / 60)),
            },
        )

    def _status_callback(
        self, sid: str, event: str, call_status: str, extra: Mapping[str, str] | None = None
    ) -> None:
        rec = self._state.calls[sid]
        if not rec.status_callback or event not in rec.status_callback_events:
            return
        params = {
            **self._call_params(rec, call_status),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(len(rec.callbacks)),
            "Timestamp": format_datetime(utcnow()),
            **(extra or {}),
        }
        hook = self._poster.post(rec.status_callback, params)
        self._note(sid, callbacks=(hook,))

    @staticmethod
    def _call_params(rec: CallRecord, call_status: str) -> dict[str, str]:
        return {
            "CallSid": rec.sid,
            "AccountSid": rec.account_sid,
            "From": rec.from_,
            "To": rec.to,
            "CallStatus": call_status,
            "Direction": "outbound-api",
            "ApiVersion": API_VERSION,
        }

    def _note(self, sid: str, **add: tuple[object, ...]) -> None:
        self._state.change(self._state.calls, sid, append=add)

    def _fetch(self, sid: str, url: str, method: str, digits: str | None) -> str | None:
        """Request TwiML from the application; None (call ends) on any error."""
        rec = self._state.calls[sid]
        params = self._call_params(rec, "in-progress")
        if digits is not None:
            params["Digits"] = digits
        hook = self._poster.post(url, params, method=method)
        self._note(sid, webhooks=(hook,))
        if hook.status_code is None or not 200 <= hook.status_code < 300:
            self._note(
                sid,
                errors=(
                    f"11200 HTTP retrieval failure: {url} -> {hook.status_code or hook.error}",
                ),
            )
            return None
        return hook.body

    def _run_twiml(self, sid: str) -> None:
        rec = self._state.calls[sid]
        doc_url = rec.url
        text = (
            rec.twiml
            if rec.twiml is not None
            else (self._fetch(sid, rec.url, rec.method, None) if rec.url else None)
        )
        steps = 0
        while text is not None and steps < self._max_steps and self._pause():
            if self._state.calls[sid].status in CALL_TERMINAL:
                return
            try:
                root = ET.fromstring(text)
            except ET.ParseError as exc:
                self._note(sid, errors=(f"12100 Document parse failure: {exc}",))
                return
            nxt = self._execute(sid, root, doc_url)
            if nxt is None:
                return
            doc_url, method, digits = nxt
            steps += 1
            text = self._fetch(sid, doc_url, method, digits)
        if text is not None and steps >= self._max_steps:
            self._note(sid, errors=(f"fake: stopped after {self._max_steps} TwiML fetches",))

    def _execute(
        self, sid: str, root: ET.Element, doc_url: str | None
    ) -> tuple[str, str, str | None] | None:
        """Play one TwiML document; returns the next (url, method, digits) to fetch, if any."""
        if root.tag != "Response":
            self._note(sid, errors=(f"12100 Document parse failure: root <{root.tag}>",))
            return None
        to = self._state.calls[sid].to
        for verb in root:
            if verb.tag == "Say":
                self._note(sid, say=("".join(verb.itertext()).strip(),))
            elif verb.tag == "Gather":
                said = tuple("".join(c.itertext()).strip() for c in verb if c.tag == "Say")
                self._note(sid, say=said)
                digits = self._state.pop_digits(to)
                if digits is None and verb.get("actionOnEmptyResult") != "true":
                    continue  # timeout without input: fall through to the next verb
                action = urljoin(doc_url or "", verb.get("action") or "") or doc_url
                if digits is not None:
                    self._note(sid, digits=(digits,))
                if not action:
                    self._note(sid, errors=("fake: <Gather> without a resolvable action",))
                    return None
                return action, verb.get("method", "POST"), digits
            elif verb.tag == "Redirect":
                target = urljoin(doc_url or "", (verb.text or "").strip())
                return (target, verb.get("method", "POST"), None) if target else None
            elif verb.tag in ("Hangup", "Reject"):
                return None
        return None
