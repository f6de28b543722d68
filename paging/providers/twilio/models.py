"""Twilio's tables: SMS reply codes, inbound SMS, and the short links in SMS pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, CreatedMixin, IdMixin, utcnow

_ACTIVE = "released_at IS NULL"


class ReplyCode(IdMixin, CreatedMixin, Base):
    """The short number (``1`` in ``1a``) that names an incident in SMS to one phone number.

    Active (``released_at`` unset) codes are unique per number, and a number has at most one
    active code per incident, so a code is reused for every page of that incident.

    A bundle's code (``Reply 6a to ack all``) names no incident: ``notification_id`` is the
    bundled message (its carrier row) and ``incident_ids`` the incidents it lists.
    """

    __tablename__ = "reply_codes"
    __table_args__ = (
        Index(
            "uq_reply_codes_active_code",
            "address",
            "code",
            unique=True,
            sqlite_where=text(_ACTIVE),
            postgresql_where=text(_ACTIVE),
        ),
        Index(
            "uq_reply_codes_active_incident",
            "address",
            "incident_id",
            unique=True,
            sqlite_where=text(_ACTIVE),
            postgresql_where=text(_ACTIVE),
        ),
    )

    address: Mapped[str] = mapped_column(String(320))
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[int] = mapped_column(Integer)
    released_at: Mapped[datetime | None]
    notification_id: Mapped[str | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    incident_ids: Mapped[list[str] | None] = mapped_column(JSON)


class InboundSms(IdMixin, Base):
    """Every SMS Twilio forwarded to us, what we made of it and what we answered.

    ``message_sid`` makes a redelivered webhook harmless; the ``unknown`` rows we answered
    cap the answers to nonsense, so two auto-responders cannot loop.
    """

    __tablename__ = "sms_inbound"

    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    answer: Mapped[str | None] = mapped_column(Text)
    answered_unknown: Mapped[bool] = mapped_column(Boolean, default=False)


class IncidentLink(CreatedMixin, Base):
    """Who a short SMS link (``{public_url}/l/{key}{signature}``) opens which incident for;
    one per (incident, person). The key is random, the URL also signed."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "user_id"),)

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
