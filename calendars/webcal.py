"""``webcal://`` subscription URLs, fetched as calendar clients fetch them (pure).

``webcal`` names no transport: Apple Calendar, Thunderbird and the like try https first and
fall back to plain http where the server has no TLS. Watchbill does the same, so it can
import its own ``webcal_url`` from a plain-http deployment.

The fallback happens only where the https attempt shows the server speaks no TLS (the port is
closed, or a plain-HTTP server answered the TLS handshake); a certificate that fails
verification means the server has TLS, and is an error, never a reason to drop to http.

This is kept apart from the fetching itself (:mod:`calendars.refresh`) so that it can sit on
top of whichever module does outbound fetches and their network rules.
"""

from __future__ import annotations

import ssl

__all__ = ["UnsupportedUrl", "speaks_no_tls", "subscription_urls"]


class UnsupportedUrl(ValueError):
    """Not an http, https or webcal URL."""


def subscription_urls(url: str) -> list[str]:
    """The URLs to try for ``url``, in order: ``webcal://x`` → ``https://x``, ``http://x``;
    an http(s) URL as it is."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if sep and scheme in ("webcal", "webcals"):
        secure = f"https://{rest}"
        return [secure] if scheme == "webcals" else [secure, f"http://{rest}"]
    if sep and scheme in ("http", "https"):
        return [url]
    raise UnsupportedUrl(f"unsupported URL {url!r}: use http, https or webcal")


def speaks_no_tls(error: BaseException) -> bool:
    """Whether a failed https connection shows the server has no TLS there (so plain http is
    what a subscription client tries next): refused, or a handshake answered in plain text."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return False  # TLS is there; its certificate is the problem
        if isinstance(seen, ConnectionRefusedError):
            return True
        if isinstance(seen, ssl.SSLError) and seen.reason in _PLAIN_TEXT_ANSWERS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


#: OpenSSL's reasons when the other end answered a ClientHello with something not TLS.
_PLAIN_TEXT_ANSWERS = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL", "HTTP_REQUEST"}
)
