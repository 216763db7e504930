"""The notice outbox: `notify` writes notices in the caller's transaction; a runner claims, sends and marks them.

Each notice exists once per recipient and dedupe key. Sending follows the work-order outbox's claim and lease
(backend.workorders.outbox.claim_due): the claim itself records the attempt (status `sending`, attempt_at), so a
sender killed between sending and marking leaves a notice in doubt, and the next claimer asks the gateway
whether it has that reference before sending again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.models import utcnow
from backend.models_notices import (
    OPEN_STATUSES,
    Audience,
    NoticeChannel,
    NoticeStatus,
    OutboundNotice,
)
from backend.workorders.outbox import claim_due
from notices import policy

MAX_ATTEMPTS = 6
BACKOFF_BASE = dt.timedelta(seconds=20)
BACKOFF_MAX = dt.timedelta(hours=1)


@dataclass
class Written:
    """What one `notify` call did: notices written, already there (same key), skipped (reason -> count),
    and how many of the written ones wait (quiet hours, the daily cap)."""

    written: int = 0
    duplicates: int = 0
    deferred: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def notify(
    session: Session,
    *,
    audience: str,
    kind: str,
    key: str,
    text: str,
    spoken: str = "",
    accounts: Iterable[str] = (),
    urgent: bool | None = None,
    payload: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Written:
    """Writes notices in the caller's transaction (commit them with the change that causes them).

    audience: "customer" (each of `accounts`), "staff" (every console) or "supervisor" (supervisors' consoles).
    kind: a NoticeKind value (planned_outage, fault_outage, restoration, arrears_reminder, incident_alert,
      kpi_alert) or another short word for staff alerts.
    key: the dedupe key of the event, e.g. "incident:42" or "kpi:containment:2026-12-04T10"; a second call with
      the same key writes nothing for recipients that already have it.
    text: the written message (customers: at most 70 characters, one SMS, else NoticeTooLong is raised and
      nothing is written); spoken: the wording for a call (defaults to text).
    urgent: None -> by kind (a fault outage is urgent): urgent notices are not held by quiet hours.
    payload: extra JSON for the receiver (staff alerts: incident id, areas, counts...).

        from notices import notify
        with sessions.begin() as s:
            incident = ...; s.add(incident); s.flush()
            notify(s, audience="supervisor", kind="incident_alert", key=f"incident:{incident.id}",
                   text="疑似停电：城东区 15分钟内 42 通停电来电", payload={"incident": incident.id})
    """
    now = now or utcnow()
    urgent = (kind in policy.URGENT_KINDS) if urgent is None else urgent
    if audience == Audience.CUSTOMER:
        return _customers(session, kind, key, text, spoken or text, list(accounts), urgent, payload or {}, now)
    if audience not in (Audience.STAFF, Audience.SUPERVISOR):
        raise ValueError(f"unknown audience {audience!r}: customer, staff or supervisor")
    row = OutboundNotice(
        key=key[:120],
        recipient_key=f"staff:{audience}",
        kind=kind[:24],
        audience=audience,
        urgent=urgent,
        channel=NoticeChannel.CONSOLE,
        recipient=audience,
        text=text,
        spoken=spoken or text,
        payload=payload or {},
        status=NoticeStatus.PENDING,
        created_at=now,
        send_after=now,
    )
    added = _insert(session, [row])
    return Written(written=added, duplicates=1 - added)


def _customers(
    session: Session,
    kind: str,
    key: str,
    text: str,
    spoken: str,
    accounts: list[str],
    urgent: bool,
    payload: dict[str, Any],
    now: dt.datetime,
) -> Written:
    policy.check_sms_length(text)
    result = Written()
    existing: set[str] = set()
    for part in policy.chunks(sorted(set(accounts))):
        q = select(OutboundNotice.recipient_key).where(
            OutboundNotice.key == key, OutboundNotice.recipient_key.in_(part)
        )
        existing.update(session.scalars(q))
    todo = sorted(set(accounts) - existing)
    result.duplicates = len(set(accounts)) - len(todo)
    routes = policy.routes(session, todo)
    today = policy.sent_today(session, todo, now)
    rows = []
    for account in todo:
        route = routes[account]
        reason = route.skip_reason or ("opted_out" if route.refuses(kind) else "")
        send_after = now
        if not reason:
            send_after = policy.send_time(now, route, urgent)
            if not urgent and today.get(account, 0) >= policy.DAILY_LIMIT:
                send_after = max(send_after, now + dt.timedelta(days=1))
            result.deferred += send_after > now
        else:
            result.skipped[reason] += 1
        rows.append(
            OutboundNotice(
                key=key[:120],
                recipient_key=account,
                kind=kind[:24],
                audience=Audience.CUSTOMER,
                urgent=urgent,
                account_no=account,
                channel=route.channel,
                recipient=route.recipient,
                text=text,
                spoken=spoken,
                payload={**payload, "quiet": list(route.quiet)},
                status=NoticeStatus.SKIPPED if reason else NoticeStatus.PENDING,
                skip_reason=reason,
                created_at=now,
                send_after=send_after,
            )
        )
    added = _insert(session, rows)
    result.written = added - sum(result.skipped.values())
    result.duplicates += len(rows) - added
    return result


def _insert(session: Session, rows: Sequence[OutboundNotice]) -> int:
    """Adds the rows; if another writer added some of them meanwhile, adds the rest one by one."""
    try:
        with session.begin_nested():
            session.add_all(rows)
        return len(rows)
    except IntegrityError:
        pass
    added = 0
    for row in rows:
        fresh = OutboundNotice(
            **{c.key: getattr(row, c.key) for c in OutboundNotice.__table__.columns if c.key != "id"}
        )
        try:
            with session.begin_nested():
                session.add(fresh)
            added += 1
        except IntegrityError:
            continue
    return added


# ---- the sending side ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A claimed notice as a sender sees it; `ref` (N<id>) is our message id at every gateway."""

    id: int
    kind: str
    channel: str
    recipient: str
    text: str
    spoken: str
    payload: dict[str, Any]
    attempts: int
    urgent: bool
    attempt_started: dt.datetime
    previous_attempt: dt.datetime | None  # when the attempt before this one started (None: this is the first)

    @property
    def ref(self) -> str:
        return f"N{self.id}"

    @property
    def in_doubt(self) -> bool:
        """An earlier attempt was made: the gateway may have it although we never marked it."""
        return self.previous_attempt is not None


def claim(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    lease: dt.timedelta,
    batch: int = 100,
    channels: Iterable[str] | None = None,
) -> list[Outgoing]:
    """Due notices nobody holds; each is held for `lease`, its attempt recorded (status sending) before sending.
    A non-urgent customer notice whose retry fell into the quiet hours is put back until they end."""
    where: list[Any] = [OutboundNotice.status.in_([s.value for s in OPEN_STATUSES])]
    if channels is not None:
        where.append(OutboundNotice.channel.in_(sorted(channels)))
    out = []
    with sessions.begin() as s:
        for n in claim_due(s, OutboundNotice, now, batch, lease, *where):
            quiet = n.payload.get("quiet") if n.audience == Audience.CUSTOMER and not n.urgent else None
            wait = policy.quiet_until(now, quiet) if quiet else None
            if wait is not None and n.status == NoticeStatus.PENDING:
                n.send_after, n.claimed_until, n.attempts = wait, None, n.attempts - 1
                continue
            previous, n.status, n.attempt_at = n.attempt_at, NoticeStatus.SENDING, now
            out.append(
                Outgoing(
                    n.id,
                    n.kind,
                    n.channel,
                    n.recipient,
                    n.text,
                    n.spoken,
                    dict(n.payload),
                    n.attempts,
                    n.urgent,
                    now,
                    previous,
                )
            )
    return out


@dataclass(frozen=True)
class Outcome:
    notice_id: int
    gateway_ref: str = ""  # set: sent (or found at the gateway)
    error: str = ""  # set: not sent this time
    give_up: bool = False  # not worth another attempt (e.g. in doubt past the gateway's dedupe window)


def backoff(attempts: int) -> dt.timedelta:
    delay: dt.timedelta = BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return min(delay, BACKOFF_MAX)


def record(
    sessions: sessionmaker[Session], outcomes: Sequence[Outcome], now: dt.datetime, max_attempts: int = MAX_ATTEMPTS
) -> None:
    """Marks a round's outcomes in one transaction: sent, retried later with backoff, or given up."""
    if not outcomes:
        return
    with sessions.begin() as s:
        rows = {
            n.id: n
            for n in s.scalars(select(OutboundNotice).where(OutboundNotice.id.in_([o.notice_id for o in outcomes])))
        }
        for o in outcomes:
            n = rows.get(o.notice_id)
            if n is None or n.status not in OPEN_STATUSES:
                continue
            if o.gateway_ref:
                n.status, n.sent_at, n.gateway_ref, n.claimed_until, n.error = (
                    NoticeStatus.SENT,
                    now,
                    o.gateway_ref[:64],
                    None,
                    "",
                )
            elif o.give_up or n.attempts >= max_attempts:
                n.status, n.claimed_until = NoticeStatus.FAILED, None
                n.error = f"gave up after {n.attempts} attempts: {o.error}"[:200]
            else:
                n.status, n.claimed_until, n.error = NoticeStatus.PENDING, now + backoff(n.attempts), o.error[:200]
