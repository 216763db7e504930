"""What writes customer notices: outages and arrears, found by a periodic scan (idempotent by dedupe key) or
announced in the transaction of the change (`announce_outage`, e.g. a dispatcher confirming an incident).

Rules:
- Planned outage: announced once its start is within `planned_lead` (24 h by default), to the area's customers.
- Fault outage: announced as soon as it is known (an `Outage` of kind fault that has started and not ended, and
  started at most FRESH ago: older ones found on a first start are not news any more).
- Restoration: an outage has ended when its expected_end has passed (the CIS moves expected_end to the moment
  power returns); announced to the customers who were told of the outage, within FRESH of the end.
- Arrears: a prepaid account whose balance went below zero (balances.updated_at) is disconnected after
  `arrears_grace` (7 days); the reminder goes `arrears_remind` (3 days) before that date, once per date.
- Arrears risk: a customer the insight run graded 高 for a billing period (customer_risk) is reminded to pay that
  period's bill within `risk_remind` (7 days) before its due date, once per period (the key arrears_risk:<period>).
  Kind arrears_reminder: opting out of arrears reminders covers it.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.models_insight import CustomerRisk
from backend.models_notices import Audience, NoticeKind, NoticeStatus, OutboundNotice
from backend.spoken import local_time
from insight.periods import shift, start
from notices import wording
from notices.config import NoticesConfig
from notices.outbox import Written, notify
from notices.policy import NoticeTooLong

log = logging.getLogger(__name__)
FRESH = dt.timedelta(hours=6)
DUE_DAY = 15  # a period's bill is due on the 15th of the next month (insight.generate_latent.Calendar.due)
HIGH_RISK = "高"


def area_accounts(session: Session, area_code: str) -> list[str]:
    return list(session.scalars(select(m.Customer.account_no).where(m.Customer.area_code == area_code)))


def announce_outage(session: Session, outage: m.Outage, now: dt.datetime) -> Written:
    """The outage's notice to its area's customers, in the caller's transaction (planned or fault by its kind)."""
    area = session.get(m.Area, outage.area_code)
    name = area.name if area else outage.area_code
    if outage.kind == "planned":
        kind, msg = (
            NoticeKind.PLANNED_OUTAGE,
            wording.planned_outage(name, outage.start, outage.expected_end, outage.reason, now),
        )
    else:
        kind, msg = NoticeKind.FAULT_OUTAGE, wording.fault_outage(name, outage.expected_end, now)
    return notify(
        session,
        audience=Audience.CUSTOMER,
        kind=kind,
        key=f"{kind}:{outage.id}",
        text=msg.text,
        spoken=msg.spoken,
        accounts=area_accounts(session, outage.area_code),
        payload={"outage": outage.id, "area": outage.area_code},
        now=now,
    )


def announce_restoration(session: Session, outage: m.Outage, now: dt.datetime) -> Written:
    told = select(OutboundNotice.account_no).where(
        OutboundNotice.key.in_([f"{NoticeKind.PLANNED_OUTAGE}:{outage.id}", f"{NoticeKind.FAULT_OUTAGE}:{outage.id}"]),
        OutboundNotice.status != NoticeStatus.SKIPPED,
    )
    area = session.get(m.Area, outage.area_code)
    msg = wording.restoration(area.name if area else outage.area_code)
    return notify(
        session,
        audience=Audience.CUSTOMER,
        kind=NoticeKind.RESTORATION,
        key=f"{NoticeKind.RESTORATION}:{outage.id}",
        text=msg.text,
        spoken=msg.spoken,
        accounts=[a for a in session.scalars(told) if a],
        payload={"outage": outage.id, "area": outage.area_code},
        now=now,
    )


def _announced(session: Session, key: str) -> bool:
    return session.scalar(select(OutboundNotice.id).where(OutboundNotice.key == key).limit(1)) is not None


