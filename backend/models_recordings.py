"""SQLAlchemy models of call recordings (issue 20): the audio of both legs of each call (the bot leg from Media
Streams, the agent leg from Twilio's recording) with its timed transcript and retention, and who played which."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.model_base import Base, utcnow


class RecordingLeg(StrEnum):
    BOT = "bot"  # the caller and the bot, both directions, from Media Streams
    AGENT = "agent"  # the caller and the agent, from Twilio's recording


class RecordingStatus(StrEnum):
    STORED = "stored"
    TRANSCRIBED = "transcribed"
    NOT_INSPECTABLE = "not_inspectable"  # missing or corrupt audio: the reason says which
    DELETED = "deleted"  # past retention: the audio is gone, the row stays for the record


class Recording(Base):
    """The audio of one leg of one call, kept until `expires_at`, then deleted (the row stays)."""

    __tablename__ = "call_recordings"
    __table_args__ = (Index("ix_call_recordings_expires_at", "expires_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    leg: Mapped[str] = mapped_column(String(8))  # RecordingLeg
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    recording_sid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)  # Twilio's (agent leg)
    path: Mapped[str | None] = mapped_column(String(300), nullable=True)  # relative to the recordings directory
    channels: Mapped[int] = mapped_column(Integer, default=2)  # 2: caller left, bot/agent right
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default=RecordingStatus.STORED)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # {who, start, end, text}
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class RecordingAccess(Base):
    """Every attempt to play a recording: who, when, and whether it was allowed."""

    __tablename__ = "recording_access"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[int] = mapped_column(Integer, index=True)
    user: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    allowed: Mapped[bool] = mapped_column(Boolean)
