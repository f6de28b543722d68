"""Schedule tables. Layers, their versions and overrides live beside the schedule row."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from people.models import new_feed_token
from store.base import Base, CreatedMixin, IdMixin


class Schedule(IdMixin, CreatedMixin, Base):
    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    ical_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_feed_token)
