"""The notice outbox: written with the change that causes it, claimed by one sender at a time, marked sent.

A notice exists once (its dedupe key). A sender that dies between sending and marking leaves the claim to
lapse and the notice is sent again with the same id, which receivers (SMS gateway, chat) use to drop repeats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.db import lock_if_any

LEASE = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Notice:
    id: int
    order_id: int
    kind: str
    audience: str
    channel: str
    recipient: str
    text: str
    payload: dict[str, Any]


def add(
    session: Session,
    order: m.WorkOrder,
    key: str,
    *,
    kind: str,
    audience: str,
    channel: str,
    recipient: str,
    text: str,
    payload: dict[str, Any] | None = None,
    send_after: dt.datetime | None = None,
) -> bool:
    """Adds the notice unless one with this key exists (False then). Runs in the caller's transaction."""
    if session.scalar(select(m.OrderNotice.id).where(m.OrderNotice.dedupe_key == key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                m.OrderNotice(
                    order_id=order.id,
                    dedupe_key=key[:128],
                    kind=kind,
                    audience=audience,
                    channel=channel,
                    recipient=recipient,
                    text=text,
                    payload=payload or {},
                    send_after=send_after or m.utcnow(),
                )
            )
    except IntegrityError:  # another instance wrote it first
        return False
    return True


def claim_due(
    session: Session, model: Any, now: dt.datetime, batch: int, lease: dt.timedelta, *where: Any
) -> list[Any]:
    """Rows of an outbox table (`model` with id, sent_at, send_after, claimed_until and attempts) that are due and
    that nobody holds, matching `where`; each is held for `lease` and its attempt counted. In the caller's
    transaction; shared by the work-order notices and the customer notices (notices/)."""
    due = (
        model.sent_at.is_(None),
        model.send_after <= now,
        or_(model.claimed_until.is_(None), model.claimed_until < now),
        *where,
    )
    if not lock_if_any(session, model.id, *due):
        return []
    q = select(model).where(*due).order_by(model.id).limit(batch)
    rows = list(session.scalars(q.with_for_update(skip_locked=True)))
    for row in rows:
        row.claimed_until, row.attempts = now + lease, row.attempts + 1
    return rows


def claim(
    sessions: sessionmaker[Session], now: dt.datetime, batch: int = 50, channels: set[str] | None = None
) -> list[Notice]:
    """Notices due to be sent that nobody holds (of these channels); each is held for LEASE by this caller."""
    where = [m.OrderNotice.channel.in_(sorted(channels))] if channels is not None else []
    with sessions.begin() as s:
        return [
            Notice(n.id, n.order_id, n.kind, n.audience, n.channel, n.recipient, n.text, dict(n.payload))
            for n in claim_due(s, m.OrderNotice, now, batch, LEASE, *where)
        ]


def mark_sent(sessions: sessionmaker[Session], notice_id: int, now: dt.datetime) -> None:
    with sessions.begin() as s:
        n = s.get(m.OrderNotice, notice_id)
        if n is not None:
            n.sent_at, n.error = now, ""


def mark_failed(sessions: sessionmaker[Session], notice_id: int, error: str, retry_at: dt.datetime) -> None:
    with sessions.begin() as s:
        n = s.get(m.OrderNotice, notice_id)
        if n is not None:
            n.claimed_until, n.error = retry_at, error[:200]
