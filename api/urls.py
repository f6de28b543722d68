"""Public URLs handed out by the API (calendar feeds, links in pages)."""

from __future__ import annotations

from store.settings import Settings


def user_feed(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/calendars/users/{token}.ics"


def schedule_feed(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/calendars/schedules/{token}.ics"


def webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]
