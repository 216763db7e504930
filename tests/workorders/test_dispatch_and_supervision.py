"""Dispatch to the area's team, time limits chased exactly once, and the order history, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, update

from backend import models as m
from backend.cis import SqlCIS
from backend.synthetic import seed
from backend.workorders import Actor, Conflict, IllegalTransition, NotYours, WorkOrders
from backend.workorders.dispatch import on_duty
from backend.workorders.supervision import sweep

FIELD = "field_app"


@pytest.fixture
def desk(sessions):
    seed(sessions, customers=60)
    return SqlCIS(sessions), WorkOrders(sessions), sessions


def notices(sessions, kind=None):
    with sessions() as s:
        q = select(m.OrderNotice)
        if kind:
            q = q.where(m.OrderNotice.kind == kind)
        return list(s.scalars(q.order_by(m.OrderNotice.id)))


def test_an_order_goes_to_its_areas_team_and_an_on_duty_member_with_the_skill(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order("fault_repair", "chat", {"address": "城西区光明路3号"}, conversation_id="c-1")
    view = orders.get(o.number)
    assert view.status == "dispatched" and view.area_code == "A05" and view.team == "城西区一网格供电服务班"
    with sessions() as s:
        member = s.get(m.TeamMember, view.assignee_id)
        assert member.team_id == 5 and "fault_repair" in member.skills and on_duty(member, view.created_at)
    assert [e.kind for e in view.timeline] == ["status", "dispatch"]
    assert view.timeline[1].detail["why"].startswith("值班")
    second = cis.create_work_order("fault_repair", "chat", {"address": "城西区光明路5号"}, conversation_id="c-2")
    with sessions() as s:
        duty = [p for p in s.scalars(select(m.TeamMember).where(m.TeamMember.team_id == 5)) if on_duty(p, m.utcnow())]
    if len([p for p in duty if "fault_repair" in p.skills]) > 1:  # least loaded first
        assert orders.get(second.number).assignee_id != view.assignee_id
    told = notices(sessions, "status")
    assert told[0].channel == "chat" and told[0].recipient == "c-1" and "城西区一网格供电服务班" in told[0].text
    assert "*" in told[0].text  # the assignee's name is masked
    assert notices(sessions, "assigned")


def test_an_urgent_safety_order_pages_everyone_on_duty(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order(
        "safety_hazard", "voice", {"address": "城东区和平路1号", "contact_phone": "13800000001"}, priority="urgent"
    )
    pages = notices(sessions, "page")
    with sessions() as s:
        duty = [p for p in s.scalars(select(m.TeamMember).where(m.TeamMember.team_id == 1)) if on_duty(p, m.utcnow())]
    assert {n.recipient for n in pages} == {p.phone for p in duty} and len(duty) >= 2
    assert all(o.number in n.text and n.channel == "sms" for n in pages)
    assert notices(sessions, "status")[0].recipient == "13800000001"  # a phone customer hears by SMS


def test_field_moves_are_checked_and_every_change_is_in_the_history(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order("fault_repair", "chat", {"address": "城东区和平路9号"}, conversation_id="c-3")
    v = orders.get(o.number)
    me = Actor(f"field:{v.assignee_id}", FIELD, "")
    with pytest.raises(NotYours):
        orders.transition(o.number, "accepted", Actor("field:999", FIELD), member_id=v.assignee_id + 1)
    with pytest.raises(IllegalTransition):
        orders.transition(o.number, "closed", me, member_id=v.assignee_id)  # closing is not a field move
    with pytest.raises(IllegalTransition):
        orders.transition(o.number, "resolved", me, member_id=v.assignee_id)  # not accepted yet
    for step in ("accepted", "en_route", "on_site"):
        orders.transition(o.number, step, me, member_id=v.assignee_id)
    done = orders.transition(o.number, "resolved", me, note="更换了进户线", member_id=v.assignee_id)
    assert [(e.from_status, e.status) for e in done.timeline if e.kind == "status"][-4:] == [
        ("dispatched", "accepted"),
        ("accepted", "en_route"),
        ("en_route", "on_site"),
        ("on_site", "resolved"),
    ]
    assert {e.actor for e in done.timeline[-4:]} == {me.who} and {e.source for e in done.timeline[-4:]} == {FIELD}
    assert done.due_at is None  # every step met: nothing left to chase


def test_two_phones_accepting_at_once_one_wins(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order("meter_issue", "chat", {"address": "城东区和平路2号"}, conversation_id="c-4")
    v = orders.get(o.number)
    results: list[str] = []

    def accept():
        try:
            orders.transition(o.number, "accepted", Actor(f"field:{v.assignee_id}", FIELD), member_id=v.assignee_id)
            results.append("ok")
        except (IllegalTransition, Conflict) as e:
            results.append(type(e).__name__)

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[-1] == "ok" and results.count("ok") == 1
    assert [e.status for e in orders.get(o.number).timeline].count("accepted") == 1


def test_overdue_orders_escalate_once_to_the_leader_then_the_supervisor(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order("fault_repair", "chat", {"address": "城东区和平路7号"}, conversation_id="c-5")
    v = orders.get(o.number)
    assert v.due_step == "accepted"
    allowed = dt.timedelta(minutes=10)
    times = [v.due_at - allowed * 0.1, v.due_at + dt.timedelta(seconds=1), v.due_at + allowed * 0.6]
    for now in times:
        for _ in range(3):  # repeated sweeps change nothing more
            sweep(sessions, now)
    kinds = [n.kind for n in notices(sessions) if n.kind in ("warning", "overdue_leader", "overdue_supervisor")]
    assert kinds == ["warning", "overdue_leader", "overdue_supervisor"]
    view = orders.get(o.number)
    assert view.supervision_stage == 3 and [e.kind for e in view.timeline].count("supervision") == 2
    assert [x.number for x in orders.overdue(times[-1])] == [o.number]
    # accepting moves the clock to the next step: chased afresh from stage 0
    accepted = orders.transition(o.number, "accepted", Actor(f"field:{v.assignee_id}", FIELD), member_id=v.assignee_id)
    assert accepted.due_step == "on_site" and accepted.supervision_stage == 0


def test_concurrent_sweeps_escalate_each_order_once(desk):
    cis, orders, sessions = desk
    numbers = [
        cis.create_work_order("complaint", "chat", {"address": f"城东区和平路{i}号"}, conversation_id=f"k{i}").number
        for i in range(20)
    ]
    late = max(orders.get(n).due_at for n in numbers) + dt.timedelta(hours=1)
    threads = [threading.Thread(target=sweep, args=(sessions, late)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sweep(sessions, late)
    with sessions() as s:
        per_order = dict(
            s.execute(
                select(m.OrderNotice.order_id, func.count())
                .where(m.OrderNotice.kind == "overdue_leader")
                .group_by(m.OrderNotice.order_id)
            ).all()
        )
    assert len(per_order) == 20 and set(per_order.values()) == {1}


def test_a_paid_reconnection_moves_on_its_own(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order(
        "arrears_reconnect", "chat", {"owed": 35.2}, account_no="3201000002", conversation_id="c-6",
        status="awaiting_payment",
    )  # fmt: skip
    assert orders.get(o.number).due_at is None and orders.get(o.number).team is None  # nothing to chase yet
    moved = orders.payment_received("3201000002", "ALI-20261204-1")
    assert [x.number for x in moved] == [o.number] and moved[0].status == "dispatched" and moved[0].due_step
    assert any("缴费" in n.text for n in notices(sessions, "status"))
    assert orders.payment_received("3201000002", "again") == []


def test_closing_plans_a_survey_and_an_unsatisfied_answer_reopens(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order("fault_repair", "chat", {"address": "城东区和平路8号"}, conversation_id="c-7")
    member = orders.get(o.number).assignee_id
    me = Actor(f"field:{member}", FIELD)
    for step in ("accepted", "on_site", "resolved"):
        orders.transition(o.number, step, me, member_id=member)
    orders.transition(o.number, "closed", Actor("system", "system"))
    assert orders.answer_survey("chat", "c-7", 2) == "none"  # not sent yet (after the delay)
    with sessions.begin() as s:
        s.execute(update(m.Survey).values(sent_at=m.utcnow() - dt.timedelta(seconds=1)))
    assert orders.answer_survey("chat", "c-7", 1) == "reopened"
    view = orders.get(o.number)
    assert view.status == "dispatched" and [e.status for e in view.timeline][-2:] == ["reopened", "dispatched"]
    assert orders.answer_survey("chat", "c-7", 5) == "none"  # answered once


def test_a_resolved_order_is_archived_by_the_sweep_and_its_survey_planned(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order("fault_repair", "chat", {"address": "城东区和平路6号"}, conversation_id="c-8")
    member = orders.get(o.number).assignee_id
    me = Actor(f"field:{member}", FIELD)
    for step in ("accepted", "on_site", "resolved"):
        orders.transition(o.number, step, me, note="好了", member_id=member)
    with sessions() as s:
        resolved_at = s.scalar(select(m.WorkOrder.resolved_at).where(m.WorkOrder.number == o.number))
    sweep(sessions, resolved_at + dt.timedelta(minutes=9))
    assert orders.get(o.number).status == "resolved"  # the customer still has time to say it is not fixed
    sweep(sessions, resolved_at + dt.timedelta(minutes=11))
    view = orders.get(o.number)
    assert view.status == "closed" and view.timeline[-1].actor == "system" and "归档" in view.timeline[-1].note
    assert [n.recipient for n in notices(sessions, "survey")] == ["c-8"]


def test_an_address_whose_street_is_not_in_the_named_district_goes_to_that_districts_first_grid(desk):
    cis, orders, sessions = desk
    o = cis.create_work_order("fault_repair", "chat", {"address": "城南区中山路8号5栋"}, conversation_id="c-9")
    view = orders.get(o.number)
    assert view.status == "dispatched" and view.area_code == "A09"  # 城南区一网格 (中山路 is in 城东区)
    assert "请核实" in view.timeline[-1].detail["why"]
    nowhere = cis.create_work_order("fault_repair", "chat", {"address": "火星大道1号"}, conversation_id="c-10")
    assert orders.get(nowhere.number).status == "received"  # no district, no area: a dispatcher places it
    elsewhere = cis.create_work_order("fault_repair", "chat", {"address": "鼓楼区中山路8号"}, conversation_id="c-11")
    assert orders.get(elsewhere.number).status == "received"  # not 城东区's 中山路: a district we do not serve
