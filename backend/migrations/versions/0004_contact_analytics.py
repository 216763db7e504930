"""Contact analytics: one row per contact (conversation session) with channel, area, function,
outcome, durations and satisfaction, fed from Rasa's event stream; the embedded feed's read position.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 15:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_key", sa.String(length=120), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=True),
        sa.Column("account_no", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("function", sa.String(length=32), nullable=True),
        sa.Column("outage_related", sa.Boolean(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("transfer_reason", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("handle_seconds", sa.Float(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("first_text", sa.String(length=200), nullable=False),
        sa.Column("told_outage", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_key"),
    )
    op.create_index("ix_contacts_conversation_id", "contacts", ["conversation_id"], unique=False)
    op.create_index("ix_contacts_started_at", "contacts", ["started_at"], unique=False)
    op.create_index("ix_contacts_area_code_started_at", "contacts", ["area_code", "started_at"], unique=False)
    op.create_index("ix_contacts_outage_related_started_at", "contacts", ["outage_related", "started_at"], unique=False)
    op.create_table(
        "analytics_feed_positions",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )


def downgrade() -> None:
    op.drop_table("analytics_feed_positions")
    op.drop_index("ix_contacts_outage_related_started_at", table_name="contacts")
    op.drop_index("ix_contacts_area_code_started_at", table_name="contacts")
    op.drop_index("ix_contacts_started_at", table_name="contacts")
    op.drop_index("ix_contacts_conversation_id", table_name="contacts")
    op.drop_table("contacts")
