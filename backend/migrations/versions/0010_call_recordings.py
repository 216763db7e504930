"""Call recordings: the audio of both legs of each call with its timed transcript and retention, and the log of
who played which recording.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("leg", sa.String(length=8), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("recording_sid", sa.String(length=64), nullable=True),
        sa.Column("path", sa.String(length=300), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recording_sid"),
    )
    with op.batch_alter_table("call_recordings", schema=None) as batch_op:
        batch_op.create_index("ix_call_recordings_expires_at", ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_recordings_call_sid"), ["call_sid"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_recordings_conversation_id"), ["conversation_id"], unique=False)

    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recording_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recording_access_recording_id"), ["recording_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recording_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_access_recording_id"))
    op.drop_table("recording_access")
    with op.batch_alter_table("call_recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_recordings_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_call_recordings_call_sid"))
        batch_op.drop_index("ix_call_recordings_expires_at")
    op.drop_table("call_recordings")
