"""change events

PagerDuty Change Events (``POST /v2/change/enqueue``), kept per service and shown beside the
service's incidents.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:30:05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_events",
        sa.Column("service_id", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.String(length=1024), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("happened_at", store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_at", store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("custom_details", sa.JSON(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=True),
        sa.Column("images", sa.JSON(), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_change_events_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
    )
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_events_service_id_happened_at", ["service_id", "happened_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_index("ix_change_events_service_id_happened_at")

    op.drop_table("change_events")
