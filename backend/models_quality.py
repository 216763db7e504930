"""SQLAlchemy models of quality inspection (智能质检, issue 20): one inspection per finished contact with its score,
the rule flags with the evidence lines and the reviewers' verdicts, and reviews of the random unflagged sample.
The call recordings they point at are in backend/models_recordings.py."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.model_base import Base, utcnow


class InspectionStatus(StrEnum):
    INSPECTED = "inspected"
    NOT_INSPECTABLE = "not_inspectable"  # the reason says why (no transcript, corrupt audio...)


class Review(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # the reviewer agrees: a real problem
    DISMISSED = "dismissed"  # a false alarm


class Inspection(Base):
    """The inspection of one finished contact (contacts.id): who handled it, the score and the emotion course."""

    __tablename__ = "quality_inspections"
    __table_args__ = (Index("ix_quality_inspections_ended_at", "ended_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(Integer, unique=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    handled_by: Mapped[str] = mapped_column(String(8))  # bot | agent
    agent_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    agent_name: Mapped[str | None] = mapped_column(String(32), nullable=True)
    team: Mapped[str | None] = mapped_column(String(32), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime] = mapped_column(DateTime)
    inspected_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delay_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # contact end to inspection
    status: Mapped[str] = mapped_column(String(16), default=InspectionStatus.INSPECTED)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    score: Mapped[float] = mapped_column(Float, default=100.0)  # 100 minus the flags' weights, floor 0
    flags: Mapped[int] = mapped_column(Integer, default=0)
    top_severity: Mapped[int] = mapped_column(Integer, default=0)  # 0 none, 1 low, 2 medium, 3 high
    turns: Mapped[int] = mapped_column(Integer, default=0)
    parts: Mapped[int] = mapped_column(Integer, default=1)  # a long contact is inspected in parts
    emotions: Mapped[list[str]] = mapped_column(JSON, default=list)  # per customer turn
    sampled: Mapped[bool] = mapped_column(Boolean, default=False)  # unflagged, drawn for a recall review
    rules_version: Mapped[str] = mapped_column(String(64), default="")


class Flag(Base):
    """One rule's finding in one inspection, with the evidence and the reviewer's verdict."""

    __tablename__ = "quality_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inspection_id: Mapped[int] = mapped_column(Integer, index=True)
    rule_id: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[int] = mapped_column(Integer)  # 1 low, 2 medium, 3 high
    message: Mapped[str] = mapped_column(String(200))  # the rule's description, or what exactly was found
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # turns: index, who, text, at, spans
    recording_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offset_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)  # where in the recording
    review: Mapped[str] = mapped_column(String(16), default=Review.PENDING)
    reviewer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SampleReview(Base):
    """A reviewer's verdict on an unflagged contact of the random sample: did the rules miss something?"""

    __tablename__ = "quality_sample_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inspection_id: Mapped[int] = mapped_column(Integer, unique=True)
    reviewer: Mapped[str] = mapped_column(String(16))
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    missed_rule: Mapped[str | None] = mapped_column(String(32), nullable=True)  # null: nothing was missed
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)


class InspectionClaim(Base):
    """A worker's claim on one contact while it builds and inspects it outside any write transaction (SQLite's
    write lock is database-wide; a live turn filing an order must not wait for the emotion model). Deleted when
    the inspection is stored; a claim whose worker died lapses at `until`."""

    __tablename__ = "quality_inspection_claims"
    contact_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))
    until: Mapped[dt.datetime] = mapped_column(DateTime)
