"""The official twilio SDK pointed at ``WATCHBILL_TWILIO_API_URL``, and its errors classified.

The SDK has no base-URL argument: ``BaseUrlHttpClient`` rewrites requests meant for Twilio's
API host (``https://api.twilio.com``, or an edge/region variant) to the configured base URL, so
a regional proxy or a local fake receives every create, fetch and list.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from paging.outbox.channel import Outcome, SendResult
from store.settings import Settings

TWILIO_API = "https://api.twilio.com"
_API_HOST = re.compile(r"https://api(?:\.[a-z0-9-]+)*\.twilio\.com(?=/)")

#: Errors that never go away by retrying (the number, not Twilio, is the problem).
OPTED_OUT = 21610  # the recipient replied STOP to our number
PERMANENT_CODES = {
    OPTED_OUT: "recipient has opted out (replied STOP)",
    21211: "invalid 'To' phone number",
    21614: "'To' number is not a mobile number",
    21612: "cannot route to this number",
    21408: "sending to this region is not enabled",
}
TEMPORARY_CODES = frozenset({20429, 20500, 20503})
#: Answers after which the request may have been carried out all the same.
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})


class BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """A TwilioHttpClient that sends requests meant for Twilio's API host to ``base_url``."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self.base_url != TWILIO_API:
            url = _API_HOST.sub(self.base_url, url, count=1)
        return super().request(method, url, *args, **kwargs)


class TwilioApi:
    """One SDK client per thread (the engine sends from a pool of threads)."""

    def __init__(self, settings: Settings, timeout: float | None = None) -> None:
        if not settings.twilio_enabled:
            raise ValueError("Twilio is not configured")
        assert settings.twilio_auth_token is not None and settings.twilio_from is not None
        self.account_sid = str(settings.twilio_account_sid)
        self.auth_token = settings.twilio_auth_token.get_secret_value()
        self.from_number = settings.twilio_from
        self.base_url = settings.twilio_api_url
        self.timeout = timeout if timeout is not None else settings.twilio_timeout_seconds
        self._local = threading.local()

    def client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            http = BaseUrlHttpClient(self.base_url, timeout=self.timeout)
            client = Client(self.account_sid, self.auth_token, http_client=http)
            self._local.client = client
        return client


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request surely never reached Twilio (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def failure(exc: Exception) -> SendResult:
    """What a failed API call means: retry later (5xx, 429, timeout) or never (bad number).

    A failure after which Twilio may have accepted the request all the same - a timeout
    waiting for its answer, a connection dropped once the request was sent, a 500/502/504 -
    is ``ambiguous``: the engine asks Twilio (``lookup``) before it sends again.
    """
    if isinstance(exc, TwilioRestException):
        status, code = int(exc.status), exc.code
        text = PERMANENT_CODES.get(code or 0) or str(exc.msg or f"HTTP {status}")
        error = f"Twilio error {code or status}: {text}"
        temporary = status >= 500 or status in (408, 429) or code in TEMPORARY_CODES
        if code in PERMANENT_CODES:
            temporary = False
        return SendResult(
            Outcome.temporary if temporary else Outcome.permanent,
            error=error,
            error_code=code or status,
            ambiguous=temporary and status in AMBIGUOUS_STATUSES,
        )
    if isinstance(exc, requests.RequestException):
        return SendResult(
            Outcome.temporary,
            error=f"Twilio unreachable: {type(exc).__name__}",
            ambiguous=not _never_sent(exc),
        )
    raise exc


def call_api(
    action: Callable[[], Any], on_opted_out: Callable[[], None] | None = None
) -> tuple[Any, SendResult | None]:
    """Run one SDK call; (its result, None) or (None, the failure as a SendResult)."""
    try:
        return action(), None
    except (TwilioRestException, requests.RequestException) as exc:
        result = failure(exc)
        if result.error_code == OPTED_OUT and on_opted_out is not None:
            on_opted_out()
        return None, result
