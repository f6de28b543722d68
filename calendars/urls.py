"""Public URLs of calendar feeds (unguessable tokens; they work without a bearer token)."""

from __future__ import annotations

from store.settings import Settings


def user_feed(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/calendars/users/{token}.ics"


def schedule_feed(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/calendars/schedules/{token}.ics"


def webcal(url: str) -> str:
    """The same feed as a ``webcal://`` link (calendar apps subscribe when it is opened)."""
    return "webcal://" + url.split("://", 1)[1]
