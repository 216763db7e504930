"""Supervision (督办): timers on every open order's time limit, durable in the database.

At `warn_at` of a step the assignee is warned; at its end the team leader is told (overdue); later still the
supervisors. Each step of each clock fires once: the stage moves in the same transaction as the notice is
written, rows are taken with SKIP LOCKED on PostgreSQL (two instances share the work, never the same row), and
the notice's dedupe key refuses a second copy whatever happens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from backend import models as m
from backend.db import lock_if_any
from backend.workorders import outbox, wording
from backend.workorders.clock import due_stage, next_check
from backend.workorders.lifecycle import SYSTEM, member_name, move, record, service_name
from backend.workorders.states import OPEN_STATUSES, OrderStatus

STAGES = {1: "warning", 2: "overdue_leader", 3: "overdue_supervisor"}


def escalate(session: Session, order: m.WorkOrder, stage: int, now: dt.datetime) -> None:
    kind = STAGES[stage]
    team = session.get(m.GridTeam, order.team_id) if order.team_id else None
    due = wording.when(order.due_at, now)
    fields = {
        "number": order.number,
        "service": service_name(order.function_id),
        "due": due,
        "step": wording.STEP_WORDS.get(order.due_step or "", "办结"),
        "who": member_name(session, order.assignee_id) or "未指派",
        "team": team.name if team else "未定网格",
    }
    if stage == 1:
        member = session.get(m.TeamMember, order.assignee_id) if order.assignee_id else None
        targets = [("staff", "sms", member.phone)] if member else []
    elif stage == 2:
        leaders: Iterable[m.TeamMember] = (
            session.scalars(
                select(m.TeamMember).where(m.TeamMember.team_id == order.team_id, m.TeamMember.leader.is_(True))
            )
            if order.team_id
            else []
        )
        targets = [("staff", "sms", p.phone) for p in leaders] or [("supervisor", "console", "supervisors")]
    else:
        targets = [("supervisor", "console", "supervisors")]
    clock = f"{order.due_step}:{order.clock_start:%Y%m%d%H%M%S}"
    told = []
    for audience, channel, recipient in targets:
        added = outbox.add(
            session,
            order,
            f"{kind}:{order.id}:{clock}:{recipient}",
            kind=kind,
            audience=audience,
            channel=channel,
            recipient=recipient,
            text=wording.STAFF[kind].format(**fields),
            payload={
                "number": order.number,
                "stage": stage,
                "due_at": order.due_at.isoformat() if order.due_at else "",
            },
        )
        told.append(added)
    if stage >= 2 and any(told):  # an order back at a step it was escalated for (re-dispatched) is not recorded twice
        record(
            order,
            SYSTEM,
            wording.STAFF[kind].format(**fields),
            kind="supervision",
            now=now,
            detail={"stage": stage, "step": order.due_step},
        )


def advance(session: Session, order: m.WorkOrder, now: dt.datetime) -> None:
    if order.status == OrderStatus.RESOLVED:  # nothing more to chase: archived once the customer had time to object
        if order.next_check_at is not None and now >= order.next_check_at:
            move(session, order, OrderStatus.CLOSED, SYSTEM, now, note="处理完毕，系统归档")
        return
    reached = due_stage(order, now)
    if reached > order.supervision_stage:
        # a step passed while nobody looked (a restart): the latest stage is told, the earlier ones are moot
        escalate(session, order, reached, now)
        order.supervision_stage = reached
    order.next_check_at = next_check(order)


def sweep(sessions: sessionmaker[Session], now: dt.datetime | None = None, batch: int = 500) -> int:
    """Advances every order whose check time has come; the number of orders looked at."""
    now = now or m.utcnow()
    with sessions.begin() as s:
        due = m.WorkOrder.next_check_at <= now  # only open orders have one (lifecycle.schedule)
        if not lock_if_any(s, m.WorkOrder.id, due):
            return 0
        q = (
            select(m.WorkOrder)
            .where(due)
            .order_by(m.WorkOrder.next_check_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        orders = list(s.scalars(q))
        for order in orders:
            if order.status not in OPEN_STATUSES:  # not expected; cleared so it is never looked at again
                order.next_check_at = None
                continue
            try:
                with s.begin_nested():
                    advance(s, order, now)
            except StaleDataError:  # changed by someone else meanwhile: looked at again next sweep
                continue
        return len(orders)
