"""Outbound notices to customers (planned/fault outage, restoration, arrears) through one notification
interface: the outbox, per-customer preferences (opt-out, quiet hours) and delivery receipts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 15:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("account_no", sa.String(length=10), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("spoken", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("send_after", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("attempt_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("gateway_ref", sa.String(length=64), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("receipt", sa.String(length=48), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "recipient_key", name="uq_outbound_notices_key_recipient"),
    )
    op.create_index("ix_outbound_notices_key", "outbound_notices", ["key"])
    op.create_index("ix_outbound_notices_gateway_ref", "outbound_notices", ["gateway_ref"])
    op.create_index("ix_outbound_notices_status_send_after", "outbound_notices", ["status", "send_after"])
    op.create_index("ix_outbound_notices_account_created", "outbound_notices", ["account_no", "created_at"])
    op.create_table(
        "notice_preferences",
        sa.Column("account_no", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("wechat_openid", sa.String(length=64), nullable=True),
        sa.Column("opted_out", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=False),
        sa.Column("quiet_end", sa.String(length=5), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_no"], ["customers.account_no"]),
        sa.PrimaryKeyConstraint("account_no"),
    )


def downgrade() -> None:
    op.drop_table("notice_preferences")
    op.drop_index("ix_outbound_notices_account_created", table_name="outbound_notices")
    op.drop_index("ix_outbound_notices_status_send_after", table_name="outbound_notices")
    op.drop_index("ix_outbound_notices_gateway_ref", table_name="outbound_notices")
    op.drop_index("ix_outbound_notices_key", table_name="outbound_notices")
    op.drop_table("outbound_notices")
