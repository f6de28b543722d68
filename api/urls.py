"""Public URLs handed out by the API (calendar feeds live in ``calendars.urls``)."""

from __future__ import annotations

from calendars.urls import schedule_feed, user_feed, webcal

__all__ = ["schedule_feed", "user_feed", "webcal"]
