"""The REST side of the Twilio fake: HTTP server, Basic auth, routing, Twilio JSON shapes.

Internal to :mod:`tests.fakes.twilio_fake`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hmac
import json
import math
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.twilio_fake_calls import (
    API_VERSION,
    CALL_TERMINAL,
    CallRecord,
    FakeState,
    MessageRecord,
    Simulator,
    utcnow,
)
from tests.fakes.twilio_fake_timing import AnswerTiming

Form = dict[str, list[str]]
Reply = tuple[int, dict[str, Any], Callable[[], None] | None]

ERROR_MESSAGES = {
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21205: "Url parameter is required.",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}
HTTP_ERROR_CODES = {401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}
_ROUTE = re.compile(
    r"/2010-04-01/Accounts/(?P<account>[^/]+)/(?P<kind>Messages|Calls)(?:/(?P<sid>[^/]+))?\.json"
)


def error_body(status: int, code: int, message: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, f"Error {code}"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _error(status: int, code: int, message: str | None = None) -> Reply:
    return status, error_body(status, code, message), None


def _one(form: Form, key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None


def _date(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def segments(body: str) -> int:
    single, multi = (160, 153) if body.isascii() else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / multi)


class RestApi:
    """Answers REST requests; ``spawn`` runs a lifecycle on a background thread."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        state: FakeState,
        sim: Simulator,
        spawn: Callable[[Callable[[], None]], Callable[[], None]],
        timing: AnswerTiming,
    ) -> None:
        self.account_sid = account_sid
        self.timing = timing
        self._credentials = (account_sid.encode(), auth_token.encode())
        self._state = state
        self._sim = sim
        self._spawn = spawn

    def serve(self) -> RestServer:
        server = RestServer(("127.0.0.1", 0), _Handler)
        server.api = self
        return server

    def handle(self, method: str, path: str, form: Form, authorization: str | None) -> Reply:
        if not self._authorized(authorization):
            return _error(401, 20003)
        route = _ROUTE.fullmatch(path)
        if route is None or route["account"] != self.account_sid:
            return _error(404, 20404, f"The requested resource {path} was not found")
        kind, sid = route["kind"], route["sid"]
        if sid is None:
            if method == "POST":
                return self._create(kind, form)
            if method == "GET":
                return self._list(kind, form, path)
            return _error(405, 20004)
        with self._state.lock:
            rec = (self._state.messages if kind == "Messages" else self._state.calls).get(sid)
        if rec is None:
            return _error(404, 20404, f"The requested resource {path} was not found")
        if method == "POST" and isinstance(rec, CallRecord):
            rec = self._hang_up(rec, _one(form, "Status"))
        elif method != "GET":
            return _error(405, 20004)
        return 200, self._json(rec), None

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).partition(b":")
        except binascii.Error:
            return False
        sid, token = self._credentials
        return hmac.compare_digest(user, sid) & hmac.compare_digest(password, token)

    def _hang_up(self, rec: CallRecord, status: str | None) -> CallRecord:
        """Call update with Status=completed|canceled ends the call (the lifecycle notices)."""
        if status not in ("completed", "canceled"):
            return rec
        with self._state.lock:
            rec = self._state.calls[rec.sid]
            if rec.status not in CALL_TERMINAL:
                rec = self._state.calls[rec.sid] = dataclasses.replace(
                    rec, status=status, date_updated=utcnow()
                )
            return rec

    def _create(self, kind: str, form: Form) -> Reply:
        to, from_ = _one(form, "To"), _one(form, "From")
        body, url, twiml = _one(form, "Body"), _one(form, "Url"), _one(form, "Twiml")
        with self._state.lock:
            if self._state.fail_queue:
                return _error(*self._state.fail_queue.popleft())
            number_error = self._state.number_errors.get(to or "")
            sms_outcome = self._state.sms_outcomes.get(to or "", ("delivered", None))
            call_outcome = self._state.call_outcomes.get(to or "", "answer")
        if not to:
            return _error(400, 21604)
        if not from_:
            return _error(400, 21603)
        if kind == "Messages" and not body:
            return _error(400, 21602)
        if kind == "Calls" and not (url or twiml):
            return _error(400, 21205)
        channel = "sms" if kind == "Messages" else "call"
        if number_error and number_error[0] in ("any", channel):
            return _error(*number_error[1:])
        now, callback = utcnow(), _one(form, "StatusCallback")
        rec: MessageRecord | CallRecord
        if kind == "Messages":
            rec = MessageRecord(
                "SM" + secrets.token_hex(16),
                self.account_sid,
                to,
                from_,
                body or "",
                "queued",
                callback,
                segments(body or ""),
                now,
                now,
            )
            job = functools.partial(self._sim.run_message, rec.sid, *sms_outcome)
        else:
            events = {e for v in form.get("StatusCallbackEvent", []) for e in v.split()}
            rec = CallRecord(
                "CA" + secrets.token_hex(16),
                self.account_sid,
                to,
                from_,
                url,
                (_one(form, "Method") or "POST").upper(),
                twiml,
                "queued",
                callback,
                tuple(sorted(events | {"completed"})),
                now,
                now,
            )
            job = functools.partial(self._sim.run_call, rec.sid, call_outcome)
        with self._state.lock:
            if isinstance(rec, MessageRecord):
                self._state.messages[rec.sid] = rec
            else:
                self._state.calls[rec.sid] = rec
        return 201, self._json(rec), self._spawn(job)

    def _list(self, kind: str, form: Form, path: str) -> Reply:
        with self._state.lock:
            table = self._state.messages if kind == "Messages" else self._state.calls
            records: list[MessageRecord | CallRecord] = list(table.values())
        to, from_ = _one(form, "To"), _one(form, "From")
        chosen = [
            r
            for r in reversed(records)  # newest first, like Twilio
            if (to is None or r.to == to) and (from_ is None or r.from_ == from_)
        ]
        return (
            200,
            {
                kind.lower(): [self._json(r) for r in chosen],
                "start": 0,
                "end": max(0, len(chosen) - 1),
                "page": 0,
                "uri": path,
                "page_size": int(_one(form, "PageSize") or 50),
                "first_page_uri": path,
                "next_page_uri": None,
                "previous_page_uri": None,
            },
            None,
        )

    @staticmethod
    def _json(r: MessageRecord | CallRecord) -> dict[str, Any]:
        base = f"/2010-04-01/Accounts/{r.account_sid}"
        common = {
            "account_sid": r.account_sid,
            "api_version": API_VERSION,
            "sid": r.sid,
            "to": r.to,
            "from": r.from_,
            "status": r.status,
            "direction": "outbound-api",
            "date_created": _date(r.date_created),
            "date_updated": _date(r.date_updated),
            "price": None,
            "price_unit": "USD",
        }
        if isinstance(r, MessageRecord):
            uri = f"{base}/Messages/{r.sid}"
            sent = r.status in ("sent", "delivered", "undelivered")
            return {
                **common,
                "body": r.body,
                "num_segments": str(r.num_segments),
                "num_media": "0",
                "error_code": r.error_code,
                "error_message": None,
                "date_sent": _date(r.date_updated) if sent else None,
                "messaging_service_sid": None,
                "uri": f"{uri}.json",
                "subresource_uris": {"media": f"{uri}/Media.json"},
            }
        uri = f"{base}/Calls/{r.sid}"
        return {
            **common,
            "duration": None if r.duration is None else str(r.duration),
            "start_time": _date(r.start_time),
            "end_time": _date(r.end_time),
            "to_formatted": r.to,
            "from_formatted": r.from_,
            "answered_by": None,
            "annotation": None,
            "caller_name": None,
            "forwarded_from": None,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": f"{uri}.json",
            "subresource_uris": {
                "notifications": f"{uri}/Notifications.json",
                "recordings": f"{uri}/Recordings.json",
            },
        }


class RestServer(ThreadingHTTPServer):
    daemon_threads = True
    api: RestApi


class _Handler(BaseHTTPRequestHandler):
    server: RestServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path)
        form = parse_qs(raw if method == "POST" else parts.query, keep_blank_values=True)
        api = self.server.api
        status, payload, after = api.handle(
            method, parts.path, form, self.headers.get("Authorization")
        )
        if method == "POST" and status == 201 and api.timing.will_wait():
            # Accepted: Twilio goes on with it while the answer is late.
            if after is not None:
                after()
                after = None
            api.timing.wait()
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client stopped waiting (a timeout) or died
        finally:
            if after is not None:  # the lifecycle starts only once the REST answer is out
                after()
