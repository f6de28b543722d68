"""Self-tests of the Twilio fake, driven through the real twilio SDK over loopback HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.twilio_fake import TwilioFake

SID = "AC" + "1234abcd" * 4
TOKEN = "0123456789abcdef0123456789abcdef"
TWILIO_API = "https://api.twilio.com"
ALICE, BOB, OURS = "+15555550101", "+15555550102", "+15555550100"


# Copy of the rewriting client that production code (paging/) will own.
class BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """TwilioHttpClient sending requests meant for https://api.twilio.com to ``base_url``."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API + "/"):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class Received:
    method: str
    url: str  # full URL as requested, including the query string
    path: str
    params: dict[str, str]
    signature: str

    def valid(self, token: str = TOKEN) -> bool:
        return bool(RequestValidator(token).validate(self.url, self.params, self.signature))


class Receiver:
    """A tiny stand-in for our service: records requests, answers per path."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.routes: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                params = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                path = urlsplit(self.path).path
                with receiver.lock:
                    receiver.requests.append(
                        Received(
                            self.command,
                            receiver.url + self.path,
                            path,
                            params,
                            self.headers.get("X-Twilio-Signature", ""),
                        )
                    )
                    answer = receiver.routes.get(path, "<Response/>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def wait(self, fake: TwilioFake, path: str, count: int = 1) -> list[Received]:
        fake.wait_for(lambda: len(self.at(path)) >= count)
        return self.at(path)


@pytest.fixture
def fake() -> Iterator[TwilioFake]:
    with TwilioFake(SID, TOKEN) as running:
        yield running
        assert running.errors == []


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def client(fake: TwilioFake) -> Client:
    return Client(SID, TOKEN, http_client=BaseUrlHttpClient(fake.url))


def test_sms_is_recorded_and_status_callbacks_are_signed(
    fake: TwilioFake, receiver: Receiver, client: Client
) -> None:
    msg = client.messages.create(
        to=ALICE,
        from_=OURS,
        body="Disk full on db1",
        status_callback=f"{receiver.url}/sms-status?x=1",
    )
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert (msg.status, msg.to, msg.from_, msg.body) == ("queued", ALICE, OURS, "Disk full on db1")
    assert msg.error_code is None and msg.num_segments == "1" and msg.account_sid == SID

    hooks = receiver.wait(fake, "/sms-status", 2)
    assert [h.params["MessageStatus"] for h in hooks] == ["sent", "delivered"]
    for hook in hooks:
        assert hook.valid() and not hook.valid("another-token")
        assert hook.params["MessageSid"] == hook.params["SmsSid"] == msg.sid
        assert (hook.params["AccountSid"], hook.params["From"], hook.params["To"]) == (
            SID,
            OURS,
            ALICE,
        )
        assert "ErrorCode" not in hook.params
    fake.wait_for(lambda: len(fake.messages_to(ALICE)[0].callbacks) == 2)
    (record,) = fake.messages_to(ALICE)
    assert record.body == "Disk full on db1" and record.status == "delivered"
    assert [c.status_code for c in record.callbacks] == [200, 200]
    assert client.messages(msg.sid).fetch().status == "delivered"
    assert [m.sid for m in client.messages.list(to=ALICE)] == [msg.sid]
    assert client.messages.list(to=BOB) == []


def test_injected_http_failures_raise_twilio_rest_exception(
    fake: TwilioFake, client: Client
) -> None:
    fake.fail_next(1)
    fake.fail_next(1, status=429)
    with pytest.raises(TwilioRestException) as first:
        client.messages.create(to=ALICE, from_=OURS, body="x")
    assert (first.value.status, first.value.code) == (500, 20500)
    with pytest.raises(TwilioRestException) as second:
        client.calls.create(to=ALICE, from_=OURS, url="http://127.0.0.1:9/voice")
    assert (second.value.status, second.value.code) == (429, 20429)
    assert client.messages.create(to=ALICE, from_=OURS, body="x").status == "queued"
    with pytest.raises(TwilioRestException) as missing:
        client.messages("SM" + "0" * 32).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as denied:
        Client(SID, "wrong", http_client=BaseUrlHttpClient(fake.url)).messages.create(
            to=ALICE, from_=OURS, body="x"
        )
    assert (denied.value.status, denied.value.code) == (401, 20003)


def test_an_answer_after_the_clients_timeout_still_sends_the_message(
    fake: TwilioFake, receiver: Receiver
) -> None:
    impatient = Client(SID, TOKEN, http_client=BaseUrlHttpClient(fake.url, timeout=0.3))
    fake.answer_late(1.0)
    with pytest.raises(requests.ReadTimeout):
        impatient.messages.create(
            to=ALICE, from_=OURS, body="late", status_callback=f"{receiver.url}/sms-status"
        )
    # Accepted all the same: it is there, it is delivered, and a list finds it.
    [record] = fake.messages_to(ALICE)
    assert record.body == "late"
    assert [h.params["MessageStatus"] for h in receiver.wait(fake, "/sms-status", 2)] == [
        "sent",
        "delivered",
    ]
    assert [m.body for m in impatient.messages.list(to=ALICE)] == ["late"]
    fake.wait_for(lambda: fake.unanswered == 0, timeout=3)
    assert impatient.messages.create(to=BOB, from_=OURS, body="on time").status == "queued"


def test_held_answers_wait_until_released(fake: TwilioFake, client: Client) -> None:
    fake.hold_answers(after=1)
    assert client.messages.create(to=OURS, from_=OURS, body="answered").status == "queued"
    with ThreadPoolExecutor(2) as pool:
        waiting = [
            pool.submit(client.messages.create, to=number, from_=OURS, body="held")
            for number in (ALICE, BOB)
        ]
        fake.wait_for(lambda: fake.unanswered == 2)
        assert len(fake.messages) == 3 and not any(f.done() for f in waiting)
        fake.release_answers()
        assert {f.result(timeout=5).to for f in waiting} == {ALICE, BOB}
    assert fake.unanswered == 0


def test_per_number_permanent_errors(fake: TwilioFake, client: Client) -> None:
    fake.set_number_error(ALICE, code=21610)
    fake.set_number_error(BOB, code=21211)
    with pytest.raises(TwilioRestException) as stopped:
        client.messages.create(to=ALICE, from_=OURS, body="x")
    assert (stopped.value.status, stopped.value.code) == (400, 21610)
    # 21610 is messaging-only: voice to the same number still works
    assert client.calls.create(to=ALICE, from_=OURS, twiml="<Response/>").status == "queued"
    with pytest.raises(TwilioRestException) as invalid:
        client.calls.create(to=BOB, from_=OURS, twiml="<Response/>")
    assert (invalid.value.code, BOB in invalid.value.msg) == (21211, True)
    fake.wait_idle()
    assert [m.to for m in fake.messages] == []


def test_undelivered_sms_outcome(fake: TwilioFake, receiver: Receiver, client: Client) -> None:
    fake.set_sms_outcome(ALICE, "undelivered", error_code=30003)
    msg = client.messages.create(
        to=ALICE, from_=OURS, body="x", status_callback=f"{receiver.url}/sms-status"
    )
    hooks = receiver.wait(fake, "/sms-status", 2)
    assert [(h.params["MessageStatus"], h.params.get("ErrorCode")) for h in hooks] == [
        ("sent", None),
        ("undelivered", "30003"),
    ]
    fetched = client.messages(msg.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


def test_answered_call_gathers_queued_digit(
    fake: TwilioFake, receiver: Receiver, client: Client
) -> None:
    receiver.routes["/voice"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" '
        'action="/voice/ack?page=7"><Say>Disk full. Press 4 to acknowledge.</Say></Gather>'
        "<Say>Goodbye</Say></Response>"
    )
    receiver.routes["/voice/ack"] = "<Response><Say>Acknowledged</Say><Hangup/></Response>"
    fake.queue_digits(ALICE, "4")
    call = client.calls.create(
        to=ALICE,
        from_=OURS,
        url=f"{receiver.url}/voice?page=7",
        status_callback=f"{receiver.url}/call-status",
    )
    assert call.sid.startswith("CA") and len(call.sid) == 34 and call.status == "queued"

    (final,) = receiver.wait(fake, "/call-status")
    assert final.valid() and final.params["CallStatus"] == "completed"
    assert int(final.params["CallDuration"]) >= 1
    first, ack = receiver.at("/voice")[0], receiver.at("/voice/ack")[0]
    assert first.valid() and "Digits" not in first.params
    assert (first.params["CallStatus"], first.params["Direction"]) == (
        "in-progress",
        "outbound-api",
    )
    assert ack.valid() and ack.params["Digits"] == "4" and ack.params["CallSid"] == call.sid
    assert ack.url.endswith("/voice/ack?page=7")
    record = fake.call(call.sid)
    assert record.say == ("Disk full. Press 4 to acknowledge.", "Acknowledged")
    assert record.digits == ("4",) and record.errors == ()
    assert [w.status_code for w in record.webhooks] == [200, 200]
    fetched = client.calls(call.sid).fetch()
    assert fetched.status == "completed" and fetched.duration == final.params["CallDuration"]


def test_gather_timeout_falls_through_and_loops_are_bounded(
    receiver: Receiver,
) -> None:
    receiver.routes["/voice"] = (
        '<Response><Gather action="/ack"><Say>Press 4</Say></Gather>'
        "<Redirect>/voice/again</Redirect></Response>"
    )
    receiver.routes["/voice/again"] = "<Response><Redirect>/voice/again</Redirect></Response>"
    with TwilioFake(SID, TOKEN, max_call_steps=3) as fake:
        client = Client(SID, TOKEN, http_client=BaseUrlHttpClient(fake.url))
        sid = client.calls.create(
            to=ALICE,
            from_=OURS,
            url=f"{receiver.url}/voice",
            status_callback_event=["initiated", "ringing", "answered"],
            status_callback=f"{receiver.url}/status",
        ).sid
        fake.wait_for(lambda: fake.call(sid).status == "completed")
        fake.wait_idle()
        record = fake.call(sid)
    assert receiver.at("/ack") == []
    assert [r.params.get("Digits") for r in receiver.at("/voice/again")] == [None] * 3
    assert record.say == ("Press 4",) and "stopped after 3" in record.errors[0]
    assert [r.params["CallStatus"] for r in receiver.at("/status")] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert [r.params["SequenceNumber"] for r in receiver.at("/status")] == ["0", "1", "2", "3"]


def test_unanswered_call_posts_only_final_status(
    fake: TwilioFake, receiver: Receiver, client: Client
) -> None:
    fake.set_call_outcome(ALICE, "no-answer")
    fake.set_call_outcome(BOB, "busy")
    sids = [
        client.calls.create(
            to=n, from_=OURS, url=f"{receiver.url}/voice", status_callback=f"{receiver.url}/status"
        ).sid
        for n in (ALICE, BOB)
    ]
    hooks = receiver.wait(fake, "/status", 2)
    assert sorted(h.params["CallStatus"] for h in hooks) == ["busy", "no-answer"]
    assert all(h.valid() and h.params["CallDuration"] == "0" for h in hooks)
    assert receiver.at("/voice") == []
    assert [client.calls(s).fetch().status for s in sids] == ["no-answer", "busy"]


def test_hang_up_over_rest_before_answer(receiver: Receiver) -> None:
    with TwilioFake(SID, TOKEN, step_delay=0.3) as fake:
        client = Client(SID, TOKEN, http_client=BaseUrlHttpClient(fake.url))
        sid = client.calls.create(
            to=ALICE,
            from_=OURS,
            url=f"{receiver.url}/voice",
            status_callback=f"{receiver.url}/status",
        ).sid
        assert client.calls(sid).update(status="canceled").status == "canceled"
        (hook,) = receiver.wait(fake, "/status")
        fake.wait_idle()
    assert hook.params["CallStatus"] == "canceled" and receiver.at("/voice") == []


def test_inbound_sms_is_signed_and_flags_opt_out(fake: TwilioFake, receiver: Receiver) -> None:
    receiver.routes["/sms"] = "<Response><Message>Acked</Message></Response>"
    status, text = fake.send_sms(ALICE, OURS, "ack 12", f"{receiver.url}/sms")
    assert (status, text) == (200, "<Response><Message>Acked</Message></Response>")
    fake.send_sms(ALICE, OURS, " stop ", f"{receiver.url}/sms")
    fake.send_sms(ALICE, OURS, "ack", f"{receiver.url}/sms", bad_signature=True)
    plain, stop, forged = receiver.at("/sms")
    assert plain.valid() and stop.valid() and not forged.valid()
    assert forged.signature != fake.sign(forged.url, forged.params)
    assert (plain.params["Body"], plain.params["From"], plain.params["To"]) == (
        "ack 12",
        ALICE,
        OURS,
    )
    assert plain.params["NumMedia"] == "0" and plain.params["MessageSid"].startswith("SM")
    assert "OptOutType" not in plain.params and stop.params["OptOutType"] == "STOP"
    assert len(fake.inbound) == 3


def test_setting_api_base_url_also_works(fake: TwilioFake, receiver: Receiver) -> None:
    client = Client(SID, TOKEN)
    client.api.base_url = fake.url
    msg = client.messages.create(to=ALICE, from_=OURS, body="x")
    call = client.calls.create(to=ALICE, from_=OURS, twiml="<Response><Say>Hi</Say></Response>")
    fake.wait_for(lambda: client.messages(msg.sid).fetch().status == "delivered")
    fake.wait_for(lambda: client.calls(call.sid).fetch().status == "completed")
    assert fake.call(call.sid).say == ("Hi",)
