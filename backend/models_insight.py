"""SQLAlchemy models: what the customer-insight jobs (insight/) publish for the contact centre to read fast: each
customer's current tags with their reasons, when tags were gained and lost, the arrears-risk grade with the tree
path that explains it, the ranked fault and complaint hot spots, and one row per insight run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.model_base import Base, utcnow


class InsightRun(Base):
    """One run of the insight jobs: engine, the period it describes, what it wrote."""

    __tablename__ = "insight_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    engine: Mapped[str] = mapped_column(String(16))  # duckdb | spark
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM: the last billing period the run saw
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done | failed
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # rows written per table
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(String(400), nullable=True)


class CustomerTag(Base):
    """A tag a customer holds now (the latest run), with the reason shown to agents."""

    __tablename__ = "customer_tags"
    account_no: Mapped[str] = mapped_column(String(10), primary_key=True)
    tag: Mapped[str] = mapped_column(String(16), primary_key=True)  # the rule's Chinese name, e.g. 敏感客户
    grade: Mapped[str | None] = mapped_column(String(8), nullable=True)  # e.g. 高/中/低 for 欠费风险
    reason: Mapped[str] = mapped_column(String(200))  # e.g. 近12个月投诉3次
    period: Mapped[str] = mapped_column(String(7))  # computed for this billing period
    since_period: Mapped[str] = mapped_column(String(7))  # held continuously since
    rule_id: Mapped[str] = mapped_column(String(32))
    rule_version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(Integer, index=True)


class CustomerTagChange(Base):
    """History: a tag gained (lost_period null while held) and lost, per customer. One row per holding: a re-run
    of the same period updates it (unique on account, tag, gained_period) instead of adding a second."""

    __tablename__ = "customer_tag_changes"
    __table_args__ = (Index("ix_customer_tag_changes_account", "account_no", "tag", "gained_period", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_no: Mapped[str] = mapped_column(String(10))
    tag: Mapped[str] = mapped_column(String(16))
    gained_period: Mapped[str] = mapped_column(String(7))
    lost_period: Mapped[str | None] = mapped_column(String(7), nullable=True)


class CustomerRisk(Base):
    """The arrears-risk grade for the next billing period, with the decision path that gives it."""

    __tablename__ = "customer_risk"
    account_no: Mapped[str] = mapped_column(String(10), primary_key=True)
    period: Mapped[str] = mapped_column(String(7))  # the period predicted
    probability: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8), index=True)  # 高 | 中 | 低
    path: Mapped[str] = mapped_column(String(400))  # the tree path in Chinese
    model_version: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(Integer, index=True)


class Hotspot(Base):
    """A line, 台区 or area ranked by faults or complaints against what its size predicts (latest run)."""

    __tablename__ = "insight_hotspots"
    __table_args__ = (Index("ix_insight_hotspots_run_level_measure", "run_id", "level", "measure"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(8))  # line | tq | area
    measure: Mapped[str] = mapped_column(String(12))  # faults | complaints
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    area_code: Mapped[str] = mapped_column(String(16))
    first_period: Mapped[str] = mapped_column(String(7))
    last_period: Mapped[str] = mapped_column(String(7))
    size: Mapped[int] = mapped_column(Integer)  # customers
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    rate_ratio: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    q_value: Mapped[float] = mapped_column(Float)
    significant: Mapped[bool] = mapped_column(default=False)
    rank: Mapped[int] = mapped_column(Integer)
    trend: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"quarter": "2026Q1", "count": 3}, ...]
    suggestion: Mapped[str | None] = mapped_column(String(200), nullable=True)
