"""Quality inspection: one inspection per finished contact, the rule flags with evidence and reviews, and the
reviews of the random unflagged sample.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_inspections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("handled_by", sa.String(length=8), nullable=False),
        sa.Column("agent_id", sa.String(length=16), nullable=True),
        sa.Column("agent_name", sa.String(length=32), nullable=True),
        sa.Column("team", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("inspected_at", sa.DateTime(), nullable=False),
        sa.Column("delay_seconds", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("top_severity", sa.Integer(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("emotions", sa.JSON(), nullable=False),
        sa.Column("sampled", sa.Boolean(), nullable=False),
        sa.Column("rules_version", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id"),
    )
    with op.batch_alter_table("quality_inspections", schema=None) as batch_op:
        batch_op.create_index("ix_quality_inspections_ended_at", ["ended_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_conversation_id"), ["conversation_id"], unique=False)

    op.create_table(
        "quality_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("offset_seconds", sa.Float(), nullable=True),
        sa.Column("review", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=16), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quality_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_flags_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_flags_rule_id"), ["rule_id"], unique=False)

    op.create_table(
        "quality_sample_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=16), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.Column("missed_rule", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("inspection_id"),
    )


def downgrade() -> None:
    op.drop_table("quality_sample_reviews")
    with op.batch_alter_table("quality_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_flags_rule_id"))
        batch_op.drop_index(batch_op.f("ix_quality_flags_inspection_id"))
    op.drop_table("quality_flags")
    with op.batch_alter_table("quality_inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_inspections_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_agent_id"))
        batch_op.drop_index("ix_quality_inspections_ended_at")
    op.drop_table("quality_inspections")
