"""The outbox: every outbound message is a row here before it is a provider call."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, CreatedMixin, IdMixin, utcnow


class NotificationStatus(enum.StrEnum):
    pending = "pending"  # waiting for send_at
    sending = "sending"  # claimed by an engine; lease_until tells when the claim lapses
    sent = "sent"  # the provider accepted it
    delivered = "delivered"  # the provider confirmed delivery (or the call was answered)
    failed = "failed"  # permanent failure, or out of attempts
    cancelled = "cancelled"  # acknowledged/resolved before it went out


#: Statuses after which a notification is never sent (again).
FINAL = frozenset(
    {
        NotificationStatus.sent,
        NotificationStatus.delivered,
        NotificationStatus.failed,
        NotificationStatus.cancelled,
    }
)


class Notification(IdMixin, CreatedMixin, Base):
    """One message to one person through one contact method.

    Pages are keyed by (incident, epoch, loop, tier, person, rule, repeat): the unique key makes
    it impossible to enqueue a step twice, whatever crashes or how many engines run.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "incident_id",
            "epoch",
            "loop",
            "tier",
            "user_id",
            "rule_id",
            "repeat",
            name="uq_notifications_step",
        ),
        Index("ix_notifications_due", "status", "send_at"),
        # What went to a number lately (bundling looks on every pass): a range of this index,
        # not every page the number ever had.
        Index("ix_notifications_address_sent_at", "address", "sent_at"),
    )

    kind: Mapped[str] = mapped_column(String(20), default="page")  # page | test | verify
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    epoch: Mapped[int | None] = mapped_column(Integer)
    loop: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(64))
    #: 0 for a rule's first page, then 1, 2 ... for its repeats (``repeat_every_seconds``).
    repeat: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    contact_method_id: Mapped[str | None] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))  # sms | voice | email
    address: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    send_at: Mapped[datetime]
    status: Mapped[NotificationStatus] = mapped_column(
        Enum(NotificationStatus, name="notification_status", native_enum=False, length=20),
        default=NotificationStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when this row went out inside another row's bundled message.
    bundled_into: Mapped[str | None] = mapped_column(String(32))
    #: Why throttling touched the row (``paging.outbox.bundling``): ``storm`` - a page held back
    #: in a storm, or a message sent in one (a bundle, a release of held pages: after it the
    #: address gets at most one message per bundle interval); ``call`` - a page waiting for
    #: the call in progress to its number to end.
    throttle: Mapped[str | None] = mapped_column(String(8))
