"""The short links in SMS pages: one per (incident, person), ``{public_url}/l/{key}{signature}``."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, CreatedMixin


class IncidentLink(CreatedMixin, Base):
    """Who a short link opens which incident for; the key is random, the URL also signed."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "user_id"),)

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
