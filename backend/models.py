"""SQLAlchemy models of the utility back end."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.model_base import Base, utcnow

__all__ = ["Base", "utcnow"]  # re-exported: most code reaches the base and the clock through this module


class Area(Base):
    """A service area (供电网格): the unit outages are announced for."""

    __tablename__ = "areas"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    district: Mapped[str] = mapped_column(String(32))
    streets: Mapped[list] = mapped_column(JSON, default=list)  # street/village names inside the area
    area_class: Mapped[str] = mapped_column(String(8), default="urban")  # urban | rural | remote: time limits


class Customer(Base):
    __tablename__ = "customers"
    account_no: Mapped[str] = mapped_column(String(10), primary_key=True)  # 户号
    name: Mapped[str] = mapped_column(String(32))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(11), index=True)
    address: Mapped[str] = mapped_column(String(128))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)  # CIS facts: 低保户, 光伏用户, 预付费 (else customer_tags)
    channels: Mapped[list] = mapped_column(JSON, default=list)  # self-service channels the customer uses
    tou_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    tq_code: Mapped[str | None] = mapped_column(ForeignKey("transformer_districts.code"), nullable=True, index=True)
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


class FeederLine(Base):
    """A 10 kV feeder (线路) out of a substation; its 台区 hang off it."""

    __tablename__ = "feeder_lines"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    substation: Mapped[str] = mapped_column(String(64))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)


class TransformerDistrict(Base):
    """A 台区: the customers one distribution transformer feeds. customer -> 台区 -> line -> area."""

    __tablename__ = "transformer_districts"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    line_code: Mapped[str] = mapped_column(ForeignKey("feeder_lines.code"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    capacity_kva: Mapped[int] = mapped_column(Integer, default=400)


class GridTeam(Base):
    """The grid team (供电网格) that owns a service area's orders."""

    __tablename__ = "grid_teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class TeamMember(Base):
    """Field staff: 台区经理, 抢修班 or 营业, the functions they handle, when they are on duty, their app login."""

    __tablename__ = "team_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("grid_teams.id"), index=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(11))
    role: Mapped[str] = mapped_column(String(16))  # district_manager | repair | business
    leader: Mapped[bool] = mapped_column(Boolean, default=False)
    skills: Mapped[list] = mapped_column(JSON, default=list)  # function ids
    shifts: Mapped[list] = mapped_column(JSON, default=list)  # [[weekdays 0-6], "HH:MM", "HH:MM"], local time
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(200), default="")


class FieldSession(Base):
    """A field-app login; only a hash of the cookie value is stored."""

    __tablename__ = "field_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class WorkOrder(Base):
    __tablename__ = "work_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    function_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # backend.workorders.states.OrderStatus
    priority: Mapped[str] = mapped_column(String(8), default="normal")  # normal | urgent
    channel: Mapped[str] = mapped_column(String(16))
    account_no: Mapped[str | None] = mapped_column(ForeignKey("customers.account_no"), nullable=True, index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # dispatch: where, to whom
    area_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    area_class: Mapped[str] = mapped_column(String(8), default="urban")
    tq_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("grid_teams.id"), nullable=True, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), nullable=True, index=True)
    # time limits and supervision (督办): the step being chased, and when the sweeper must look again
    clock_start: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    due_step: Mapped[str | None] = mapped_column(String(16), nullable=True)
    step_allowed_s: Mapped[int] = mapped_column(Integer, default=0)
    supervision_stage: Mapped[int] = mapped_column(Integer, default=0)  # 0 on time, 1 warned, 2 leader, 3 supervisor
    next_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # a change made on a stale copy fails (two phones at once)
    history: Mapped[list[WorkOrderEvent]] = relationship(order_by="WorkOrderEvent.id", cascade="all, delete-orphan")
    team: Mapped[GridTeam | None] = relationship()
    assignee: Mapped[TeamMember | None] = relationship()


