"""SQLAlchemy models: surge incidents (疑似停电, a suspected outage) and the dispatcher's decision on each."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.model_base import Base, utcnow


class IncidentStatus(StrEnum):
    """open -> confirmed (a fault outage was recorded for its areas) | dismissed. Both end it."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


INCIDENT_LABELS = {
    IncidentStatus.OPEN: "待核实",
    IncidentStatus.CONFIRMED: "已确认停电",
    IncidentStatus.DISMISSED: "已排除",
}
INCIDENT_TITLE = "疑似停电"


class Incident(Base):
    """A suspected outage opened by a surge of outage contacts in one or more areas (analytics.surge).

    `detail` holds per area the latest window's count, expected count and p-value and the peak count;
    later windows of the same surge update the row rather than opening another."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.OPEN, index=True)
    area_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    first_window: Mapped[dt.datetime] = mapped_column(DateTime)  # start of the window that opened it (UTC)
    last_surge_at: Mapped[dt.datetime] = mapped_column(DateTime)  # end of the latest window still surging
    contacts: Mapped[int] = mapped_column(Integer, default=0)  # outage contacts counted in surging windows
    expected: Mapped[float] = mapped_column(Float, default=0.0)  # what the baseline expected for those windows
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    samples: Mapped[list[Any]] = mapped_column(JSON, default=list)  # a few first utterances, PII-masked
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # agent:<id> (a supervisor)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    outage_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the fault outages.id made on confirmation
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
