"""How people prove who they are to the web UI: every sign-in method lives here.

Today one method: a local password (``password_sign_in``). Single sign-on (OIDC) is added as
another function here that ends in ``signed_in`` with the user the identity provider vouches
for, plus a button on the sign-in page; sessions, CSRF and the pages stay as they are.

Failed attempts are rate-limited per account (the e-mail typed, whether or not it exists, so
the limit says nothing about which accounts exist) and per client address. The answer to a
wrong e-mail or password is always the same sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from people import passwords, validation
from people.auth_models import SignInAttempt
from people.models import User, UserRole
from people.service import find_user_by_email, may_sign_in
from store.audit import Actor

WRONG = "Email or password is wrong."
WINDOW = timedelta(minutes=15)
MAX_ACCOUNT_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
KEEP_ATTEMPTS = timedelta(days=1)


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    problem: str | None = None  # what to tell the person when ``user`` is None


def actor_of(user: User) -> Actor:
    """Who a signed-in person acts as: themselves, with their role's rights."""
    return Actor(user_id=user.id, is_admin=user.role is UserRole.admin, label=f"user:{user.email}")


def _failures(session: Session, who: ColumnElement[bool], now: datetime) -> int:
    count = session.scalar(
        select(func.count(SignInAttempt.id)).where(
            who, SignInAttempt.succeeded.is_(False), SignInAttempt.at > now - WINDOW
        )
    )
    return int(count or 0)


def _too_many(session: Session, email: str, address: str, now: datetime) -> bool:
    return (
        _failures(session, SignInAttempt.email == email, now) >= MAX_ACCOUNT_FAILURES
        or _failures(session, SignInAttempt.address == address, now) >= MAX_ADDRESS_FAILURES
    )


def _record(session: Session, email: str, address: str, succeeded: bool, now: datetime) -> None:
    session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - KEEP_ATTEMPTS))
    session.add(SignInAttempt(at=now, email=email, address=address, succeeded=succeeded))


def normalised_email(email: str) -> str:
    try:
        return validation.email(email.strip())
    except ValueError:
        return email.strip().lower()[:320]


def password_sign_in(
    session: Session, email: str, password: str, address: str, now: datetime
) -> SignInResult:
    """Check an e-mail and password; every attempt is recorded (commit even on failure)."""
    email = normalised_email(email)
    address = address[:64]
    if _too_many(session, email, address, now):
        minutes = int(WINDOW.total_seconds() // 60)
        return SignInResult(
            None,
            "Too many failed sign-in attempts for this account or from this address. "
            f"Wait {minutes} minutes, or reset your password.",
        )
    user = find_user_by_email(session, email)
    ok = passwords.matches(user.password_hash if user else None, password)
    if user is None or not ok or not may_sign_in(user):
        _record(session, email, address, False, now)
        return SignInResult(None, WRONG)
    _record(session, email, address, True, now)
    return SignInResult(user)
