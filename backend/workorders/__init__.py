"""The work-order loop (统一受理、统一派单、统一督办、统一闭环): states, dispatch, time limits, supervision,
notices and follow-up surveys. `WorkOrders` (service.py) is what other packages call."""

from backend.workorders.lifecycle import SYSTEM, Actor
from backend.workorders.service import Conflict, NotYours, OrderNotFound, OrderView, WorkOrders
from backend.workorders.states import OPEN_STATUSES, IllegalTransition, OrderStatus

__all__ = [
    "OPEN_STATUSES",
    "SYSTEM",
    "Actor",
    "Conflict",
    "IllegalTransition",
    "NotYours",
    "OrderNotFound",
    "OrderStatus",
    "OrderView",
    "WorkOrders",
]
