"""Where an order's supervision clock stands: the stage reached, and when to look again."""

from __future__ import annotations

import datetime as dt

from backend import models as m
from backend.workorders.commitments import commitments


def due_stage(order: m.WorkOrder, now: dt.datetime) -> int:
    """The stage the order's clock has reached now: 0 on time, 1 warned, 2 overdue, 3 overdue long."""
    if order.due_at is None:
        return 0
    c = commitments()
    allowed = dt.timedelta(seconds=order.step_allowed_s)
    if now >= order.due_at + allowed * c.supervisor_after:
        return 3
    if now >= order.due_at:
        return 2
    if now >= order.clock_start + allowed * c.warn_at:
        return 1
    return 0


def next_check(order: m.WorkOrder) -> dt.datetime | None:
    c = commitments()
    allowed = dt.timedelta(seconds=order.step_allowed_s)
    if order.due_at is None:
        return None
    return {
        0: order.clock_start + allowed * c.warn_at,
        1: order.due_at,
        2: order.due_at + allowed * c.supervisor_after,
    }.get(order.supervision_stage)
