"""The escalation queue: cases handed to a person, and their guarded state changes.

Every state change is one UPDATE guarded by the current state, so two agents clicking "claim" at once
cannot both win, whatever process they reach.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre import metrics
from backend.contact_centre.agents import online_agents
from backend.contact_centre.kinds import (
    OPEN_STATUSES,
    QUEUE_ORDER,
    CaseStatus,
    Channel,
    EscalationReason,
    Priority,
)
from backend.contact_centre.skills import skill_groups
from backend.customer_insight import SENSITIVE, holds

DEFAULT_HANDLE_MINUTES = 5.0
ENDINGS = (CaseStatus.RETURNED, CaseStatus.CLOSED)


def queue_order() -> tuple[ColumnElement[int], ColumnElement[int]]:
    """ORDER BY of waiting cases: by QUEUE_ORDER, then oldest first."""
    rank = case({p.value: i for i, p in enumerate(QUEUE_ORDER)}, value=m.Escalation.priority, else_=len(QUEUE_ORDER))
    return rank, m.Escalation.id.expression


def raised_priority(s: Session, priority: str, account_no: str | None) -> Priority:
    """A normal case of a customer tagged 敏感客户 waits as CARE (urgent stays urgent)."""
    if priority == Priority.NORMAL and account_no and holds(s, account_no, SENSITIVE):
        return Priority.CARE
    return Priority(priority)


class Conflict(RuntimeError):
    """The case is no longer in the state the caller expected (claimed by someone else, already closed)."""


@dataclass(frozen=True)
class EscalationInfo:
    id: int
    conversation_id: str
    channel: str
    reason: str
    priority: str
    status: CaseStatus
    account_no: str | None
    phone: str | None
    summary: str
    context: dict[str, Any]
    agent_id: int | None
    disposition: str | None
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None
    updated_at: dt.datetime
    # routing (backend.contact_centre.routing): the skill group needed, the live offer, who passed on it
    skill: str | None = None
    offered_to: int | None = None
    offer_expires_at: dt.datetime | None = None
    declined_by: tuple[int, ...] = ()

    def waited_seconds(self, now: dt.datetime | None = None) -> int:
        end = self.claimed_at or now or m.utcnow()
        return max(0, int((end - self.created_at).total_seconds()))


@dataclass(frozen=True)
class CaseChange:
    id: int
    status: CaseStatus
    channel: str
    summary: str
    agent_id: int | None
    updated_at: dt.datetime


def _changes() -> Select[Any]:
    """SELECT of a case's state columns, in CaseChange's order (read with `_change`)."""
    return select(*(getattr(m.Escalation, f.name) for f in fields(CaseChange)))


def _change(case_id: int, status: str, *rest: Any) -> CaseChange:
    return CaseChange(case_id, CaseStatus(status), *rest)


def case_info(e: m.Escalation) -> EscalationInfo:
    return EscalationInfo(
        e.id,
        e.conversation_id,
        e.channel,
        e.reason,
        e.priority,
        CaseStatus(e.status),
        e.account_no,
        e.phone,
        e.summary,
        dict(e.context or {}),
        e.agent_id,
        e.disposition,
        e.created_at,
        e.claimed_at,
        e.closed_at,
        e.updated_at,
        e.skill,
        e.offered_to,
        e.offer_expires_at,
        tuple(e.declined_by or ()),
    )


class CaseStore:
    """Opening cases, reading the queue, and moving a case from one state to the next."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def escalate(
        self,
        conversation_id: str,
        channel: str,
        reason: str,
        *,
        summary: str,
        context: dict[str, Any],
        account_no: str | None = None,
        phone: str | None = None,
        priority: str = Priority.NORMAL,
        skill: str | None = None,
    ) -> tuple[EscalationInfo, bool]:
        """Opens a case for the conversation, or returns the one already open (and False). The skill group it
        needs is that of the service the customer last asked for (catalog/skills.yml) unless given."""
        existing = self.open_case(conversation_id)
        if existing:
            return existing, False
        with self._sessions.begin() as s:
            e = m.Escalation(
                conversation_id=conversation_id,
                channel=Channel(channel),
                reason=EscalationReason(reason),
                priority=raised_priority(s, priority, account_no),
                status=CaseStatus.WAITING,
                account_no=account_no,
                phone=phone,
                summary=summary,
                context=context,
                skill=skill or skill_groups().needed_by_context(context),
            )
            s.add(e)
            s.flush()
            return case_info(e), True

    def case(self, case_id: int) -> EscalationInfo | None:
        with self._sessions() as s:
            e = s.get(m.Escalation, case_id)
            return case_info(e) if e else None

    def open_case(self, conversation_id: str) -> EscalationInfo | None:
        with self._sessions() as s:
            q = (
                select(m.Escalation)
                .where(m.Escalation.conversation_id == conversation_id, m.Escalation.status.in_(OPEN_STATUSES))
                .order_by(m.Escalation.id.desc())
            )
            e = s.scalars(q).first()
            return case_info(e) if e else None

    def open_case_state(self, conversation_id: str) -> CaseChange | None:
        """The open case's state without its context: what a customer's every message needs to know."""
        with self._sessions() as s:
            row = s.execute(
                _changes()
                .where(m.Escalation.conversation_id == conversation_id, m.Escalation.status.in_(OPEN_STATUSES))
                .order_by(m.Escalation.id.desc())
                .limit(1)
            ).first()
        return _change(*row) if row else None

    def queue(self) -> list[EscalationInfo]:
        """Waiting cases in the order a person takes them (QUEUE_ORDER, then oldest first)."""
        with self._sessions() as s:
            q = select(m.Escalation).where(m.Escalation.status == CaseStatus.WAITING).order_by(*queue_order())
            return [case_info(e) for e in s.scalars(q)]

    def cases_of(self, agent_id: int | None = None) -> list[EscalationInfo]:
        """Claimed cases (of one agent, or of everyone)."""
        with self._sessions() as s:
            q = select(m.Escalation).where(m.Escalation.status == CaseStatus.CLAIMED)
            if agent_id is not None:
                q = q.where(m.Escalation.agent_id == agent_id)
            return [case_info(e) for e in s.scalars(q.order_by(m.Escalation.id))]

    def history_of(self, account_no: str, limit: int = 10) -> list[EscalationInfo]:
        with self._sessions() as s:
            q = (
                select(m.Escalation)
                .where(m.Escalation.account_no == account_no)
                .order_by(m.Escalation.id.desc())
                .limit(limit)
            )
            return [case_info(e) for e in s.scalars(q)]

    def changed_since(self, since: dt.datetime) -> list[CaseChange]:
        """What the consoles' queue watcher pushes of each case changed since then (polled 4 times a second,
        so not the cases' contexts)."""
        with self._sessions() as s:
            rows = s.execute(_changes().where(m.Escalation.updated_at > since).order_by(m.Escalation.updated_at)).all()
        return [_change(*row) for row in rows]

    def position(self, case: EscalationInfo | CaseChange) -> int:
        """Its place in the queue (1: next), 0 when it is not waiting. Reads the waiting cases' ids only: every
        escalation asks, and loading each waiting case's context made a burst of escalations quadratic."""
        with self._sessions() as s:
            q = select(m.Escalation.id).where(m.Escalation.status == CaseStatus.WAITING).order_by(*queue_order())
            ids = list(s.scalars(q))
        return ids.index(case.id) + 1 if case.id in ids else 0

    def handle_minutes(self) -> float:
        """Mean claimed-to-finished time over today's finished cases (a default until there are a few)."""
        start = m.utcnow() - dt.timedelta(hours=24)
        with self._sessions() as s:
            rows = s.execute(
                select(m.Escalation.claimed_at, m.Escalation.closed_at).where(
                    m.Escalation.closed_at > start, m.Escalation.claimed_at.is_not(None)
                )
            ).all()
        spans = [(b - a).total_seconds() / 60 for a, b in rows if a and b and b > a]
        return sum(spans) / len(spans) if len(spans) >= 3 else DEFAULT_HANDLE_MINUTES

    def wait_minutes(self, position: int) -> int:
        with self._sessions() as s:
            agents = max(1, len(online_agents(s)))
        return max(1, math.ceil(position * self.handle_minutes() / agents))

    def _transition(self, case_id: int, allowed: tuple[CaseStatus, ...], **values: Any) -> EscalationInfo:
        with self._sessions.begin() as s:
            done = s.execute(
                update(m.Escalation)
                .where(m.Escalation.id == case_id, m.Escalation.status.in_(allowed))
                .values(updated_at=m.utcnow(), **values)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
                raise Conflict(f"case {case_id} is not {'/'.join(allowed)} any more")
            row = s.get(m.Escalation, case_id)
            assert row is not None
            return case_info(row)

    def claim(self, case_id: int, agent_id: int) -> EscalationInfo:
        return self._transition(
            case_id,
            (CaseStatus.WAITING,),
            status=CaseStatus.CLAIMED,
            agent_id=agent_id,
            claimed_at=m.utcnow(),
            offered_to=None,  # an offer to someone else is withdrawn: their accept is refused
            offer_expires_at=None,
        )

    def take_over(self, case_id: int, supervisor_id: int, from_agent_id: int) -> EscalationInfo:
        """A supervisor becomes the owner of a case that `from_agent_id` is handling (Conflict if it was moved,
        released or finished meanwhile: the guard names the owner the supervisor saw)."""
        with self._sessions.begin() as s:
            done = s.execute(
                update(m.Escalation)
                .where(
                    m.Escalation.id == case_id,
                    m.Escalation.status == CaseStatus.CLAIMED,
                    m.Escalation.agent_id == from_agent_id,
                )
                .values(agent_id=supervisor_id, updated_at=m.utcnow())
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
                raise Conflict(f"case {case_id} is not handled by agent {from_agent_id} any more")
            row = s.get(m.Escalation, case_id)
            assert row is not None
            return case_info(row)

    def transfer(self, case_id: int, to_agent_id: int) -> EscalationInfo:
        return self._transition(case_id, (CaseStatus.CLAIMED,), agent_id=to_agent_id)

    def release(self, case_id: int) -> EscalationInfo:
        """Back into the queue, in its old place (an agent who cannot take the case after all)."""
        return self._transition(
            case_id, (CaseStatus.CLAIMED,), status=CaseStatus.WAITING, agent_id=None, claimed_at=None
        )

    def to_group(self, case_id: int, skill: str) -> EscalationInfo:
        """A claimed case goes back to the queue for a skill group (a transfer): no owner, no live offer, and
        nobody counted as having declined it, so the router offers it afresh to that group's agents."""
        return self._transition(
            case_id,
            (CaseStatus.CLAIMED,),
            status=CaseStatus.WAITING,
            agent_id=None,
            claimed_at=None,
            skill=skill,
            declined_by=[],
            offered_to=None,
            offer_expires_at=None,
        )

    def finish(self, case_id: int, status: str, disposition: str) -> EscalationInfo:
        """Ends the person's part: returned (the bot resumes) or closed."""
        ending = CaseStatus(status)
        if ending not in ENDINGS:
            raise ValueError(f"a case ends {' or '.join(ENDINGS)}, not {status}")
        return self._transition(
            case_id,
            OPEN_STATUSES,
            status=ending,
            disposition=disposition,
            closed_at=m.utcnow(),
            offered_to=None,
            offer_expires_at=None,
        )

    def abandon(self, case_id: int, disposition: str) -> EscalationInfo:
        """The customer left while still waiting for a person: closed, and counted as abandoned."""
        now = m.utcnow()
        return self._transition(
            case_id,
            (CaseStatus.WAITING,),
            status=CaseStatus.CLOSED,
            disposition=disposition,
            closed_at=now,
            abandoned_at=now,
            offered_to=None,
            offer_expires_at=None,
        )

    def stats_today(self) -> dict[str, Any]:
        start = m.utcnow() - dt.timedelta(hours=24)
        with self._sessions() as s:
            rows = s.execute(
                select(m.Escalation.reason, func.count(m.Escalation.id))
                .where(m.Escalation.created_at > start)
                .group_by(m.Escalation.reason)
            ).all()
            by_reason = {str(reason): int(n) for reason, n in rows}
            online = online_agents(s)
            spans = [span for _, span in metrics.handled_today(s, metrics.today())]
        queue = self.queue()
        now = m.utcnow()
        return {
            "queue_length": len(queue),
            "longest_wait_seconds": max((e.waited_seconds(now) for e in queue), default=None),
            "agents_online": [a.display_name for a in online],
            "claimed": len(self.cases_of()),
            "by_reason": by_reason,
            # real figures only: None (shown "—") when nobody finished a case today, never the estimate's default
            "handle_minutes": round(sum(spans) / len(spans) / 60, 1) if spans else None,
        }
