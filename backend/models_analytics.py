"""SQLAlchemy models: contacts (one row per conversation session) and the analytics feed's position."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.model_base import Base, utcnow


class ContactOutcome(StrEnum):
    IN_PROGRESS = "in_progress"  # still going (no session end, not idle long enough)
    CONTAINED = "contained"  # the bot handled it, nobody escalated
    AGENT = "agent"  # an agent claimed the escalation
    ABANDONED = "abandoned"  # escalated, and the customer left before an agent took it


class Contact(Base):
    """One contact: a conversation session from its first customer turn (written by the analytics feed)."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_started_at", "started_at"),
        Index("ix_contacts_area_code_started_at", "area_code", "started_at"),
        Index("ix_contacts_outage_related_started_at", "outage_related", "started_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_key: Mapped[str] = mapped_column(String(120), unique=True)  # "<conversation_id>:<session start ms>"
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # chat | voice | wechat | rest ...
    area_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    account_no: Mapped[str | None] = mapped_column(String(16), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, first customer turn
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # last event seen
    function: Mapped[str | None] = mapped_column(String(32), nullable=True)
    outage_related: Mapped[bool] = mapped_column(Boolean, default=False)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    transfer_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default=ContactOutcome.IN_PROGRESS)
    wait_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    handle_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_text: Mapped[str] = mapped_column(String(200), default="")  # PII-masked (backend.pii)
    told_outage: Mapped[bool] = mapped_column(Boolean, default=False)


class FeedPosition(Base):
    """How far a feed has read its source (the embedded feed: the last tracker-store event id it applied)."""

    __tablename__ = "analytics_feed_positions"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
