"""A real HTTP fake of Twilio's REST API (Messages and Calls) for tests, on 127.0.0.1.

The fake listens on a random free loopback port in a background thread, checks HTTP Basic
auth like Twilio, answers in Twilio's JSON shapes, and then - like Twilio - calls the
application back with signed webhooks (``X-Twilio-Signature``, HMAC-SHA1 keyed by the auth
token): SMS status callbacks, and for calls the TwiML ``Url`` / ``<Gather>`` actions /
``<Redirect>`` targets and the call status callbacks. Webhooks only go to loopback URLs.
Lifecycles start once the REST answer is written, so (as with real Twilio) a callback may
reach the app before it has stored the SID; ``step_delay`` spaces the steps out if needed.

    with TwilioFake(account_sid, auth_token) as fake:
        client = Client(account_sid, auth_token, http_client=BaseUrlHttpClient(fake.url))
        client.messages.create(to="+15550001", from_="+15550002", body="hi",
                               status_callback=f"{public_url}/twilio/sms-status")
        fake.wait_for(lambda: fake.messages_to("+15550001")[0].status == "delivered")

Pointing twilio 9.x at the fake. The SDK has no base-URL argument; the recommended way is an
http client that rewrites ``https://api.twilio.com`` (the api domain's base URL) to the fake:

    class BaseUrlHttpClient(TwilioHttpClient):
        def __init__(self, base_url: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.base_url = base_url.rstrip("/")

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
            if url.startswith("https://api.twilio.com/"):
                url = self.base_url + url[len("https://api.twilio.com"):]
            return super().request(method, url, *args, **kwargs)

It covers every call made through the client (create, fetch, list paging, update). Setting
``client.api.base_url = fake.url`` also works in 9.x (``client.messages``/``client.calls`` go
through the cached ``client.api`` domain) but relies on an SDK attribute. With either way leave
``edge``/``region`` (and ``TWILIO_EDGE``/``TWILIO_REGION``) unset: they rewrite the host.
Both ways are exercised in ``test_twilio_fake.py``.
"""

from __future__ import annotations

import secrets
import threading
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Literal, TypeVar

import httpx

from tests.fakes.twilio_fake_calls import (
    API_VERSION,
    CallRecord,
    FakeState,
    MessageRecord,
    Simulator,
    Webhook,
    WebhookPoster,
)
from tests.fakes.twilio_fake_rest import (
    ERROR_MESSAGES,
    HTTP_ERROR_CODES,
    RestApi,
    RestServer,
    segments,
)
from tests.fakes.twilio_fake_timing import AnswerTiming

__all__ = ["CallRecord", "MessageRecord", "TwilioFake", "Webhook"]

T = TypeVar("T")
SmsOutcome = Literal["delivered", "undelivered", "failed", "sent"]
CallOutcome = Literal["answer", "no-answer", "busy", "failed"]

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "f" * 32
KEYWORDS = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), "STOP"),
    **dict.fromkeys(("START", "YES", "UNSTOP"), "START"),
    **dict.fromkeys(("HELP", "INFO"), "HELP"),
}
MESSAGING_ONLY_CODES = frozenset({21610, 21614})


