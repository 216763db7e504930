"""What the product asks of the customer information system (CIS), and the facts it gets back.

Everything outside backend/cis depends on `CIS` and these records only; `SqlCIS` (backend/cis/sql.py) is the
stand-in's adapter, and an adapter to a real CIS implements the same protocol.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from backend.workorders.states import LABELS, OrderStatus, label
from backend.workorders.states import OPEN_STATUSES as ORDER_OPEN

STATUS_LABELS = LABELS  # one home: backend.workorders.states
OPEN_STATUSES = tuple(s.value for s in ORDER_OPEN if s != OrderStatus.RESOLVED)  # what a customer still waits on


@dataclass(frozen=True)
class CustomerInfo:
    account_no: str
    name: str
    phone: str
    address: str
    area_code: str
    area_name: str
    tags: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    tou_enabled: bool = False

    @property
    def surname(self) -> str:
        return self.name[:1]


@dataclass(frozen=True)
class BillInfo:
    account_no: str
    month: str
    kwh: float
    amount: float
    paid: bool


SUSPECTED = "suspected"  # OutageInfo.kind of an open surge incident (疑似停电), besides planned | fault


@dataclass(frozen=True)
class OutageInfo:
    area_code: str
    area_name: str
    kind: str
    start: dt.datetime
    expected_end: dt.datetime
    reason: str


@dataclass(frozen=True)
class OrderInfo:
    number: str
    function_id: str
    status: str
    priority: str
    channel: str
    account_no: str | None
    details: dict[str, Any]
    created_at: dt.datetime
    history: list[tuple[str, str, dt.datetime]] = field(default_factory=list)
    conversation_id: str | None = None
    due_at: dt.datetime | None = None  # the step of the time limit the order is held to now (naive UTC)
    due_step: str | None = None
    team: str | None = None
    assignee: str | None = None  # full name: mask it before telling a customer (backend.workorders.wording)
    promised_at: dt.datetime | None = None  # what the customer was promised: arrival, else completion
    promised_step: str | None = None

    @property
    def status_label(self) -> str:
        return label(self.status)


class CIS(Protocol):
    def get_customer(self, account_no: str) -> CustomerInfo | None: ...
    def find_customer_by_phone(self, phone: str) -> CustomerInfo | None: ...
    def verify_identity(self, account_no: str, phone_last4: str) -> bool: ...
    def get_bill(self, account_no: str, month: str | None = None) -> BillInfo | None: ...
    def get_balance(self, account_no: str) -> float | None: ...
    def find_area(self, text: str) -> tuple[str, str] | None: ...
    def active_outages(self, area_code: str | None = None, at: dt.datetime | None = None) -> list[OutageInfo]: ...
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
    ) -> OrderInfo: ...
    def get_work_order(self, number: str) -> OrderInfo | None: ...
    def open_work_orders(self, account_no: str) -> list[OrderInfo]: ...
    def conversation_orders(self, conversation_id: str) -> list[OrderInfo]: ...
    def place_in(self, text: str) -> str | None: ...
    def update_work_order(
        self, number: str, status: str, note: str = "", actor: str = "bot", source: str = "chat"
    ) -> OrderInfo | None: ...
    def amend_work_order(
        self, number: str, details: dict[str, Any], note: str, priority: str | None = None
    ) -> OrderInfo | None: ...
    def set_tou(self, account_no: str, enabled: bool) -> None: ...
    def change_phone(self, account_no: str, new_phone: str) -> None: ...
