"""Web sign-in passwords: argon2id hashes (argon2-cffi), and signed password-reset tokens.

Set by the user or an admin (``PUT /api/v1/users/{id}/password``, the profile page, the reset
page, ``watchbill user set-password``). Setting a password ends the user's web sessions.
A reset token is ``{user id}.{expiry}.{signature}``: an HMAC over the user, the expiry and the
current password hash, so it stops working once used (the hash changes) or expired.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from people import web_sessions
from people.models import User
from people.service import get_user
from store import audit
from store.audit import Actor
from store.errors import Forbidden, Invalid

MIN_LENGTH = 10
MAX_LENGTH = 1024
RESET_VALID_FOR = timedelta(hours=1)
#: How long the link in an invitation (a new user's first password) works.
INVITE_VALID_FOR = timedelta(days=7)
_SIGNATURE_CHARS = 27  # 160 bits of HMAC-SHA256

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) defaults
#: Compared against when the account does not exist, so the answer takes as long.
_DUMMY_HASH = _hasher.hash("watchbill: no such account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def matches(stored_hash: str | None, password: str) -> bool:
    """Constant-time-ish check; a missing hash still costs one argon2 verification."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def validate(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise Invalid("password", f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise Invalid("password", f"must be at most {MAX_LENGTH} characters long")
    if not password.strip():
        raise Invalid("password", "must not be only spaces")
    return password


def _store(session: Session, actor: Actor, user: User, password: str) -> User:
    validate(password)
    user.password_hash = hash_password(password)
    web_sessions.end_all(session, user.id)  # signed in elsewhere with the old one: not any more
    audit.record(session, actor, "set_password", user, None, after=None)
    return user


def set_password(session: Session, actor: Actor, user_id: str, password: str) -> User:
    """Set a user's password (the user or an admin); their web sessions end."""
    user = get_user(session, user_id)
    if not actor.is_admin and actor.user_id != user_id:
        raise Forbidden("only the user or an admin may set a password")
    return _store(session, actor, user, password)


# --- reset links -------------------------------------------------------------------------------


def _signature(key: bytes, user: User, expires: int) -> str:
    body = f"{user.id}.{expires}.{user.password_hash or ''}".encode()
    digest = hmac.new(key, body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]


def reset_token(
    key: bytes, user: User, now: datetime, valid_for: timedelta = RESET_VALID_FOR
) -> str:
    """A token that lets whoever holds it set ``user``'s password once, within ``valid_for``
    (an hour for a reset; an invitation lasts longer)."""
    expires = int((now + valid_for).timestamp())
    return f"{user.id}.{expires}.{_signature(key, user, expires)}"


def user_of_reset_token(session: Session, key: bytes, token: str, now: datetime) -> User:
    """The user a valid reset token names; Invalid("token") when it is wrong or expired."""
    wrong = Invalid("token", "this password reset link is not valid or was used already")
    user_id, _, rest = token.partition(".")
    expires_text, _, signature = rest.partition(".")
    if not expires_text.isdigit() or len(signature) != _SIGNATURE_CHARS:
        raise wrong
    user = session.get(User, user_id)
    if user is None:
        raise wrong
    if not hmac.compare_digest(signature, _signature(key, user, int(expires_text))):
        raise wrong
    if datetime.fromtimestamp(int(expires_text), UTC) < now:
        raise Invalid("token", "this password reset link has expired; ask for a new one")
    return user


def reset_password(session: Session, key: bytes, token: str, password: str, now: datetime) -> User:
    """Set the password of the user a reset token names (the token then stops working)."""
    user = user_of_reset_token(session, key, token, now)
    actor = Actor(user_id=user.id, is_admin=False, label=f"user:{user.email}")
    return _store(session, actor, user, password)
