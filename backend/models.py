"""SQLAlchemy models of the utility back end."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Area(Base):
    """A service area (供电网格): the unit outages are announced for."""

    __tablename__ = "areas"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    district: Mapped[str] = mapped_column(String(32))
    streets: Mapped[list] = mapped_column(JSON, default=list)  # street/village names inside the area


class Customer(Base):
    __tablename__ = "customers"
    account_no: Mapped[str] = mapped_column(String(10), primary_key=True)  # 户号
    name: Mapped[str] = mapped_column(String(32))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(11), index=True)
    address: Mapped[str] = mapped_column(String(128))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)  # 低保户, 光伏用户, 预付费, 高频来电, 欠费风险
    channels: Mapped[list] = mapped_column(JSON, default=list)  # self-service channels the customer uses
    tou_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    area: Mapped[Area] = relationship()


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (UniqueConstraint("account_no", "month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_no: Mapped[str] = mapped_column(ForeignKey("customers.account_no"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    kwh: Mapped[float] = mapped_column(Float)
    amount: Mapped[float] = mapped_column(Float)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)


class Balance(Base):
    """Prepaid balance (预付费 smart meters); negative means arrears."""

    __tablename__ = "balances"
    account_no: Mapped[str] = mapped_column(ForeignKey("customers.account_no"), primary_key=True)
    balance: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Outage(Base):
    __tablename__ = "outages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # planned | fault
    start: Mapped[dt.datetime] = mapped_column(DateTime)
    expected_end: Mapped[dt.datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(128))
    area: Mapped[Area] = relationship()


class WorkOrder(Base):
    __tablename__ = "work_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    function_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8), default="normal")  # normal | urgent
    channel: Mapped[str] = mapped_column(String(16))
    account_no: Mapped[str | None] = mapped_column(ForeignKey("customers.account_no"), nullable=True, index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    history: Mapped[list[WorkOrderEvent]] = relationship(order_by="WorkOrderEvent.id", cascade="all, delete-orphan")


class WorkOrderEvent(Base):
    """One status change of a work order (its history)."""

    __tablename__ = "work_order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# ---- contact centre: agents, their sessions, escalations to a person, cross-channel continuation ----


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)  # 工号
    display_name: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent | supervisor
    password_hash: Mapped[str] = mapped_column(String(200))
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # console connected


class AgentSession(Base):
    """A console login. Only a hash of the cookie value is stored, so a leaked table grants nothing."""

    __tablename__ = "agent_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Escalation(Base):
    """A conversation handed to a person: waiting -> claimed -> returned (to the bot) | closed."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))  # customer_request | not_understood | form_failed | anger | safety
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    account_no: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(11), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True, index=True)
    disposition: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, index=True)


class ContinuationCode(Base):
    """A short code that lets a customer carry one case to another channel (phone -> chat, chat -> WeChat)."""

    __tablename__ = "continuation_codes"
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ChannelBinding(Base):
    """Which case a channel identity (chat browser, WeChat openid) currently talks in."""

    __tablename__ = "channel_bindings"
    channel_user: Mapped[str] = mapped_column(String(128), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class TurnAnalytics(Base):
    """One conversation event as the analytics feed sees it (written by analytics.consumer from the broker)."""

    __tablename__ = "turn_analytics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)  # redelivered events are written once
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # turn | handoff | resume | order
    function: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)


class Verification(Base):
    """A customer proved, in one conversation, that they hold one account (户号): by what method, and when.

    Valid while used: it lapses after `identity.IDLE` without use, and never moves to another session."""

    __tablename__ = "verifications"
    __table_args__ = (UniqueConstraint("conversation_id", "account_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    account_no: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(16))  # last4 | last4+name
    strength: Mapped[int] = mapped_column(Integer)  # 1: read the account; 2: change its contact data
    verified_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class VerificationFailure(Base):
    """One wrong answer to an identity question: counted per conversation, per client and per account."""

    __tablename__ = "verification_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)  # caller number, chat client address, openid
    account_no: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SecurityEvent(Base):
    """Something a supervisor should see: a lockout after repeated wrong identity answers, and the like."""

    __tablename__ = "security_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))  # masked
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
