"""API token secrets: generation and digests. Pure.

Token secrets are 256 random bits, so a fast keyed-free digest (SHA-256) is the right store:
brute force of the secret is infeasible, and authentication stays fast on every request.
(argon2 is for low-entropy secrets such as passwords.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "wb_"


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented secret against a stored digest."""
    return hmac.compare_digest(digest(secret), stored_digest)
