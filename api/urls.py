"""Public URLs handed out by the API (calendar feeds, links in pages)."""

from __future__ import annotations

from calendars.urls import schedule_feed, user_feed, webcal

__all__ = ["schedule_feed", "user_feed", "webcal"]
