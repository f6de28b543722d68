"""Schedules in the database. TEMPORARY: layers/overrides tables arrive with migration 0003."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def on_call_user_ids(session: Session, schedule_id: str, at: datetime) -> list[str]:
    """Who is on call in the schedule at ``at`` (at most one person)."""
    return []
