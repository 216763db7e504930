"""Every change of a work order goes through here: intake, dispatch, a status move, the time limit it is now
held to, its history entry, and the notices it causes, all in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import models as m
from backend.spoken import local_time
from backend.workorders import outbox, wording
from backend.workorders.clock import next_check
from backend.workorders.commitments import Step, commitments
from backend.workorders.dispatch import choose, on_duty_members, place, team_of
from backend.workorders.states import PROGRESS, OrderStatus, check
from knowledge.catalog import catalog

S = OrderStatus


def order_number(order_id: int, created_at: dt.datetime) -> str:
    """G, the local (Shanghai) date the order was taken, five digits of its id: the day the customer was told."""
    return f"G{local_time(created_at):%y%m%d}{order_id % 100000:05d}"


def service_name(function_id: str) -> str:
    return catalog().name(function_id)


CUSTOMER_CHANNELS = {"chat": "chat", "wechat": "chat", "app": "chat"}  # delivered into the conversation
REVIEW_FUNCTIONS = {"complaint", "suggestion"}  # an unsatisfied answer goes to a supervisor, not back to the field


@dataclass(frozen=True)
class Actor:
    who: str  # bot | customer | agent:<id> | field:<id> | system | payment
    source: str  # chat | voice | wechat | console | field_app | system | payment | sms
    name: str = ""


SYSTEM = Actor("system", "system", "系统")


def record(
    order: m.WorkOrder,
    actor: Actor,
    note: str = "",
    *,
    kind: str = "status",
    before: str | None = None,
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    order.history.append(
        m.WorkOrderEvent(
            status=order.status,
            from_status=before,
            note=note[:500],
            kind=kind,
            actor=actor.who[:64],
            source=actor.source[:16],
            detail=detail or {},
            at=now or m.utcnow(),
        )
    )


def schedule(order: m.WorkOrder) -> None:
    """Holds the order to the next step of its time limit and sets when supervision looks at it next."""
    c = commitments()
    step = c.next_step(order.function_id, order.priority, order.area_class, order.clock_start, order.status)
    if step is None:
        order.due_at = order.due_step = order.next_check_at = None
        order.supervision_stage = 0
        if order.status == S.RESOLVED and order.resolved_at is not None:  # the sweep closes it (归档) then
            order.next_check_at = c.close_at(order.resolved_at)
        return
    if (order.due_step, order.due_at) != (step.status.value, step.due):
        order.due_step, order.due_at, order.supervision_stage = step.status.value, step.due, 0
        order.step_allowed_s = int(step.allowed.total_seconds())
    order.next_check_at = next_check(order)


def promised(order: m.WorkOrder) -> Step | None:
    """What the customer waits for: arrival where the work is on site, else completion (not internal steps
    such as accepting, which the supervision chases). None once there is nothing left to wait for."""
    if order.status in (S.AWAITING_PAYMENT, S.CLOSED, S.WITHDRAWN):
        return None
    steps = commitments().steps(order.function_id, order.priority, order.area_class, order.clock_start)
    reached = PROGRESS.get(OrderStatus(order.status), 0)
    for wanted in (S.ON_SITE, S.RESOLVED):
        step = next((x for x in steps if x.status == wanted and PROGRESS[wanted] > reached), None)
        if step is not None:
            return step
    return None


def promise(order: m.WorkOrder, now: dt.datetime) -> str:
    step = promised(order)
    return wording.expectation(step.status.value, step.due, now) if step else ""


def customer_route(session: Session, order: m.WorkOrder) -> tuple[str, str] | None:
    """(channel, recipient) for updates to the customer: their conversation, else an SMS to their phone."""
    if order.conversation_id and order.channel in CUSTOMER_CHANNELS:
        return "chat", order.conversation_id
    details = order.details or {}
    phone = details.get("contact_phone") or details.get("caller_phone")
    if not phone and order.account_no:
        customer = session.get(m.Customer, order.account_no)
        phone = customer.phone if customer else None
    return ("sms", str(phone)) if phone else None


def member_name(session: Session, member_id: int | None) -> str:
    member = session.get(m.TeamMember, member_id) if member_id else None
    return member.display_name if member else ""


def tell_customer(session: Session, order: m.WorkOrder, before: str, note: str, now: dt.datetime) -> None:
    team = session.get(m.GridTeam, order.team_id) if order.team_id else None
    who = member_name(session, order.assignee_id)
    text = wording.customer_update(
        order.status,
        service=service_name(order.function_id),
        number=order.number,
        team=team.name if team else "",
        who=wording.masked_name(who) if who else "",
        expect=promise(order, now),
        note=note,
        previous=before,
    )
    route = customer_route(session, order)
    if text and route:
        outbox.add(
            session,
            order,
            f"status:{order.id}:{len(order.history)}",
            kind="status",
            audience="customer",
            channel=route[0],
            recipient=route[1],
            text=text,
            payload={"number": order.number, "status": order.status},
        )


def tell_staff(session: Session, order: m.WorkOrder, now: dt.datetime) -> None:
    """The assignee learns of a new order; an urgent one pages everyone on duty in the team."""
    details = order.details or {}
    fields = {
        "number": order.number,
        "service": service_name(order.function_id),
        "address": details.get("address") or "地址见工单",
        "detail": f"{details.get('fault_desc') or details.get('details') or ''}".strip()[:60],
        "expect": wording.staff_deadline(order.due_step, order.due_at, now),
    }
    targets = on_duty_members(session, order.team_id, now) if order.priority == "urgent" and order.team_id else []
    kind = "page" if targets else "assigned"
    if not targets and order.assignee_id:
        assignee = session.get(m.TeamMember, order.assignee_id)
        targets = [assignee] if assignee else []
    for member in targets:
        outbox.add(
            session,
            order,
            f"{kind}:{order.id}:{len(order.history)}:{member.id}",
            kind=kind,
            audience="staff",
            channel="sms",
            recipient=member.phone,
            text=wording.STAFF[kind].format(**fields),
            payload={"number": order.number, "member": member.id},
        )


def dispatch(
    session: Session,
    order: m.WorkOrder,
    actor: Actor,
    now: dt.datetime,
    *,
    member: m.TeamMember | None = None,
    note: str = "",
    came_from: str = "",
) -> None:
    """To the area's team and one of its members (or the member given: a manual re-dispatch). `came_from`: the
    status before the move that led here (a payment, a reopening), told to the customer in the same message."""
    team = session.get(m.GridTeam, member.team_id) if member else team_of(session, order.area_code)
    if team is None:
        record(order, actor, "未能确定所属供电网格，待人工派单", kind="note", now=now)
        if came_from:
            tell_customer(session, order, came_from, "", now)
        return
    why = note or "人工改派"
    if member is None:
        member, why = choose(session, team, order.function_id, now)
        if (order.details or {}).get("placed_by") == "district":
            why += "；地址的街道不在所述区的网格内，按区派往该区第一网格，请核实"
    before = order.status
    order.status = check(before, S.DISPATCHED)
    order.team_id, order.assignee_id = team.id, member.id if member else None
    schedule(order)
    detail = {"team": team.name, "member": member.display_name if member else None, "why": why}
    record(
        order,
        actor,
        f"派往{team.name}" + (f"，{member.display_name}" if member else ""),
        kind="dispatch",
        before=before,
        detail=detail,
        now=now,
    )
    tell_customer(session, order, came_from or before, "", now)
    tell_staff(session, order, now)


def intake(session: Session, order: m.WorkOrder, actor: Actor, now: dt.datetime) -> None:
    """A new order: placed in its area and held to its time limit; dispatched unless it waits for a payment."""
    place(session, order)
    order.clock_start = now
    schedule(order)
    if order.status == S.RECEIVED:
        dispatch(session, order, actor, now)


def move(
    session: Session,
    order: m.WorkOrder,
    to: str,
    actor: Actor,
    now: dt.datetime,
    *,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """One status change, checked against the allowed moves (IllegalTransition otherwise)."""
    before = order.status
    wanted = check(before, to)
    order.status = wanted
    if wanted == S.RESOLVED:
        order.resolved_at = now
    if wanted == S.CLOSED:
        order.closed_at = now
    if wanted in (S.REOPENED,) or (wanted == S.RECEIVED and before == S.AWAITING_PAYMENT):
        order.clock_start, order.closed_at, order.resolved_at = now, None, None
    schedule(order)
    record(order, actor, note, before=before, detail=detail, now=now)
    if wanted in (S.REOPENED, S.RECEIVED):  # straight on to the team: one message to the customer, not two
        dispatch(session, order, SYSTEM, now, note="", came_from=before)
        return
    tell_customer(session, order, before, note, now)
    if wanted == S.CLOSED:
        plan_survey(session, order, now)


def plan_survey(session: Session, order: m.WorkOrder, now: dt.datetime) -> None:
    """The satisfaction follow-up (回访), sent after the configured delay on the customer's channel."""
    route = customer_route(session, order)
    if route is None:
        return
    rounds = session.scalar(select(func.count()).select_from(m.Survey).where(m.Survey.order_id == order.id)) or 0
    send_at = commitments().survey_at(now)
    survey = m.Survey(
        order_id=order.id,
        round=rounds + 1,
        channel=route[0],
        recipient=route[1],
        team_id=order.team_id,
        member_id=order.assignee_id,
        sent_at=send_at,
    )
    session.add(survey)
    template = wording.SURVEY_CHAT if route[0] == "chat" else wording.SURVEY_SMS
    outbox.add(
        session,
        order,
        f"survey:{order.id}:{rounds + 1}",
        kind="survey",
        audience="customer",
        channel=route[0],
        recipient=route[1],
        text=template.format(service=service_name(order.function_id), number=order.number),
        payload={"number": order.number, "round": rounds + 1},
        send_after=send_at,
    )
