"""notifications by address and time

What went to a number lately is a range of ``(address, sent_at)``; the index on the address
alone made the engine read every page the number ever had on each pass that plans pages.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_address_sent_at", ["address", "sent_at"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_notifications_address"))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_address"), ["address"], unique=False)
        batch_op.drop_index("ix_notifications_address_sent_at")
