"""SQLAlchemy models: KPI alerts (one row per breach, cleared when the KPI is back to normal), the archive of
generated weekly / monthly reports (files under var/reports/, one row each), and the kept KPI results of settled
local days (analytics/kpi_days.py), which any change to one of that day's contacts forgets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Date, DateTime, Float, Index, Integer, String, Text, delete, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.model_base import Base, transaction_memo, utcnow
from backend.models_analytics import Contact
from backend.spoken import LOCAL_TZ


class KpiAlert(Base):
    """One breach of a KPI threshold (analytics/kpi_thresholds.yml): raised once, open until cleared."""

    __tablename__ = "kpi_alerts"
    __table_args__ = (Index("ix_kpi_alerts_kpi_cleared_at", "kpi", "cleared_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kpi: Mapped[str] = mapped_column(String(32))  # analytics.alerts threshold key, e.g. abandon_rate
    area_code: Mapped[str | None] = mapped_column(String(16), nullable=True)  # None: the whole centre
    level: Mapped[str] = mapped_column(String(8))  # warning | critical
    value: Mapped[float] = mapped_column(Float)  # the KPI when it was raised
    threshold: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    cleared_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    notified: Mapped[str] = mapped_column(String(64), default="")  # what the notification interface answered


class KpiReport(Base):
    """One generated report: who asked for it, when, for which range and area, and where its files are."""

    __tablename__ = "kpi_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # weekly | monthly | custom
    title: Mapped[str] = mapped_column(String(120))
    date_from: Mapped[dt.date] = mapped_column(Date)  # local dates, both included
    date_to: Mapped[dt.date] = mapped_column(Date)
    area_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_by: Mapped[str] = mapped_column(String(32))  # "name（username）" from the console, or "cli"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    contacts: Mapped[int] = mapped_column(Integer, default=0)
    html_path: Mapped[str] = mapped_column(String(255))  # relative to the reports directory
    pdf_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pdf_error: Mapped[str | None] = mapped_column(String(200), nullable=True)  # why there is no PDF
    search_text: Mapped[str] = mapped_column(Text, default="")  # title, area, top functions, samples: for search


class KpiDayResult(Base):
    """One KPI query's rows for one settled local day (Asia/Shanghai), whole centre (area_code '') or one area:
    the query's additive rows grouped by local hour (or over the day) as JSON, added up for longer periods."""

    __tablename__ = "kpi_day_results"
    __table_args__ = (Index("ix_kpi_day_results_day", "day"),)
    query: Mapped[str] = mapped_column(String(48), primary_key=True)  # analytics.kpi_parts PartQuery.key
    area_code: Mapped[str] = mapped_column(String(16), primary_key=True)  # '' = every area
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # local date
    result: Mapped[str] = mapped_column(Text)  # JSON list of rows
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


def local_day(utc_naive: dt.datetime) -> dt.date:
    return utc_naive.replace(tzinfo=dt.timezone.utc).astimezone(LOCAL_TZ).date()


def forget_days(s: Session, days: Iterable[dt.date] | None = None) -> None:
    """Drops the kept results of these local days (all of them with None): the next query computes them again."""
    stmt = delete(KpiDayResult)
    if days is not None:
        stmt = stmt.where(KpiDayResult.day.in_(sorted(set(days))))
    s.connection().execute(stmt)


@event.listens_for(Session, "before_flush")
def _forget_changed_contacts_days(session: Session, _context: Any, _instances: Any) -> None:
    """A contact written, changed or deleted through the ORM (the analytics feed, the consumer, a late rating)
    forgets the kept results of its local day in the same transaction; Core bulk writes call forget_days. A day
    is forgotten once per transaction (the feed flushes after every event; results are kept by other sessions)."""
    days: set[dt.date] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Contact) or (obj in session.dirty and not session.is_modified(obj)):
            continue
        started = inspect(obj).attrs.started_at.history
        days |= {local_day(at) for at in (*started.added, *started.unchanged, *started.deleted) if at is not None}
    done = transaction_memo(session, "forgotten_days")
    if days - done.keys():
        forget_days(session, days - done.keys())
        done.update(dict.fromkeys(days, True))
