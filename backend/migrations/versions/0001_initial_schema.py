"""Initial schema: exactly the tables, columns and indexes `create_all` made before there were migrations.

Revision ID: 0001
Revises:
Create Date: 2026-12-04 04:45:40.723348
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "areas",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("district", sa.String(length=32), nullable=False),
        sa.Column("streets", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "channel_bindings",
        sa.Column("channel_user", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel_user"),
    )
    op.create_index("ix_channel_bindings_conversation_id", "channel_bindings", ["conversation_id"], unique=False)
    op.create_table(
        "continuation_codes",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_continuation_codes_conversation_id", "continuation_codes", ["conversation_id"], unique=False)
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_security_events_at", "security_events", ["at"], unique=False)
    op.create_table(
        "turn_analytics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("function", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key"),
    )
    op.create_index("ix_turn_analytics_at", "turn_analytics", ["at"], unique=False)
    op.create_index("ix_turn_analytics_conversation_id", "turn_analytics", ["conversation_id"], unique=False)
    op.create_index("ix_turn_analytics_function", "turn_analytics", ["function"], unique=False)
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("account_no", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_verification_failures_account_no", "verification_failures", ["account_no"], unique=False)
    op.create_index("ix_verification_failures_at", "verification_failures", ["at"], unique=False)
    op.create_index("ix_verification_failures_client", "verification_failures", ["client"], unique=False)
    op.create_index(
        "ix_verification_failures_conversation_id", "verification_failures", ["conversation_id"], unique=False
    )
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("account_no", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("strength", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "account_no"),
    )
    op.create_index("ix_verifications_conversation_id", "verifications", ["conversation_id"], unique=False)
    op.create_table(
        "agent_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
        ),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_agent_sessions_agent_id", "agent_sessions", ["agent_id"], unique=False)
    op.create_table(
        "customers",
        sa.Column("account_no", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("tou_enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"],
            ["areas.code"],
        ),
        sa.PrimaryKeyConstraint("account_no"),
    )
    op.create_index("ix_customers_area_code", "customers", ["area_code"], unique=False)
    op.create_index("ix_customers_phone", "customers", ["phone"], unique=False)
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("account_no", sa.String(length=10), nullable=True),
        sa.Column("phone", sa.String(length=11), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("disposition", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_escalations_account_no", "escalations", ["account_no"], unique=False)
    op.create_index("ix_escalations_agent_id", "escalations", ["agent_id"], unique=False)
    op.create_index("ix_escalations_conversation_id", "escalations", ["conversation_id"], unique=False)
    op.create_index("ix_escalations_created_at", "escalations", ["created_at"], unique=False)
    op.create_index("ix_escalations_status", "escalations", ["status"], unique=False)
    op.create_index("ix_escalations_updated_at", "escalations", ["updated_at"], unique=False)
    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("expected_end", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"],
            ["areas.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outages_area_code", "outages", ["area_code"], unique=False)
    op.create_table(
        "balances",
        sa.Column("account_no", sa.String(length=10), nullable=False),
        sa.Column("balance", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_no"],
            ["customers.account_no"],
        ),
        sa.PrimaryKeyConstraint("account_no"),
    )
    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_no", sa.String(length=10), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kwh", sa.Float(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_no"],
            ["customers.account_no"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_no", "month"),
    )
    op.create_index("ix_bills_account_no", "bills", ["account_no"], unique=False)
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("function_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("account_no", sa.String(length=10), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_no"],
            ["customers.account_no"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_work_orders_account_no", "work_orders", ["account_no"], unique=False)
    op.create_index("ix_work_orders_conversation_id", "work_orders", ["conversation_id"], unique=False)
    op.create_index("ix_work_orders_function_id", "work_orders", ["function_id"], unique=False)
    op.create_index("ix_work_orders_number", "work_orders", ["number"], unique=True)
    op.create_table(
        "work_order_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_work_order_events_order_id", "work_order_events", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_table("work_order_events")
    op.drop_table("work_orders")
    op.drop_table("bills")
    op.drop_table("balances")
    op.drop_table("outages")
    op.drop_table("escalations")
    op.drop_table("customers")
    op.drop_table("agent_sessions")
    op.drop_table("verifications")
    op.drop_table("verification_failures")
    op.drop_table("turn_analytics")
    op.drop_table("security_events")
    op.drop_table("continuation_codes")
    op.drop_table("channel_bindings")
    op.drop_table("areas")
    op.drop_table("agents")
