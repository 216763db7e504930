"""Customer insight: the runs of the insight jobs, each customer's current tags with reasons, the tags' history,
the arrears-risk grade with its tree path, and the ranked fault and complaint hot spots.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-11 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insight_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "customer_tags",
        sa.Column("account_no", sa.String(length=10), nullable=False),
        sa.Column("tag", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("since_period", sa.String(length=7), nullable=False),
        sa.Column("rule_id", sa.String(length=32), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_no", "tag"),
    )
    with op.batch_alter_table("customer_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_tags_run_id"), ["run_id"], unique=False)

    op.create_table(
        "customer_tag_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_no", sa.String(length=10), nullable=False),
        sa.Column("tag", sa.String(length=16), nullable=False),
        sa.Column("gained_period", sa.String(length=7), nullable=False),
        sa.Column("lost_period", sa.String(length=7), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer_tag_changes", schema=None) as batch_op:
        batch_op.create_index("ix_customer_tag_changes_account", ["account_no", "tag", "gained_period"], unique=True)

    op.create_table(
        "customer_risk",
        sa.Column("account_no", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_no"),
    )
    with op.batch_alter_table("customer_risk", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_risk_grade"), ["grade"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_risk_run_id"), ["run_id"], unique=False)

    op.create_table(
        "insight_hotspots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("measure", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("first_period", sa.String(length=7), nullable=False),
        sa.Column("last_period", sa.String(length=7), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("rate_ratio", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("q_value", sa.Float(), nullable=False),
        sa.Column("significant", sa.Boolean(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("trend", sa.JSON(), nullable=False),
        sa.Column("suggestion", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("insight_hotspots", schema=None) as batch_op:
        batch_op.create_index("ix_insight_hotspots_run_level_measure", ["run_id", "level", "measure"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("insight_hotspots", schema=None) as batch_op:
        batch_op.drop_index("ix_insight_hotspots_run_level_measure")
    op.drop_table("insight_hotspots")
    with op.batch_alter_table("customer_risk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_risk_run_id"))
        batch_op.drop_index(batch_op.f("ix_customer_risk_grade"))
    op.drop_table("customer_risk")
    with op.batch_alter_table("customer_tag_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_tag_changes_account")
    op.drop_table("customer_tag_changes")
    with op.batch_alter_table("customer_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_tags_run_id"))
    op.drop_table("customer_tags")
    op.drop_table("insight_runs")
