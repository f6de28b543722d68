"""paging integrity: deactivated users, rule repeats, storm throttling, unrouted incidents

- ``users.deactivated_at``: people are deactivated, never erased (the past keeps their name).
- ``notification_rules.repeat_every_seconds`` / ``repeat_times`` and ``notifications.repeat``
  (part of the outbox's unique step key, now named ``uq_notifications_step``).
- ``notifications.throttle``: throttling's memory (pages held in a storm or behind a call in
  progress, messages sent in a storm).
- ``notifications.rule_id`` widened to 64 (fail-over rows are keyed ``failover:<method id>``).
- ``incidents.unrouted_at``: a pass of the policy reached nobody.
- ``reply_codes``: a bundle's code (``Reply 6a to ack all``) names the bundled message and its
  incidents instead of one incident.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STEP = ["incident_id", "epoch", "loop", "tier", "user_id", "rule_id"]


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deactivated_at", store.base.UtcDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("notification_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat_every_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("repeat_times", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("throttle", sa.String(length=8), nullable=True))
        batch_op.alter_column(
            "rule_id",
            existing_type=sa.String(length=32),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
        batch_op.drop_constraint(
            batch_op.f("uq_notifications_incident_id_epoch_loop_tier_user_id_rule_id"),
            type_="unique",
        )
        batch_op.create_unique_constraint("uq_notifications_step", [*_OLD_STEP, "repeat"])

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unrouted_at", store.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_incidents_unrouted_at", ["unrouted_at"], unique=False)

    with op.batch_alter_table("reply_codes", schema=None) as batch_op:
        batch_op.alter_column("incident_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("notification_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("incident_ids", sa.JSON(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_reply_codes_notification_id"), ["notification_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_reply_codes_notification_id_notifications"),
            "notifications",
            ["notification_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    # Bundle codes name no single incident: they cannot survive the old schema.
    op.execute(sa.text("DELETE FROM reply_codes WHERE incident_id IS NULL"))
    with op.batch_alter_table("reply_codes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reply_codes_notification_id_notifications"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_reply_codes_notification_id"))
        batch_op.drop_column("incident_ids")
        batch_op.drop_column("notification_id")
        batch_op.alter_column("incident_id", existing_type=sa.String(length=32), nullable=False)

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_unrouted_at")
        batch_op.drop_column("unrouted_at")

    # Repeats share the rest of their key with the first page: only that one can stay.
    op.execute(sa.text('DELETE FROM notifications WHERE "repeat" > 0'))
    op.execute(sa.text("DELETE FROM notifications WHERE length(rule_id) > 32"))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("uq_notifications_step", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_notifications_incident_id_epoch_loop_tier_user_id_rule_id"), _OLD_STEP
        )
        batch_op.alter_column(
            "rule_id",
            existing_type=sa.String(length=64),
            type_=sa.String(length=32),
            existing_nullable=True,
        )
        batch_op.drop_column("throttle")
        batch_op.drop_column("repeat")

    with op.batch_alter_table("notification_rules", schema=None) as batch_op:
        batch_op.drop_column("repeat_times")
        batch_op.drop_column("repeat_every_seconds")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
