"""What a field member sees of the orders: their list, one order with its timeline, the moves open to them,
all as plain JSON for the page (times on the Asia/Shanghai clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.case_view import SLOT_LABELS
from backend.workorders.commitments import to_local
from backend.workorders.service import OrderView, view
from backend.workorders.states import FIELD_MOVES, OPEN_STATUSES, TRANSITIONS, OrderStatus, label
from field.logins import Member
from knowledge.catalog import catalog

S = OrderStatus
ACTIVE = [s.value for s in OPEN_STATUSES if s != S.RESOLVED]  # what is still the field's to do
# the buttons, in the order they are shown; `needs`: what the member must write first
MOVES = (
    (S.ACCEPTED, "接单", ""),
    (S.EN_ROUTE, "出发", ""),
    (S.ON_SITE, "到达现场", ""),
    (S.RESOLVED, "处理完成", "note"),
    (S.CANNOT_COMPLETE, "无法处理", "reason"),
)
MOVE_LABELS = {to.value: text for to, text, _ in MOVES}
STAFF_LABELS = {S.EN_ROUTE.value: "已出发", S.ON_SITE.value: "已到现场"}  # the customer's wording is about "工作人员"
STEP_LABELS = {"accepted": "接单", "en_route": "出发", "on_site": "到场", "resolved": "处理完成"}
ACTORS = {"bot": "智能客服", "customer": "客户", "system": "系统", "payment": "缴费系统"}
DETAIL_KEYS = ("fault_desc", "details", "safety_risk", "fault_time", "appliances", "purpose", "capacity_kva")


def staff_label(status: str) -> str:
    return STAFF_LABELS.get(status) or label(status)


def local(at: dt.datetime | None) -> str:
    return f"{to_local(at):%m-%d %H:%M}" if at else ""


def visible(member: Member, order: OrderView) -> bool:
    """The assignee sees an order; a team leader sees every order of the team."""
    return order.assignee_id == member.id or (member.leader and order.team_id == member.team_id)


def next_moves(status: str) -> list[dict[str, str]]:
    allowed = TRANSITIONS.get(S(status), frozenset()) & FIELD_MOVES
    return [{"to": to.value, "label": text, "needs": needs} for to, text, needs in MOVES if to in allowed]


def overdue(order: OrderView, now: dt.datetime) -> bool:
    return order.supervision_stage >= 2 or (order.due_at is not None and order.due_at < now)


def map_url(address: str) -> str:
    return f"https://uri.amap.com/search?keyword={quote(address)}&src=p95598" if address else ""


def summary(order: OrderView, member: Member, now: dt.datetime) -> dict[str, Any]:
    address = str(order.details.get("address") or "")
    return {
        "number": order.number,
        "service": catalog().name(order.function_id),
        "address": address or "地址见工单详情",
        "priority": order.priority,
        "urgent": order.priority == "urgent",
        "status": order.status,
        "status_label": staff_label(order.status),
        "due": local(order.due_at),
        "due_step": STEP_LABELS.get(order.due_step or "", ""),
        "overdue": overdue(order, now),
        "mine": order.assignee_id == member.id,
        "assignee": order.assignee or "",
    }


def actor_name(actor: str, names: dict[int, str]) -> str:
    kind, _, rest = actor.partition(":")
    if kind == "field" and rest.isdigit():
        return names.get(int(rest), "网格人员")
    if kind == "agent":
        return "客服坐席"
    return ACTORS.get(actor, actor)


def photo_urls(number: str, detail: dict[str, Any]) -> list[str]:
    photos = detail.get("photos") if isinstance(detail.get("photos"), list) else []
    prefix = f"orders/{number}/"
    return [
        f"/field/api/orders/{number}/photos/{p.removeprefix(prefix)}"
        for p in photos or []
        if isinstance(p, str) and p.startswith(prefix)
    ]


def contact_phone(s: Session, order: OrderView) -> str:
    phone = order.details.get("contact_phone") or order.details.get("caller_phone")
    if not phone and order.account_no:
        customer = s.get(m.Customer, order.account_no)
        phone = customer.phone if customer else ""
    return str(phone or "")


class FieldOrders:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def listing(self, member: Member) -> list[dict[str, Any]]:
        """The member's open orders (a leader: the team's), the most urgent first."""
        now = m.utcnow()
        with self._sessions() as s:
            owner = m.WorkOrder.team_id == member.team_id if member.leader else m.WorkOrder.assignee_id == member.id
            q = select(m.WorkOrder).where(m.WorkOrder.status.in_(ACTIVE), owner)
            q = q.order_by(m.WorkOrder.due_at.is_(None), m.WorkOrder.due_at, m.WorkOrder.id).limit(200)
            rows = [summary(view(s, o), member, now) for o in s.scalars(q)]
        return sorted(rows, key=lambda r: (not r["mine"], not r["urgent"], not r["overdue"]))

    def detail(self, order: OrderView, member: Member) -> dict[str, Any]:
        now = m.utcnow()
        with self._sessions() as s:
            ids = {int(e.actor[6:]) for e in order.timeline if e.actor.startswith("field:") and e.actor[6:].isdigit()}
            q = select(m.TeamMember.id, m.TeamMember.display_name).where(m.TeamMember.id.in_(ids))
            names = dict(s.execute(q).tuples().all())
            phone = contact_phone(s, order)
        address = str(order.details.get("address") or "")
        return {
            **summary(order, member, now),
            "team": order.team or "",
            "created": local(order.created_at),
            "phone": phone,
            "map": map_url(address),
            "facts": [
                {"label": SLOT_LABELS.get(k, k), "value": str(order.details[k])}
                for k in DETAIL_KEYS
                if order.details.get(k) not in (None, "", [], {})
            ],
            "moves": next_moves(order.status) if order.status in ACTIVE else [],
            "timeline": [
                {
                    "at": local(e.at),
                    "status": staff_label(e.status),
                    "kind": e.kind,
                    "who": actor_name(e.actor, names),
                    "note": e.note,
                    "photos": photo_urls(order.number, e.detail),
                }
                for e in reversed(order.timeline)
            ],
        }