class WorkOrderEvent(Base):
    """One entry of an order's append-only history: a status change, a dispatch, a note, a supervision step."""

    __tablename__ = "work_order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # the status after the event
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="status")  # status | dispatch | note | supervision | survey
    actor: Mapped[str] = mapped_column(
        String(64), default="system"
    )  # bot | customer | agent:<id> | field:<id> | system
    source: Mapped[str] = mapped_column(
        String(16), default="system"
    )  # chat | voice | wechat | console | field_app | ...
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class OrderNotice(Base):
    """Outbox of messages about orders: to the customer (status, survey), to staff (page, warning, overdue).

    Written in the same transaction as the change that causes it; `dedupe_key` makes each one exist once.
    A sender claims a notice for a while, sends it with its id (receivers drop repeats), and marks it sent."""

    __tablename__ = "order_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # status survey page assigned warning overdue_leader/_supervisor
    audience: Mapped[str] = mapped_column(String(16))  # customer | staff | supervisor
    channel: Mapped[str] = mapped_column(String(16))  # chat | wechat | sms | console | field_app
    recipient: Mapped[str] = mapped_column(String(128), default="")  # conversation id, openid, phone, member id
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    send_after: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(200), default="")


class Survey(Base):
    """The satisfaction follow-up (回访) of a closed order, answered 1-5 on the customer's channel."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)  # a reopened and closed again order is asked again
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(128), default="")
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    member_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # satisfied | reopened | review
    __table_args__ = (UniqueConstraint("order_id", "round"),)


# ---- contact centre: agents, their sessions, escalations to a person, cross-channel continuation ----


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)  # 工号
    display_name: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent | supervisor
    password_hash: Mapped[str] = mapped_column(String(200))
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # console connected
    # presence (示闲 available / 示忙 busy / 小休 break / 离线 offline) and routing: kinds.AgentStatus
    status: Mapped[str] = mapped_column(String(16), default="offline")
    status_reason: Mapped[str] = mapped_column(String(32), default="")
    status_since: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    idle_since: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # longest idle is offered first
    skills: Mapped[list] = mapped_column(JSON, default=list)  # catalog function ids and skill groups; [] = any
    max_cases: Mapped[int] = mapped_column(Integer, default=3)  # concurrent chats


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
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)  # today's figures
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, index=True)
    # routing: the skill the case needs (a catalog function id or a skill group), the live offer
    skill: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    offered_to: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    offer_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    declined_by: Mapped[list] = mapped_column(JSON, default=list)  # agent ids who declined or let the offer lapse
    abandoned_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # customer left while waiting
    # the transcript as indexed for search when the case ended (backend.contact_centre.search); null: not yet
    transcript_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class CaseNote(Base):
    """What happened on a case besides messages: internal notes, transfers with a note, whispers, identity checks
    made by an agent, binding to a customer, monitoring. Never shown to the customer."""

    __tablename__ = "case_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # note | transfer | whisper | verify | bind | monitor | takeover
    text: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class CannedReply(Base):
    """常用语: a team reply (agent_id null) or one agent's own; {客户称呼} {工单号} style variables."""

    __tablename__ = "canned_replies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Rating(Base):
    """A customer's 1-5 satisfaction with one contact: a bot-only chat or an agent's case, on any channel."""

    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_key: Mapped[str] = mapped_column(String(96), unique=True)  # case:<id> | bot:<conversation>:<n>
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), nullable=True, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True, index=True)
    account_no: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # null: asked, not answered yet
    comment: Mapped[str] = mapped_column(String(300), default="")
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Attachment(Base):
    """A customer's photo (meter display, downed line): checked, re-encoded, stored with the conversation/case."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), nullable=True, index=True)
    path: Mapped[str] = mapped_column(String(200))  # relative to the attachment directory
    mime: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CaseTerm(Base):
    """The transcript search index: each case's distinct Chinese character bigrams and latin/digit words."""

    __tablename__ = "case_terms"
    case_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


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


# Tables of the proactive-service and analytics parts live in their own modules; importing them here registers
# them on Base.metadata for create_all and the migrations check.
from backend import (  # noqa: E402, F401
    models_analytics,
    models_incidents,
    models_insight,
    models_notices,
    models_quality,
    models_recordings,
    models_reports,
)
