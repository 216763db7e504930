"""The work-order loop: topology (lines, 台区), grid teams and field staff, dispatch and time-limit columns,
the order history's who/where, the notice outbox and the satisfaction surveys. Old statuses are renamed:
accepted (taken in) -> received, in_progress -> accepted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 10:10:58.221316
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feeder_lines",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("substation", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"],
            ["areas.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("feeder_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feeder_lines_area_code"), ["area_code"], unique=False)

    op.create_table(
        "grid_teams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"],
            ["areas.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("area_code"),
    )
    op.create_table(
        "team_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("leader", sa.Boolean(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("shifts", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["grid_teams.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_members_team_id"), ["team_id"], unique=False)

    op.create_table(
        "transformer_districts",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("line_code", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("capacity_kva", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"],
            ["areas.code"],
        ),
        sa.ForeignKeyConstraint(
            ["line_code"],
            ["feeder_lines.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("transformer_districts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transformer_districts_area_code"), ["area_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_transformer_districts_line_code"), ["line_code"], unique=False)

    op.create_table(
        "field_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["team_members.id"],
        ),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("field_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_sessions_member_id"), ["member_id"], unique=False)

    op.create_table(
        "order_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("send_after", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("order_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_notices_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_notices_send_after"), ["send_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_notices_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "round"),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveys_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveys_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_class", sa.String(length=8), nullable=False, server_default="urban"))

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tq_code", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_customers_tq_code"), ["tq_code"], unique=False)
        batch_op.create_foreign_key("fk_customers_tq_code", "transformer_districts", ["tq_code"], ["code"])

    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="status"))
        batch_op.add_column(sa.Column("actor", sa.String(length=64), nullable=False, server_default="system"))
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="system"))
        batch_op.add_column(sa.Column("detail", sa.JSON(), nullable=False, server_default="{}"))

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("area_class", sa.String(length=8), nullable=False, server_default="urban"))
        batch_op.add_column(sa.Column("tq_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("clock_start", sa.DateTime(), nullable=False, server_default=sa.func.now()))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("due_step", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("step_allowed_s", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("supervision_stage", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_check_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(batch_op.f("ix_work_orders_area_code"), ["area_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_next_check_at"), ["next_check_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_team_id"), ["team_id"], unique=False)
        batch_op.create_foreign_key("fk_work_orders_team_id", "grid_teams", ["team_id"], ["id"])
        batch_op.create_foreign_key("fk_work_orders_assignee_id", "team_members", ["assignee_id"], ["id"])

    op.execute("UPDATE work_orders SET clock_start = created_at")
    op.execute("UPDATE work_orders SET status = 'received' WHERE status = 'accepted'")
    op.execute("UPDATE work_orders SET status = 'accepted' WHERE status = 'in_progress'")
    op.execute("UPDATE work_order_events SET status = 'received' WHERE status = 'accepted'")
    op.execute("UPDATE work_order_events SET status = 'accepted' WHERE status = 'in_progress'")


def downgrade() -> None:
    for table in ("work_orders", "work_order_events"):
        op.execute(f"UPDATE {table} SET status = 'in_progress' WHERE status IN ('accepted', 'en_route', 'on_site')")
        op.execute(f"UPDATE {table} SET status = 'accepted' WHERE status = 'received'")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint("fk_work_orders_assignee_id", type_="foreignkey")
        batch_op.drop_constraint("fk_work_orders_team_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_work_orders_team_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_status"))
        batch_op.drop_index(batch_op.f("ix_work_orders_next_check_at"))
        batch_op.drop_index(batch_op.f("ix_work_orders_assignee_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_area_code"))
        batch_op.drop_column("version")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("next_check_at")
        batch_op.drop_column("supervision_stage")
        batch_op.drop_column("step_allowed_s")
        batch_op.drop_column("due_step")
        batch_op.drop_column("due_at")
        batch_op.drop_column("clock_start")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("team_id")
        batch_op.drop_column("tq_code")
        batch_op.drop_column("area_class")
        batch_op.drop_column("area_code")

    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.drop_column("detail")
        batch_op.drop_column("source")
        batch_op.drop_column("actor")
        batch_op.drop_column("kind")
        batch_op.drop_column("from_status")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint("fk_customers_tq_code", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_customers_tq_code"))
        batch_op.drop_column("tq_code")

    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_column("area_class")

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveys_team_id"))
        batch_op.drop_index(batch_op.f("ix_surveys_order_id"))
        batch_op.drop_index(batch_op.f("ix_surveys_member_id"))

    op.drop_table("surveys")
    with op.batch_alter_table("order_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_notices_sent_at"))
        batch_op.drop_index(batch_op.f("ix_order_notices_send_after"))
        batch_op.drop_index(batch_op.f("ix_order_notices_order_id"))

    op.drop_table("order_notices")
    with op.batch_alter_table("field_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_field_sessions_member_id"))

    op.drop_table("field_sessions")
    with op.batch_alter_table("transformer_districts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transformer_districts_line_code"))
        batch_op.drop_index(batch_op.f("ix_transformer_districts_area_code"))

    op.drop_table("transformer_districts")
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_members_team_id"))

    op.drop_table("team_members")
    op.drop_table("grid_teams")
    with op.batch_alter_table("feeder_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feeder_lines_area_code"))

    op.drop_table("feeder_lines")
