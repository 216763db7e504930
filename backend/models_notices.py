"""SQLAlchemy models: outbound notices (the customer and staff notice outbox) and customers' notice preferences.

The statuses, kinds, audiences and channels are defined here once; `notices/` writes and sends the rows.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.model_base import Base, utcnow


class NoticeKind(StrEnum):
    PLANNED_OUTAGE = "planned_outage"
    FAULT_OUTAGE = "fault_outage"
    RESTORATION = "restoration"
    ARREARS_REMINDER = "arrears_reminder"
    INCIDENT_ALERT = "incident_alert"  # staff: a suspected outage (surge)
    KPI_ALERT = "kpi_alert"  # staff: a KPI past its threshold


class Audience(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"  # every console (agents and supervisors)
    SUPERVISOR = "supervisor"  # supervisors' consoles only


class NoticeChannel(StrEnum):
    WECHAT = "wechat"  # template message through the WeChat API
    SMS = "sms"  # the operator's SMS gateway
    VOICE = "voice"  # an outbound call through the Twilio REST API
    CONSOLE = "console"  # staff alerts, pushed by the console process over its hub


class NoticeStatus(StrEnum):
    PENDING = "pending"  # waiting for its time (quiet hours, a retry's backoff)
    SENDING = "sending"  # an attempt is recorded, its outcome is not: in doubt if its claim lapses
    SENT = "sent"  # the gateway accepted it
    DELIVERED = "delivered"  # a delivery receipt said it arrived
    UNDELIVERED = "undelivered"  # a receipt said it did not (number off, user blocked, call not answered)
    FAILED = "failed"  # given up after the last attempt (error says why)
    SKIPPED = "skipped"  # never sent: opted out, no channel (skip_reason says which)


OPEN_STATUSES = (NoticeStatus.PENDING, NoticeStatus.SENDING)  # what a sender may still claim


class OutboundNotice(Base):
    """One notice to one recipient: a customer (by account) or staff (a console audience).

    Written in the caller's transaction by `notices.notify`; (key, recipient_key) makes each exist once. A sender
    claims it (attempt recorded first), sends it with the reference `N<id>`, and marks it sent."""

    __tablename__ = "outbound_notices"
    __table_args__ = (
        UniqueConstraint("key", "recipient_key", name="uq_outbound_notices_key_recipient"),
        Index("ix_outbound_notices_status_send_after", "status", "send_after"),
        Index("ix_outbound_notices_account_created", "account_no", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120), index=True)  # the caller's dedupe key (planned:<outage id> ...)
    recipient_key: Mapped[str] = mapped_column(String(64))  # account no, or staff:<audience>
    kind: Mapped[str] = mapped_column(String(24))  # NoticeKind (others' staff kinds allowed)
    audience: Mapped[str] = mapped_column(String(16))  # Audience
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    account_no: Mapped[str | None] = mapped_column(String(10), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))  # NoticeChannel ('' when skipped for want of one)
    recipient: Mapped[str] = mapped_column(String(128), default="")  # openid, phone, or the console audience
    text: Mapped[str] = mapped_column(Text, default="")  # written wording (SMS, WeChat, console)
    spoken: Mapped[str] = mapped_column(Text, default="")  # spoken wording (a call)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.PENDING)
    skip_reason: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    send_after: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # a claim, or a retry's time
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # the last attempt's start
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    gateway_ref: Mapped[str] = mapped_column(String(64), default="", index=True)  # SMS id, CallSid, WeChat msgid
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    receipt: Mapped[str] = mapped_column(String(48), default="")  # the receipt's own status word
    error: Mapped[str] = mapped_column(String(200), default="")


class NoticePreference(Base):
    """A customer's choice: channel (None: chosen from what the CIS knows), kinds opted out, quiet hours."""

    __tablename__ = "notice_preferences"
    account_no: Mapped[str] = mapped_column(ForeignKey("customers.account_no"), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)  # NoticeChannel of a customer
    wechat_openid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    opted_out: Mapped[list[str]] = mapped_column(JSON, default=list)  # NoticeKind values; "all" for every kind
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")  # local time, HH:MM
    quiet_end: Mapped[str] = mapped_column(String(5), default="07:00")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
