"""A work order's states and the only moves between them (统一受理 → 派单 → 督办 → 闭环).

received → dispatched → accepted → en_route → on_site → resolved → closed, with withdrawn, reopened,
cannot_complete and awaiting_payment (a reconnection waiting for the arrears) beside them. Every value is the
string stored in the database; `TRANSITIONS` is the one place that says which change is allowed.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    RECEIVED = "received"
    AWAITING_PAYMENT = "awaiting_payment"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    REOPENED = "reopened"
    CANNOT_COMPLETE = "cannot_complete"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def open(self) -> bool:
        return self not in (OrderStatus.CLOSED, OrderStatus.WITHDRAWN)


S = OrderStatus
LABELS = {
    S.RECEIVED: "已受理",
    S.AWAITING_PAYMENT: "待缴费",
    S.DISPATCHED: "已派单",
    S.ACCEPTED: "已接单",
    S.EN_ROUTE: "工作人员正在赶来",
    S.ON_SITE: "工作人员已到现场",
    S.RESOLVED: "已处理",
    S.CLOSED: "已办结",
    S.WITHDRAWN: "已撤销",
    S.REOPENED: "重新处理中",
    S.CANNOT_COMPLETE: "暂时无法处理",
}
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.RECEIVED: frozenset({S.DISPATCHED, S.WITHDRAWN, S.CLOSED}),
    S.AWAITING_PAYMENT: frozenset({S.RECEIVED, S.WITHDRAWN, S.CLOSED}),
    S.DISPATCHED: frozenset({S.DISPATCHED, S.ACCEPTED, S.CANNOT_COMPLETE, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.RESOLVED, S.CANNOT_COMPLETE, S.WITHDRAWN}),
    S.EN_ROUTE: frozenset({S.DISPATCHED, S.ON_SITE, S.CANNOT_COMPLETE, S.WITHDRAWN}),
    S.ON_SITE: frozenset({S.RESOLVED, S.CANNOT_COMPLETE}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CANNOT_COMPLETE: frozenset({S.DISPATCHED, S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.DISPATCHED, S.WITHDRAWN}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.WITHDRAWN: frozenset(),
}
OPEN_STATUSES = tuple(s for s in OrderStatus if s.open)
# How far along the field work is: a step of a time limit is met once the order has reached its status.
PROGRESS = {
    S.RECEIVED: 0,
    S.AWAITING_PAYMENT: 0,
    S.REOPENED: 0,
    S.DISPATCHED: 1,
    S.CANNOT_COMPLETE: 1,
    S.ACCEPTED: 2,
    S.EN_ROUTE: 3,
    S.ON_SITE: 4,
    S.RESOLVED: 5,
    S.CLOSED: 6,
    S.WITHDRAWN: 6,
}
# What field staff may do from the app (the rest belongs to the dispatch centre, the bot or the customer).
FIELD_MOVES = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.RESOLVED, S.CANNOT_COMPLETE})


class IllegalTransition(ValueError):
    def __init__(self, current: str, wanted: str):
        super().__init__(f"an order that is {current} cannot become {wanted}")
        self.current, self.wanted = current, wanted


def parse(value: str) -> OrderStatus:
    try:
        return OrderStatus(value)
    except ValueError:
        raise IllegalTransition("?", value) from None


def check(current: str, wanted: str) -> OrderStatus:
    """The wanted status if the order may move there from `current`; IllegalTransition otherwise."""
    to = parse(wanted)
    if to not in TRANSITIONS.get(parse(current), frozenset()):
        raise IllegalTransition(current, wanted)
    return to


def can_withdraw(value: str) -> bool:
    """The customer may still take the order back (not once it is resolved, closed or withdrawn)."""
    try:
        return OrderStatus.WITHDRAWN in TRANSITIONS[OrderStatus(value)]
    except ValueError:
        return False


def label(value: str) -> str:
    try:
        return OrderStatus(value).label
    except ValueError:
        return value
