"""Domain errors raised by service functions; the API maps them to problem+json answers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        #: More members of the problem+json answer (RFC 9457 extensions), e.g. ``references``.
        self.extra = extra


class NotFound(DomainError):
    status = 404
    title = "Not Found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Invalid(DomainError):
    """Input that is well-formed but wrong; names the offending field."""

    status = 422
    title = "Unprocessable Content"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.message = detail
