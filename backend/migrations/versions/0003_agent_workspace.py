"""The agent workspace: agent presence and skills, routing offers on cases, case notes, canned replies,
satisfaction ratings, photo attachments and the transcript search index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 12:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="offline"))
        batch_op.add_column(sa.Column("status_reason", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("status_since", sa.DateTime(), nullable=False, server_default=sa.func.now()))
        batch_op.add_column(sa.Column("idle_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("skills", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("max_cases", sa.Integer(), nullable=False, server_default="3"))

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skill", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("offered_to", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("offer_expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("declined_by", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("abandoned_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("transcript_text", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_escalations_skill"), ["skill"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_offered_to"), ["offered_to"], unique=False)
        # the supervisor view's figures for today (backend/contact_centre/metrics.py) read by these times
        batch_op.create_index(batch_op.f("ix_escalations_claimed_at"), ["claimed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_closed_at"), ["closed_at"], unique=False)

    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["escalations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notes_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_notes_at"), ["at"], unique=False)

    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_canned_replies_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_key", sa.String(length=96), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("account_no", sa.String(length=10), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(length=300), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["escalations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_key"),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_account_no"), ["account_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_asked_at"), ["asked_at"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["escalations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_terms",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["escalations.id"]),
        sa.PrimaryKeyConstraint("case_id", "term"),
    )
    with op.batch_alter_table("case_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_terms_term"), ["term"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_terms_term"))
    op.drop_table("case_terms")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_case_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_conversation_id"))
    op.drop_table("attachments")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        for column in ("asked_at", "account_no", "agent_id", "case_id", "conversation_id"):
            batch_op.drop_index(batch_op.f(f"ix_ratings_{column}"))
    op.drop_table("ratings")
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_canned_replies_agent_id"))
    op.drop_table("canned_replies")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_at"))
        batch_op.drop_index(batch_op.f("ix_case_notes_case_id"))
    op.drop_table("case_notes")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_closed_at"))
        batch_op.drop_index(batch_op.f("ix_escalations_claimed_at"))
        batch_op.drop_index(batch_op.f("ix_escalations_offered_to"))
        batch_op.drop_index(batch_op.f("ix_escalations_skill"))
        for column in ("transcript_text", "abandoned_at", "declined_by", "offer_expires_at", "offered_to", "skill"):
            batch_op.drop_column(column)
    with op.batch_alter_table("agents", schema=None) as batch_op:
        for column in ("max_cases", "skills", "idle_since", "status_since", "status_reason", "status"):
            batch_op.drop_column(column)