class TwilioFake:
    """Fake Twilio REST API + webhook sender. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        step_delay: float = 0.0,
        max_call_steps: int = 20,
        webhook_timeout: float = 10.0,
        webhook_client: httpx.Client | None = None,
    ) -> None:
        """``step_delay``: seconds between lifecycle steps (sent, delivered, ringing...).
        ``webhook_client``: custom httpx client for webhooks (lifts the loopback-only rule)."""
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._state = FakeState()
        self._stopping = threading.Event()
        self._poster = WebhookPoster(auth_token, webhook_client, webhook_timeout)
        self._sim = Simulator(self._state, self._poster, self._stopping, step_delay, max_call_steps)
        self._timing = AnswerTiming(self._stopping)
        self._rest = RestApi(
            account_sid, auth_token, self._state, self._sim, self._spawn, self._timing
        )
        self._server: RestServer | None = None
        self._thread: threading.Thread | None = None
        self._jobs: set[threading.Thread] = set()
        self._errors: list[str] = []
        self._inbound: list[Webhook] = []

    # ------------------------------------------------------------ lifecycle
    def start(self) -> TwilioFake:
        if self._server is not None or self._stopping.is_set():
            raise RuntimeError("TwilioFake can be started once")
        self._server = self._rest.serve()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="twilio-fake",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        deadline = time.monotonic() + 5
        while self._job_snapshot() and time.monotonic() < deadline:
            self._join_jobs(deadline)
        self._poster.close()

    def __enter__(self) -> TwilioFake:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("TwilioFake is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ---------------------------------------------------- failure injection
    def fail_next(self, n: int = 1, status: int = 500, code: int | None = None) -> None:
        """The next ``n`` REST creates answer HTTP ``status`` with a Twilio error body."""
        with self._state.lock:
            entry = (status, code or HTTP_ERROR_CODES.get(status, 20500))
            self._state.fail_queue.extend([entry] * n)

    def answer_late(self, seconds: float, n: int = 1) -> None:
        """The next ``n`` creates are accepted (the message or call goes out) but answered
        only ``seconds`` later: longer than the client waits, and it cannot know."""
        self._timing.delay_next(n, seconds)

    def answer_slowly(self, seconds: float) -> None:
        """Every create is answered ``seconds`` after it was accepted (a slow provider)."""
        self._timing.delay_every(seconds)

    def hold_answers(self, after: int = 0) -> None:
        """Accept creates but answer none - but the next ``after`` - until
        :meth:`release_answers` (or :meth:`stop`)."""
        self._timing.hold(after)

    def release_answers(self) -> None:
        self._timing.release()

    @property
    def unanswered(self) -> int:
        """Creates accepted whose answer is being held back or delayed right now."""
        return self._timing.waiting

    def set_number_error(
        self,
        number: str,
        code: int = 21610,
        *,
        status: int = 400,
        message: str | None = None,
        channel: Literal["sms", "call", "any"] | None = None,
    ) -> None:
        """Creates to ``number`` fail with ``code``. ``channel`` None: "sms" for the
        messaging-only codes (21610 unsubscribed, 21614 not mobile), else "any"."""
        channel = channel or ("sms" if code in MESSAGING_ONLY_CODES else "any")
        text = message or ERROR_MESSAGES.get(code, f"Error {code}")
        if code == 21211 and message is None:
            text = f"The 'To' number {number} is not a valid phone number."
        with self._state.lock:
            self._state.number_errors[number] = (channel, status, code, text)

    def clear_number_error(self, number: str) -> None:
        with self._state.lock:
            self._state.number_errors.pop(number, None)

    def set_sms_outcome(
        self, number: str, outcome: SmsOutcome = "delivered", error_code: int | None = None
    ) -> None:
        """delivered: sent→delivered; undelivered: sent→undelivered (ErrorCode, default
        30003); failed: failed (default 30008); sent: stays sent (no delivery receipt)."""
        if outcome not in ("delivered", "undelivered", "failed", "sent"):
            raise ValueError(outcome)
        with self._state.lock:
            self._state.sms_outcomes[number] = (outcome, error_code)

    def set_call_outcome(self, number: str, outcome: CallOutcome = "answer") -> None:
        if outcome not in ("answer", "no-answer", "busy", "failed"):
            raise ValueError(outcome)
        with self._state.lock:
            self._state.call_outcomes[number] = outcome

    def queue_digits(self, number: str, *digits: str) -> None:
        """Each string is what the callee keys into one future ``<Gather>`` on a call to it."""
        with self._state.lock:
            self._state.digits[number].extend(digits)

    def reset(self) -> None:
        """Wait for running lifecycles, then forget records and every injected behaviour."""
        self._timing.reset()
        self.wait_idle()
        with self._state.lock:
            for table in (
                self._state.messages,
                self._state.calls,
                self._state.digits,
                self._state.sms_outcomes,
                self._state.call_outcomes,
                self._state.number_errors,
                self._state.fail_queue,
            ):
                table.clear()
            self._inbound.clear()

    # ------------------------------------------------------------- records
    @property
    def messages(self) -> list[MessageRecord]:
        with self._state.lock:
            return list(self._state.messages.values())

    @property
    def calls(self) -> list[CallRecord]:
        with self._state.lock:
            return list(self._state.calls.values())

    @property
    def inbound(self) -> list[Webhook]:
        """Inbound SMS webhooks sent with :meth:`send_sms`."""
        with self._state.lock:
            return list(self._inbound)

    @property
    def errors(self) -> list[str]:
        """Exceptions raised inside the fake's own threads (should stay empty)."""
        with self._state.lock:
            return list(self._errors)

    def messages_to(self, number: str) -> list[MessageRecord]:
        return [m for m in self.messages if m.to == number]

    def calls_to(self, number: str) -> list[CallRecord]:
        return [c for c in self.calls if c.to == number]

    def message(self, sid: str) -> MessageRecord:
        with self._state.lock:
            return self._state.messages[sid]

    def call(self, sid: str) -> CallRecord:
        with self._state.lock:
            return self._state.calls[sid]

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.01
    ) -> T:
        """Poll until ``predicate()`` is truthy and return its value; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"not true within {timeout}s: {predicate!r}; fake errors: {self.errors}"
                )
            time.sleep(interval)
        return value

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until every message / call lifecycle has finished."""
        deadline = time.monotonic() + timeout
        while self._job_snapshot():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"lifecycles still running after {timeout}s")
            self._join_jobs(deadline)

    # ------------------------------------------------------------ webhooks
    def sign(self, url: str, params: dict[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send for a POST of ``params`` to ``url``."""
        return self._poster.sign(url, params)

    def post_webhook(
        self,
        url: str,
        params: dict[str, str],
        *,
        method: str = "POST",
        bad_signature: bool = False,
    ) -> Webhook:
        """Send any signed (or wrongly signed) webhook, synchronously."""
        return self._poster.post(url, params, method=method, bad_signature=bad_signature)

    def send_sms(
        self,
        from_: str,
        to: str,
        body: str,
        url: str,
        *,
        bad_signature: bool = False,
        extra_params: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """Deliver an inbound SMS webhook to ``url``; returns (HTTP status, response text)."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(segments(body)),
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        if keyword := KEYWORDS.get(body.strip().upper()):
            params["OptOutType"] = keyword
        hook = self._poster.post(
            url, {**params, **(extra_params or {})}, bad_signature=bad_signature
        )
        with self._state.lock:
            self._inbound.append(hook)
        if hook.status_code is None:
            raise ConnectionError(hook.error)
        return hook.status_code, hook.body

    # ------------------------------------------------------- internals
    def _job_snapshot(self) -> list[threading.Thread]:
        with self._state.lock:
            return list(self._jobs)

    def _spawn(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Register a lifecycle job now (so wait_idle sees it); the returned starter runs it."""

        def run() -> None:
            try:
                fn()
            except Exception:
                with self._state.lock:
                    self._errors.append(traceback.format_exc())
            finally:
                with self._state.lock:
                    self._jobs.discard(threading.current_thread())

        job = threading.Thread(target=run, name="twilio-fake-lifecycle", daemon=True)
        with self._state.lock:
            self._jobs.add(job)
        return job.start

    def _join_jobs(self, deadline: float) -> None:
        for job in self._job_snapshot():
            if job.ident is None:  # registered, started right after the REST answer is out
                time.sleep(0.002)
            else:
                job.join(max(0.0, deadline - time.monotonic()))
