"""Dispatch (统一派单): an order goes to the grid team of its area, then to an on-duty member with the skill,
the least loaded first. Urgent safety orders page every on-duty member of the team at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import models as m
from backend.topology import area_named_in, district_area
from backend.workorders.commitments import to_local
from backend.workorders.states import OrderStatus

S = OrderStatus
WORKING = (S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE)  # what counts as a member's load


def on_duty(member: m.TeamMember, utc: dt.datetime) -> bool:
    local = to_local(utc)
    clock = f"{local:%H:%M}"
    for days, start, end in member.shifts or []:
        if local.weekday() in days and (start <= clock < end if start <= end else clock >= start or clock < end):
            return True
    return False


def place(session: Session, order: m.WorkOrder) -> None:
    """The order's area, 台区 and area class, from the customer's account or else the address given."""
    if order.account_no:
        customer = session.get(m.Customer, order.account_no)
        if customer is not None:
            order.area_code, order.tq_code = customer.area_code, customer.tq_code
    if order.area_code is None:
        address = str((order.details or {}).get("address") or "")
        area = area_named_in(session, address)
        if area is None and (area := district_area(session, address)) is not None:
            order.details = {**(order.details or {}), "placed_by": "district"}  # the grid to be checked
        order.area_code = area.code if area else None
    area = session.get(m.Area, order.area_code) if order.area_code else None
    order.area_class = area.area_class if area else "urban"


def loads(session: Session, team_id: int) -> dict[int, int]:
    rows = session.execute(
        select(m.WorkOrder.assignee_id, func.count())
        .where(m.WorkOrder.team_id == team_id, m.WorkOrder.status.in_([s.value for s in WORKING]))
        .group_by(m.WorkOrder.assignee_id)
    )
    return {member: n for member, n in rows if member is not None}


def choose(session: Session, team: m.GridTeam, function_id: str, now: dt.datetime) -> tuple[m.TeamMember | None, str]:
    """(member, why): on duty with the skill, least loaded; else anyone on duty; else the team leader."""
    members = list(
        session.scalars(select(m.TeamMember).where(m.TeamMember.team_id == team.id, m.TeamMember.active.is_(True)))
    )
    if not members:
        return None, "班组没有在岗人员"
    load = loads(session, team.id)
    duty = [p for p in members if on_duty(p, now)]
    for pool, why in (
        ([p for p in duty if function_id in (p.skills or [])], "值班，具备技能，负荷最低"),
        (duty, "值班人员中负荷最低（无对口技能人员在岗）"),
        ([p for p in members if p.leader], "无人值班，派给班长"),
    ):
        if pool:
            return min(pool, key=lambda p: (load.get(p.id, 0), p.id)), why
    return None, "班组没有在岗人员"


def team_of(session: Session, area_code: str | None) -> m.GridTeam | None:
    if area_code is None:
        return None
    return session.scalars(select(m.GridTeam).where(m.GridTeam.area_code == area_code)).first()


def on_duty_members(session: Session, team_id: int, now: dt.datetime) -> list[m.TeamMember]:
    members = session.scalars(
        select(m.TeamMember).where(m.TeamMember.team_id == team_id, m.TeamMember.active.is_(True))
    )
    return [p for p in members if on_duty(p, now)]
