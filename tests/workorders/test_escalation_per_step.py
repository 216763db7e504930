"""An order that goes back to a step it was already escalated for (re-dispatched while on the way, then
accepted again) is not escalated for it a second time: neither a second notice nor a second history entry.
Found by the storm-day benchmark (benchmarks/workorders), where re-dispatched orders showed 超时升级 twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select

from backend import models as m
from backend.cis import SqlCIS
from backend.synthetic import seed
from backend.workorders import Actor, OrderView, WorkOrders
from backend.workorders.supervision import sweep


def current(orders: WorkOrders, number: str) -> OrderView:
    view = orders.get(number)
    assert view is not None
    return view


def escalations(sessions, number: str) -> tuple[Counter, Counter]:
    with sessions() as s:
        o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        history = Counter(
            (e.detail["step"], e.detail["stage"]) for e in o.history if e.kind == "supervision"
        )  # fmt: skip
        notices = Counter(
            (n.kind, n.dedupe_key.split(":")[2])
            for n in s.scalars(select(m.OrderNotice).where(m.OrderNotice.order_id == o.id))
            if n.kind.startswith("overdue")
        )
    return history, notices


def test_a_step_escalated_once_stays_escalated_once_after_a_redispatch(sessions):
    seed(sessions, customers=30)
    orders = WorkOrders(sessions)
    number = (
        SqlCIS(sessions)
        .create_work_order("fault_repair", "voice", {"address": "城东区和平路9号", "contact_phone": "13800000009"})
        .number
    )
    first = current(orders, number).assignee_id
    me = Actor(f"field:{first}", "field_app")
    orders.transition(number, "accepted", me, member_id=first)
    orders.transition(number, "en_route", me, member_id=first)
    later = m.utcnow() + dt.timedelta(hours=2)  # on site was due after 45 minutes: long overdue
    sweep(sessions, later)
    history, notices = escalations(sessions, number)
    assert history == {("on_site", 3): 1} and notices == {("overdue_supervisor", "on_site"): 1}

    team = current(orders, number).team_id
    assert team is not None
    second = team * 100 + 5 if first != team * 100 + 5 else team * 100 + 4
    orders.redispatch(number, second, Actor("agent:1001", "console"), "改派")
    sweep(sessions, later)  # back at "accepted", long overdue too: that step is escalated (once)
    him = Actor(f"field:{second}", "field_app")
    orders.transition(number, "accepted", him, member_id=second)
    orders.transition(number, "en_route", him, member_id=second)
    sweep(sessions, later)  # at "on_site" again: already told
    sweep(sessions, later + dt.timedelta(minutes=1))
    history, notices = escalations(sessions, number)
    assert history == {("on_site", 3): 1, ("accepted", 3): 1}
    assert notices == {("overdue_supervisor", "on_site"): 1, ("overdue_supervisor", "accepted"): 1}
    assert current(orders, number).supervision_stage == 3
