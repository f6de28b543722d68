"""The public URLs of calendar feeds (used by the API and the web UI alike)."""

from __future__ import annotations

from store.settings import Settings


def user_feed(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/calendars/users/{token}.ics"


def schedule_feed(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/calendars/schedules/{token}.ics"


def webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]
