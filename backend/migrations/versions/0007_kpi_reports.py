"""KPI thresholds and alerts, the archive of generated weekly / monthly reports, and the kept KPI results of settled
days.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kpi", sa.String(length=32), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_value", sa.Float(), nullable=True),
        sa.Column("notified", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kpi_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_alerts_kpi_cleared_at", ["kpi", "cleared_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kpi_alerts_raised_at"), ["raised_at"], unique=False)

    op.create_table(
        "kpi_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("html_path", sa.String(length=255), nullable=False),
        sa.Column("pdf_path", sa.String(length=255), nullable=True),
        sa.Column("pdf_error", sa.String(length=200), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kpi_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_reports_created_at"), ["created_at"], unique=False)

    op.create_table(
        "kpi_day_results",
        sa.Column("query", sa.String(length=48), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("query", "area_code", "day"),
    )
    with op.batch_alter_table("kpi_day_results", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_day_results_day", ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kpi_day_results", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_day_results_day")
    op.drop_table("kpi_day_results")
    with op.batch_alter_table("kpi_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_reports_created_at"))
    op.drop_table("kpi_reports")
    with op.batch_alter_table("kpi_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_alerts_raised_at"))
        batch_op.drop_index("ix_kpi_alerts_kpi_cleared_at")
    op.drop_table("kpi_alerts")
