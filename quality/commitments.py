"""What the back end records of a promise to get back to the customer, as the inspected contact's call-backs:
a 人工回复 order (a call-back the bot or an agent filed), and every other order filed in the contact, whose
confirmation tells the customer the team will contact them ("会打尾号…的电话联系您"). Each is due at its first
step's service commitment and done when the order first reached that step."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.contacts import CALLBACK_FUNCTION
from backend import models as m
from backend.model_base import epoch
from backend.models_analytics import Contact
from backend.models_notices import NoticeKind, NoticeStatus, OutboundNotice
from backend.workorders.commitments import commitments
from backend.workorders.states import PROGRESS, OrderStatus
from quality.contact import Callback

__all__ = ["CALLBACK_FUNCTION", "callback_of", "contact_of", "restoration_of"]
NOTICE_GRACE = dt.timedelta(hours=2)  # the restoration notice goes out within this of the expected end


def callback_of(o: m.WorkOrder, origin: float) -> Callback:
    """A 人工回复 order: due when its last step is due, done when resolved (or closed)."""
    steps = commitments().steps(o.function_id, o.priority, o.area_class, o.clock_start)
    due = max((step.due for step in steps), default=o.due_at or o.created_at)
    done = o.resolved_at or (o.closed_at if o.status == OrderStatus.CLOSED else None)
    return _relative(o.created_at, due, done, origin)


def contact_of(o: m.WorkOrder, origin: float) -> Callback | None:
    """Any other order: the team's first step (accepting a repair, replying to a complaint) is the promised
    contact; None for an order withdrawn in the contact (nothing is owed)."""
    if o.status == OrderStatus.WITHDRAWN:
        return None
    steps = commitments().steps(o.function_id, o.priority, o.area_class, o.clock_start)
    if not steps:
        return _relative(o.created_at, o.due_at or o.created_at, o.resolved_at, origin)
    first = min(steps, key=lambda s: s.due)
    return _relative(o.created_at, first.due, _reached(o, PROGRESS[OrderStatus(first.status)]), origin)


def restoration_of(s: Session, c: Contact, origin: float) -> Callback | None:
    """A customer told of their area's outage was promised news ("有新进展我们会尽快通知您"): kept by the restoration
    notice to their account (notices.triggers), due a little after the outage's expected end. None when the
    customer is not known (nothing can reach them: the bot does not promise it then) or no outage is found."""
    if not c.told_outage or not c.account_no or not c.area_code:
        return None
    outage = s.scalars(
        select(m.Outage)
        .where(m.Outage.area_code == c.area_code, m.Outage.start <= (c.ended_at or c.started_at))
        .order_by(m.Outage.start.desc())
        .limit(1)
    ).first()
    if outage is None:
        return None
    sent = s.scalars(
        select(OutboundNotice.created_at).where(
            OutboundNotice.key == f"{NoticeKind.RESTORATION}:{outage.id}",
            OutboundNotice.account_no == c.account_no,
            OutboundNotice.status.in_((NoticeStatus.SENT, NoticeStatus.DELIVERED)),
        )
    ).first()
    return _relative(c.started_at, outage.expected_end + NOTICE_GRACE, sent, origin)


def _reached(o: m.WorkOrder, needed: int) -> dt.datetime | None:
    """When the order's history first shows the work that far along (a withdrawal is not work done)."""
    for e in o.history:
        try:
            status = OrderStatus(e.status)
        except ValueError:
            continue
        if status != OrderStatus.WITHDRAWN and PROGRESS[status] >= needed:
            return e.at
    return None


def _relative(promised: dt.datetime, due: dt.datetime, done: dt.datetime | None, origin: float) -> Callback:
    return Callback(
        promised_at=round(epoch(promised) - origin, 3),
        due_at=round(epoch(due) - origin, 3),
        done_at=None if done is None else round(epoch(done) - origin, 3),
    )
