"""The CIS adapter over SQLAlchemy: the stand-in's own tables (backend/models.py), SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.cis.interface import OPEN_STATUSES, SUSPECTED, BillInfo, CustomerInfo, OrderInfo, OutageInfo
from backend.models_incidents import Incident, IncidentStatus
from backend.topology import area_named_in
from backend.workorders import lifecycle
from backend.workorders.lifecycle import Actor

SUSPECTED_FOR = dt.timedelta(hours=3)  # an undecided incident is told for this long after its last surge


def _customer(c: m.Customer) -> CustomerInfo:
    return CustomerInfo(
        c.account_no,
        c.name,
        c.phone,
        c.address,
        c.area_code,
        c.area.name,
        list(c.tags or []),
        list(c.channels or []),
        c.tou_enabled,
    )


def _order(o: m.WorkOrder) -> OrderInfo:
    promise = lifecycle.promised(o)
    return OrderInfo(
        o.number,
        o.function_id,
        o.status,
        o.priority,
        o.channel,
        o.account_no,
        dict(o.details or {}),
        o.created_at,
        [(e.status, e.note, e.at) for e in o.history],
        o.conversation_id,
        o.due_at,
        o.due_step,
        o.team.name if o.team else None,
        o.assignee.display_name if o.assignee else None,
        promise.due if promise else None,
        promise.status.value if promise else None,
    )


class SqlCIS:
    """CIS over SQLAlchemy. Every method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory (the contact-centre store shares the same database)."""
        return self._sessions

    def get_customer(self, account_no: str) -> CustomerInfo | None:
        with self._sessions() as s:
            c = s.get(m.Customer, account_no)
            return _customer(c) if c else None

    def find_customer_by_phone(self, phone: str) -> CustomerInfo | None:
        with self._sessions() as s:
            c = s.scalars(select(m.Customer).where(m.Customer.phone == phone).order_by(m.Customer.account_no)).first()
            return _customer(c) if c else None

    def verify_identity(self, account_no: str, phone_last4: str) -> bool:
        c = self.get_customer(account_no)
        return bool(c and phone_last4 and c.phone.endswith(phone_last4))

    def get_bill(self, account_no: str, month: str | None = None) -> BillInfo | None:
        with self._sessions() as s:
            q = select(m.Bill).where(m.Bill.account_no == account_no)
            q = q.where(m.Bill.month == month) if month else q.order_by(m.Bill.month.desc())
            b = s.scalars(q).first()
            return BillInfo(b.account_no, b.month, b.kwh, b.amount, b.paid) if b else None

    def get_balance(self, account_no: str) -> float | None:
        with self._sessions() as s:
            b = s.get(m.Balance, account_no)
            return b.balance if b else None

    def find_area(self, text: str) -> tuple[str, str] | None:
        """The (code, name) of the service area an address mentions (backend.topology.area_named_in)."""
        with self._sessions() as s:
            area = area_named_in(s, text)
            return (area.code, area.name) if area else None

    def active_outages(self, area_code: str | None = None, at: dt.datetime | None = None) -> list[OutageInfo]:
        """Known outages at `at`, then open suspected-outage incidents (kind SUSPECTED) of areas none covers."""
        at = at or m.utcnow()
        with self._sessions() as s:
            q = select(m.Outage).where(m.Outage.start <= at, m.Outage.expected_end >= at)
            if area_code:
                q = q.where(m.Outage.area_code == area_code)
            known = [
                OutageInfo(o.area_code, o.area.name, o.kind, o.start, o.expected_end, o.reason)
                for o in s.scalars(q.order_by(m.Outage.start))
            ]
            return known + self._suspected(s, area_code, at, {o.area_code for o in known})

    def _suspected(self, s: Session, area_code: str | None, at: dt.datetime, covered: set[str]) -> list[OutageInfo]:
        """Open incidents whose surge was seen within SUSPECTED_FOR, one per area, for the areas asked."""
        q = select(Incident).where(
            Incident.status == IncidentStatus.OPEN,
            Incident.first_window <= at,
            Incident.last_surge_at >= at - SUSPECTED_FOR,
        )
        found: dict[str, OutageInfo] = {}
        for i in s.scalars(q.order_by(Incident.opened_at)):
            for code in i.area_codes or []:
                if code in covered or code in found or (area_code and code != area_code):
                    continue
                area = s.get(m.Area, code)
                end = i.last_surge_at + SUSPECTED_FOR
                found[code] = OutageInfo(code, area.name if area else code, SUSPECTED, i.first_window, end, "疑似停电")
        return list(found.values())

    def create_work_order(
        self,
        function_id: str,
        channel: str,
        details: dict[str, Any],
        *,
        account_no: str | None = None,
        conversation_id: str | None = None,
        priority: str = "normal",
        status: str = "received",
        idempotency_key: str | None = None,
    ) -> OrderInfo:
        """Creates the order, or returns the one already created under the same idempotency key."""
        if idempotency_key:
            existing = self._by_key(idempotency_key)
            if existing:
                return existing
        try:
            with self._sessions.begin() as s:
                o = m.WorkOrder(
                    number=f"T{m.utcnow():%H%M%S%f}",
                    function_id=function_id,
                    status=status,
                    priority=priority,
                    channel=channel,
                    account_no=account_no,
                    conversation_id=conversation_id,
                    idempotency_key=idempotency_key,
                    details=details,
                )
                s.add(o)
                s.flush()
                o.number = lifecycle.order_number(o.id, o.created_at)
                actor = Actor("bot", channel, "智能客服")
                lifecycle.record(o, actor, "客户来电/留言受理", now=o.created_at)
                lifecycle.intake(s, o, actor, o.created_at)
                s.flush()
                return _order(o)
        except IntegrityError:  # a concurrent call with the same key won the race
            existing = self._by_key(idempotency_key) if idempotency_key else None
            if existing is None:
                raise
            return existing

    def _by_key(self, key: str) -> OrderInfo | None:
        with self._sessions() as s:
            o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.idempotency_key == key)).first()
            return _order(o) if o else None

    def get_work_order(self, number: str) -> OrderInfo | None:
        with self._sessions() as s:
            o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number.upper())).first()
            return _order(o) if o else None

    def open_work_orders(self, account_no: str) -> list[OrderInfo]:
        with self._sessions() as s:
            q = (
                select(m.WorkOrder)
                .where(m.WorkOrder.account_no == account_no, m.WorkOrder.status.in_(OPEN_STATUSES))
                .order_by(m.WorkOrder.id.desc())
            )
            return [_order(o) for o in s.scalars(q)]

    def place_in(self, text: str) -> str | None:
        """The longest known street, estate or village of the service territory named in a text."""
        with self._sessions() as s:
            names = [st for a in s.scalars(select(m.Area)) for st in (a.streets or [])]
        found = [n for n in names if n and n in (text or "")]
        return max(found, key=len) if found else None

    def conversation_orders(self, conversation_id: str) -> list[OrderInfo]:
        """Orders filed in one conversation, newest first."""
        with self._sessions() as s:
            q = (
                select(m.WorkOrder)
                .where(m.WorkOrder.conversation_id == conversation_id)
                .order_by(m.WorkOrder.id.desc())
            )
            return [_order(o) for o in s.scalars(q)]

    def update_work_order(
        self, number: str, status: str, note: str = "", actor: str = "bot", source: str = "chat"
    ) -> OrderInfo | None:
        """A status change through the work-order lifecycle (IllegalTransition if not allowed); the same status
        again only adds the note to the history."""
        with self._sessions.begin() as s:
            o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number).with_for_update()).first()
            if o is None:
                return None
            who = Actor(actor, source)
            if status == o.status:
                lifecycle.record(o, who, note, kind="note")
            else:
                lifecycle.move(s, o, status, who, m.utcnow(), note=note)
            s.flush()
            return _order(o)

    def amend_work_order(
        self, number: str, details: dict[str, Any], note: str, priority: str | None = None
    ) -> OrderInfo | None:
        """Details the customer added after filing (a contact number, the district, more about the problem,
        danger seen since: urgent), with a note in the history."""
        with self._sessions.begin() as s:
            o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).first()
            if o is None:
                return None
            o.details = {**(o.details or {}), **details}
            if priority and priority != o.priority:
                o.priority = priority
                lifecycle.schedule(o)  # an urgent order is held to the urgent limit from now on
            lifecycle.record(o, Actor("bot", o.channel), note, kind="note")
            s.flush()
            return _order(o)

    def set_tou(self, account_no: str, enabled: bool) -> None:
        with self._sessions.begin() as s:
            c = s.get(m.Customer, account_no)
            if c:
                c.tou_enabled = enabled

    def change_phone(self, account_no: str, new_phone: str) -> None:
        with self._sessions.begin() as s:
            c = s.get(m.Customer, account_no)
            if c:
                c.phone = new_phone