def scan(sessions: sessionmaker[Session], cfg: NoticesConfig, now: dt.datetime) -> dict[str, int]:
    """One pass over outages and balances; each notice event in its own transaction. Counts written per kind."""
    counts: dict[str, int] = {}
    with sessions() as s:
        outages = list(
            s.scalars(
                select(m.Outage).where(m.Outage.expected_end > now - FRESH, m.Outage.start <= now + cfg.planned_lead)
            )
        )
    for outage in outages:
        if outage.expected_end <= now:
            kind, key = NoticeKind.RESTORATION, f"{NoticeKind.RESTORATION}:{outage.id}"
        elif outage.kind == "planned" and outage.start > now:
            kind, key = NoticeKind.PLANNED_OUTAGE, f"{NoticeKind.PLANNED_OUTAGE}:{outage.id}"
        elif outage.kind == "fault" and now - FRESH <= outage.start <= now:
            kind, key = NoticeKind.FAULT_OUTAGE, f"{NoticeKind.FAULT_OUTAGE}:{outage.id}"
        else:
            continue
        try:
            with sessions.begin() as s:
                if _announced(s, key):
                    continue
                row = s.get(m.Outage, outage.id)
                if row is None:
                    continue
                announce = announce_restoration if kind == NoticeKind.RESTORATION else announce_outage
                counts[kind] = counts.get(kind, 0) + announce(s, row, now).written
        except NoticeTooLong as e:
            log.error("outage %s: %s notice refused: %s", outage.id, kind, e)
    counts[NoticeKind.ARREARS_REMINDER] = remind_arrears(sessions, cfg, now)
    counts["arrears_risk"] = remind_risk(sessions, cfg, now)
    return counts


def remind_arrears(sessions: sessionmaker[Session], cfg: NoticesConfig, now: dt.datetime) -> int:
    """Reminders for accounts in arrears whose disconnection is `arrears_remind` or less ahead."""
    written = 0
    with sessions() as s:
        owing = list(
            s.execute(
                select(m.Balance.account_no, m.Balance.balance, m.Balance.updated_at).where(m.Balance.balance < 0)
            ).tuples()
        )
    for account, balance, since in owing:
        cut_at = since + cfg.arrears_grace
        if not (cut_at - cfg.arrears_remind <= now < cut_at):
            continue
        cut = local_time(cut_at).date()
        key = f"{NoticeKind.ARREARS_REMINDER}:{account}:{cut.isoformat()}"
        msg = wording.arrears_reminder(account, -balance, cut)
        with sessions.begin() as s:
            if _announced(s, key):
                continue
            written += notify(
                s,
                audience=Audience.CUSTOMER,
                kind=NoticeKind.ARREARS_REMINDER,
                key=key,
                text=msg.text,
                spoken=msg.spoken,
                accounts=[account],
                payload={"disconnect_on": cut.isoformat(), "owed": round(-balance, 2)},
                now=now,
            ).written
    return written


def bill_due(period: str) -> dt.date:
    return start(shift(period, 1)).replace(day=DUE_DAY)


def remind_risk(sessions: sessionmaker[Session], cfg: NoticesConfig, now: dt.datetime) -> int:
    """Reminders to customers graded 高 whose predicted bill falls due within `risk_remind` (local dates)."""
    today = local_time(now).date()
    with sessions() as s:
        graded = s.execute(
            select(CustomerRisk.period, CustomerRisk.account_no).where(CustomerRisk.grade == HIGH_RISK)
        ).tuples()
        by_period: dict[str, list[str]] = {}
        for period, account in graded:
            by_period.setdefault(period, []).append(account)
    written = 0
    for period, accounts in sorted(by_period.items()):
        due = bill_due(period)
        if not (due - cfg.risk_remind <= today < due):
            continue
        key = f"arrears_risk:{period}"
        with sessions() as s:
            told = set(s.scalars(select(OutboundNotice.recipient_key).where(OutboundNotice.key == key)))
        for account in sorted(set(accounts) - told):
            msg = wording.risk_reminder(account, period, due)
            with sessions.begin() as s:
                written += notify(
                    s,
                    audience=Audience.CUSTOMER,
                    kind=NoticeKind.ARREARS_REMINDER,
                    key=key,
                    text=msg.text,
                    spoken=msg.spoken,
                    accounts=[account],
                    payload={"period": period, "due_on": due.isoformat(), "risk": HIGH_RISK},
                    now=now,
                ).written
    return written
