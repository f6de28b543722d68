"""The engine's sending job: outbox rows due (``send_at``), and claims whose lease lapsed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from paging.engine.jobs import Sender, SenderSetup, Sends
from paging.outbox.dispatch import Dispatcher
from paging.outbox.models import Notification, NotificationStatus


def _dispatcher(setup: SenderSetup) -> Sender:
    return Dispatcher(
        setup.database,
        setup.settings,
        setup.channels,
        setup.fallback,
        engine_id=setup.engine_id,
        channel_types=setup.channel_types,
        clock=setup.clock,
        lease=timedelta(seconds=setup.settings.engine_lease_seconds),
        decorators=setup.decorators,
    )


SENDS = Sends(
    name="outbox",
    earliest=(
        select(func.min(Notification.send_at))
        .where(Notification.status == NotificationStatus.pending)
        .scalar_subquery(),
        select(func.min(Notification.lease_until))
        .where(
            Notification.status == NotificationStatus.sending,
            Notification.bundled_into.is_(None),
        )
        .scalar_subquery(),
    ),
    start=_dispatcher,
)
