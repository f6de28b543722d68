"""Cookies and CSRF tokens: signed with keys derived from the server secret.

* The session cookie holds a random secret (see ``people.web_sessions``) signed with
  itsdangerous, so a forged cookie is refused before any database look-up.
* A CSRF token is an HMAC of what identifies the browser: its session secret when signed in,
  or a random pre-session cookie on the sign-in and password pages. Every form carries it;
  every POST checks it in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from itsdangerous import BadSignature, Signer
from starlette.datastructures import State

from paging.server_secret import derive, server_secret
from store.db import Database
from store.settings import Settings

SESSION_COOKIE = "watchbill_session"
PRE_SESSION_COOKIE = "watchbill_pre"
FLASH_COOKIE = "watchbill_flash"
CSRF_FIELD = "csrf_token"


def secret(state: State, now: datetime) -> bytes:
    """The server secret (configured, or generated once and stored), cached per process.

    Read in a transaction of its own, so a request that rolls back never loses a newly
    generated secret that was already handed out in a cookie.
    """
    cached: bytes | None = getattr(state, "web_secret", None)
    if cached is None:
        settings: Settings = state.settings
        database: Database = state.database
        with database.transaction() as session:
            found = server_secret(session, settings, now)
        assert found is not None
        cached = found
        state.web_secret = cached
    return cached


def key(state: State, now: datetime, purpose: str) -> bytes:
    return derive(secret(state, now), f"web:{purpose}")


def _signer(state: State, now: datetime) -> Signer:
    return Signer(key(state, now, "session-cookie"), salt="watchbill-session")


def sign_session(state: State, now: datetime, session_secret: str) -> str:
    return _signer(state, now).sign(session_secret).decode()


def unsign_session(state: State, now: datetime, cookie: str) -> str | None:
    try:
        return _signer(state, now).unsign(cookie).decode()
    except BadSignature:
        return None


def new_pre_session() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(state: State, now: datetime, binding: str) -> str:
    digest = hmac.new(key(state, now, "csrf"), binding.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_matches(state: State, now: datetime, binding: str, presented: str) -> bool:
    return hmac.compare_digest(csrf_token(state, now, binding), presented)
