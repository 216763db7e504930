"""The CIS adapter over SQLAlchemy: the stand-in's own tables (backend/models.py), SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.cis.interface import OPEN_STATUSES, BillInfo, CustomerInfo, OrderInfo, OutageInfo


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
        """The (code, name) of the service area an address mentions, by area name or a street in it.

        A district the customer names decides: a street of that name in another district is not this
        address's area (None: the dispatcher places it within the district)."""
        if not text:
            return None
        with self._sessions() as s:
            areas = list(s.scalars(select(m.Area)))
            districts = {a.district for a in areas if a.district and a.district in text}
            if districts:
                areas = [a for a in areas if a.district in districts]
            best = None
            for a in areas:
                for token in [a.name, *a.streets]:
                    if token and token in text and (best is None or len(token) > best[0]):
                        best = (len(token), a.code, a.name)
            return (best[1], best[2]) if best else None

    def active_outages(self, area_code: str | None = None, at: dt.datetime | None = None) -> list[OutageInfo]:
        at = at or m.utcnow()
        with self._sessions() as s:
            q = select(m.Outage).where(m.Outage.start <= at, m.Outage.expected_end >= at)
            if area_code:
                q = q.where(m.Outage.area_code == area_code)
            return [
                OutageInfo(o.area_code, o.area.name, o.kind, o.start, o.expected_end, o.reason)
                for o in s.scalars(q.order_by(m.Outage.start))
            ]

    def create_work_order(
        self,
        function_id: str,
        channel: str,
        details: dict[str, Any],
        *,
        account_no: str | None = None,
        conversation_id: str | None = None,
        priority: str = "normal",
        status: str = "accepted",
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
                o.number = f"G{o.created_at:%y%m%d}{o.id % 100000:05d}"
                o.history.append(m.WorkOrderEvent(status=status, note="客户来电/留言受理"))
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
                .where(m.WorkOrder.account_no == account_no, or_(*[m.WorkOrder.status == st for st in OPEN_STATUSES]))
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

    def update_work_order(self, number: str, status: str, note: str = "") -> OrderInfo | None:
        with self._sessions.begin() as s:
            o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).first()
            if o is None:
                return None
            o.status = status
            o.history.append(m.WorkOrderEvent(status=status, note=note))
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
            if priority:
                o.priority = priority
            o.history.append(m.WorkOrderEvent(status=o.status, note=note))
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
