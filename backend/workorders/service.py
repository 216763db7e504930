"""The work-order desk: one object the field app, the console, the payment feed and the bot's actions call.

Each method is one short transaction that locks the order's row (SKIP/NOWAIT-free FOR UPDATE on PostgreSQL;
SQLite serialises writers) and goes through backend.workorders.lifecycle, so every change is checked, recorded
in the history and told to whoever must know.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from backend import models as m
from backend.db import write_lock
from backend.workorders import lifecycle
from backend.workorders.lifecycle import REVIEW_FUNCTIONS, SYSTEM, Actor
from backend.workorders.states import FIELD_MOVES, OPEN_STATUSES, IllegalTransition, OrderStatus, label, parse

S = OrderStatus


class OrderNotFound(LookupError):
    pass


class NotYours(PermissionError):
    """A field member acting on an order assigned to someone else (team leaders may act for their team)."""


class Conflict(RuntimeError):
    """Someone changed the order at the same moment; nothing was stored, try again with a fresh copy."""


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    status: str
    status_label: str
    from_status: str | None
    kind: str
    actor: str
    source: str
    note: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class OrderView:
    number: str
    function_id: str
    status: str
    status_label: str
    priority: str
    channel: str
    account_no: str | None
    details: dict[str, Any]
    created_at: dt.datetime
    area_code: str | None
    area_class: str
    team: str | None
    team_id: int | None
    assignee: str | None
    assignee_id: int | None
    due_at: dt.datetime | None
    due_step: str | None
    supervision_stage: int
    timeline: list[Event] = field(default_factory=list)


def view(session: Session, o: m.WorkOrder, with_timeline: bool = False) -> OrderView:
    team = session.get(m.GridTeam, o.team_id) if o.team_id else None
    member = session.get(m.TeamMember, o.assignee_id) if o.assignee_id else None
    events = (
        [
            Event(
                e.at, e.status, label(e.status), e.from_status, e.kind, e.actor, e.source, e.note, dict(e.detail or {})
            )
            for e in o.history
        ]
        if with_timeline
        else []
    )
    return OrderView(
        o.number, o.function_id, o.status, label(o.status), o.priority, o.channel, o.account_no, dict(o.details or {}),
        o.created_at, o.area_code, o.area_class, team.name if team else None, o.team_id,
        member.display_name if member else None, o.assignee_id, o.due_at, o.due_step, o.supervision_stage, events,
    )  # fmt: skip


class WorkOrders:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def _locked(self, s: Session, number: str) -> m.WorkOrder:
        o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number.upper()).with_for_update()).first()
        if o is None:
            raise OrderNotFound(number)
        return o

    def _change(self, number: str, fn: Callable[[Session, m.WorkOrder, dt.datetime], None]) -> OrderView:
        try:
            with self.sessions.begin() as s:
                write_lock(s)
                o = self._locked(s, number)
                fn(s, o, m.utcnow())
                s.flush()
                return view(s, o, with_timeline=True)
        except (StaleDataError, OperationalError) as e:
            if isinstance(e, OperationalError) and "locked" not in str(e).lower():
                raise
            raise Conflict(number) from None

    def get(self, number: str) -> OrderView | None:
        with self.sessions() as s:
            o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number.upper())).first()
            return view(s, o, with_timeline=True) if o else None

    def transition(
        self, number: str, to: str, actor: Actor, *, note: str = "", detail: dict[str, Any] | None = None,
        member_id: int | None = None,
    ) -> OrderView:  # fmt: skip
        """A status change. With `member_id` (the field app) only field moves on the member's own orders."""
        wanted = parse(to)

        def apply(s: Session, o: m.WorkOrder, now: dt.datetime) -> None:
            if member_id is not None:
                if wanted not in FIELD_MOVES:
                    raise IllegalTransition(o.status, to)
                self._check_member(s, o, member_id)
            lifecycle.move(s, o, wanted, actor, now, note=note, detail=detail)

        return self._change(number, apply)

    @staticmethod
    def _check_member(s: Session, o: m.WorkOrder, member_id: int) -> None:
        if o.assignee_id == member_id:
            return
        member = s.get(m.TeamMember, member_id)
        if member is None or not (member.leader and member.team_id == o.team_id):
            raise NotYours(o.number)

    def redispatch(self, number: str, member_id: int, actor: Actor, note: str = "") -> OrderView:
        def apply(s: Session, o: m.WorkOrder, now: dt.datetime) -> None:
            member = s.get(m.TeamMember, member_id)
            if member is None or not member.active:
                raise LookupError(f"no such field member {member_id}")
            lifecycle.dispatch(s, o, actor, now, member=member, note=note or "人工改派")

        return self._change(number, apply)

    def add_note(self, number: str, actor: Actor, note: str, detail: dict[str, Any] | None = None) -> OrderView:
        def apply(s: Session, o: m.WorkOrder, now: dt.datetime) -> None:
            if not S(o.status).open:
                raise IllegalTransition(o.status, "note")
            lifecycle.record(o, actor, note, kind="note", detail=detail, now=now)

        return self._change(number, apply)

    def amend(
        self, number: str, actor: Actor, details: dict[str, Any], priority: str | None = None, note: str = ""
    ) -> OrderView:
        """Fields corrected on an open order (contact phone, address, description) and its priority: an urgent
        order is held to the urgent limit from now on. One history entry names what changed."""

        def apply(s: Session, o: m.WorkOrder, now: dt.datetime) -> None:
            if not S(o.status).open:
                raise IllegalTransition(o.status, "amend")
            changed = sorted(k for k, v in details.items() if (o.details or {}).get(k) != v)
            if changed:
                o.details = {**(o.details or {}), **{k: details[k] for k in changed}}
            moved = bool(priority and priority != o.priority)
            if moved:
                o.priority = str(priority)
                lifecycle.schedule(o)
            lifecycle.record(o, actor, note, kind="note", detail={"changed": changed, "priority": o.priority}, now=now)

        return self._change(number, apply)

    def payment_received(self, account_no: str, reference: str) -> list[OrderView]:
        """A payment for the account: its reconnection orders waiting for it move on (复电)."""
        with self.sessions() as s:
            numbers = list(
                s.scalars(
                    select(m.WorkOrder.number).where(
                        m.WorkOrder.account_no == account_no, m.WorkOrder.status == S.AWAITING_PAYMENT
                    )
                )
            )
        actor = Actor("payment", "payment", "缴费系统")
        return [self.transition(n, S.RECEIVED, actor, note=f"收到缴费（{reference}）") for n in numbers]

    def member_orders(self, member_id: int, include_closed: bool = False) -> list[OrderView]:
        with self.sessions() as s:
            q = select(m.WorkOrder).where(m.WorkOrder.assignee_id == member_id)
            if not include_closed:
                q = q.where(m.WorkOrder.status.in_([x.value for x in OPEN_STATUSES if x != S.RESOLVED]))
            return [view(s, o) for o in s.scalars(q.order_by(m.WorkOrder.due_at.is_(None), m.WorkOrder.due_at))]

    def answer_survey(self, channel: str, recipient: str, score: int) -> str:
        """The latest open survey sent to this recipient gets the score: satisfied | reopened | review | none."""
        now = m.utcnow()
        with self.sessions.begin() as s:
            write_lock(s)
            survey = s.scalars(
                select(m.Survey)
                .where(
                    m.Survey.channel == channel,
                    m.Survey.recipient == recipient,
                    m.Survey.score.is_(None),
                    m.Survey.sent_at <= now,
                )  # fmt: skip
                .order_by(m.Survey.sent_at.desc())
                .with_for_update()
            ).first()
            if survey is None:
                return "none"
            o = s.get(m.WorkOrder, survey.order_id)
            survey.score, survey.answered_at = score, now
            actor = Actor("customer", channel, "客户")
            if score >= 3 or o is None:
                survey.outcome = "satisfied"
            elif o.function_id in REVIEW_FUNCTIONS or o.status != S.CLOSED:
                survey.outcome = "review"
            else:
                survey.outcome = "reopened"
            if o is not None:
                lifecycle.record(o, actor, f"回访评分 {score} 分", kind="survey", detail={"score": score}, now=now)
                if survey.outcome == "reopened":
                    lifecycle.move(s, o, S.REOPENED, actor, now, note=f"回访不满意（{score}分），重新处理")
            return survey.outcome

    def overdue(self, now: dt.datetime | None = None) -> list[OrderView]:
        """Open orders past their time limit or warned, the most urgent first."""
        now = now or m.utcnow()
        with self.sessions() as s:
            q = (
                select(m.WorkOrder)
                .where(
                    m.WorkOrder.status.in_([x.value for x in OPEN_STATUSES]),
                    m.WorkOrder.due_at.is_not(None),
                    m.WorkOrder.supervision_stage >= 1,
                )
                .order_by(m.WorkOrder.due_at)
                .limit(500)
            )
            return [view(s, o) for o in s.scalars(q)]

    def team_figures(self) -> list[dict[str, Any]]:
        """Per team: open, warned, overdue, resolved within / past the limit, surveys and their mean score."""
        open_values = [x.value for x in OPEN_STATUSES]
        with self.sessions() as s:
            teams = {t.id: t for t in s.scalars(select(m.GridTeam))}
            zero = {
                "open": 0,
                "warned": 0,
                "overdue": 0,
                "done_in_time": 0,
                "done_late": 0,
                "surveys": 0,
                "answered": 0,
            }
            rows: dict[int, dict[str, Any]] = {
                tid: {"team": t.name, "area": t.area_code, **zero, "mean_score": None} for tid, t in teams.items()
            }
            for tid, stage, n in s.execute(
                select(m.WorkOrder.team_id, m.WorkOrder.supervision_stage, func.count())
                .where(m.WorkOrder.status.in_(open_values), m.WorkOrder.team_id.is_not(None))
                .group_by(m.WorkOrder.team_id, m.WorkOrder.supervision_stage)
            ):
                row = rows[tid]
                row["open"] += n
                if stage:
                    row["warned" if stage == 1 else "overdue"] += n
            late = select(m.WorkOrderEvent.order_id).where(m.WorkOrderEvent.kind == "supervision")
            for tid, was_late, n in s.execute(
                select(m.WorkOrder.team_id, m.WorkOrder.id.in_(late), func.count())
                .where(m.WorkOrder.resolved_at.is_not(None), m.WorkOrder.team_id.is_not(None))
                .group_by(m.WorkOrder.team_id, m.WorkOrder.id.in_(late))
            ):
                rows[tid]["done_late" if was_late else "done_in_time"] += n
            for tid, sent, answered, mean in s.execute(
                select(m.Survey.team_id, func.count(), func.count(m.Survey.score), func.avg(m.Survey.score))
                .where(m.Survey.team_id.is_not(None), m.Survey.sent_at <= m.utcnow())
                .group_by(m.Survey.team_id)
            ):
                if tid in rows:
                    rows[tid].update(
                        surveys=sent, answered=answered, mean_score=round(float(mean), 2) if mean else None
                    )
            return sorted(rows.values(), key=lambda r: (-r["overdue"], -r["warned"], r["area"]))

    def review_queue(self) -> list[dict[str, Any]]:
        """Unsatisfied answers a supervisor must look at."""
        with self.sessions() as s:
            q = (
                select(m.Survey, m.WorkOrder)
                .join(m.WorkOrder, m.WorkOrder.id == m.Survey.order_id)
                .where(m.Survey.outcome == "review")
                .order_by(m.Survey.answered_at.desc())
                .limit(200)
            )
            return [
                {"number": o.number, "function_id": o.function_id, "score": sv.score, "answered_at": sv.answered_at,
                 "team_id": sv.team_id, "member_id": sv.member_id}
                for sv, o in s.execute(q)
            ]  # fmt: skip


__all__ = ["SYSTEM", "Actor", "Conflict", "NotYours", "OrderNotFound", "OrderView", "WorkOrders"]
