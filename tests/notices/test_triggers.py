"""The triggers: planned outages N hours ahead, fault outages when known, restoration to those told, arrears
reminders before the disconnection date, reminders to customers graded 高 for arrears risk before the bill is due;
each scan idempotent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.models_insight import CustomerRisk
from backend.models_notices import NoticePreference, OutboundNotice
from notices import triggers
from notices.config import NoticesConfig
from tests.notices.conftest import NOON, add_customers

CFG = NoticesConfig()
H = dt.timedelta(hours=1)


def notices(db: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with db() as s:
        return sorted((n.kind, n.recipient_key, n.status) for n in s.scalars(select(OutboundNotice)))


def outage(db: sessionmaker[Session], kind: str, start: dt.datetime, end: dt.datetime, area: str = "T01") -> int:
    with db.begin() as s:
        o = m.Outage(area_code=area, kind=kind, start=start, expected_end=end, reason="线路检修")
        s.add(o)
        s.flush()
        return o.id


def test_planned_outage_announced_within_the_lead_time_once(db: sessionmaker[Session]) -> None:
    outage(db, "planned", NOON + 30 * H, NOON + 39 * H)
    assert triggers.scan(db, CFG, NOON)["arrears_reminder"] == 0 and notices(db) == []
    assert triggers.scan(db, CFG, NOON + 7 * H)["planned_outage"] == 3
    assert triggers.scan(db, CFG, NOON + 8 * H).get("planned_outage") is None  # already announced
    assert [k for k, _, _ in notices(db)] == ["planned_outage"] * 4  # three to send, one skipped (no channel)


def test_fault_outage_then_restoration_to_those_told(db: sessionmaker[Session]) -> None:
    with db.begin() as s:
        add_customers(s, "T02", {"3299000010": "13900000010"})
    outage(db, "fault", NOON - H, NOON + 2 * H)
    outage(db, "fault", NOON - 20 * H, NOON + 2 * H, area="T02")  # started long ago: not news on a first start
    triggers.scan(db, CFG, NOON)
    assert [(k, a) for k, a, _ in notices(db) if k == "fault_outage"] == [
        ("fault_outage", a) for a in ("3299000001", "3299000002", "3299000003", "3299000004")
    ]
    triggers.scan(db, CFG, NOON + 3 * H)
    restored = [(a, st) for k, a, st in notices(db) if k == "restoration"]
    assert restored == [("3299000001", "pending"), ("3299000002", "pending"), ("3299000003", "pending")]


def test_arrears_reminder_three_days_before_disconnection(db: sessionmaker[Session]) -> None:
    with db.begin() as s:
        s.add(m.Balance(account_no="3299000002", balance=-42.5, updated_at=NOON - dt.timedelta(days=3)))
        s.add(m.Balance(account_no="3299000003", balance=-10, updated_at=NOON - dt.timedelta(days=5)))
        s.add(m.Balance(account_no="3299000001", balance=20, updated_at=NOON - dt.timedelta(days=5)))
    assert triggers.scan(db, CFG, NOON)["arrears_reminder"] == 1  # 5 days in arrears: cut in 2 days
    assert triggers.scan(db, CFG, NOON)["arrears_reminder"] == 0
    with db() as s:
        (n,) = s.scalars(select(OutboundNotice)).all()
    assert n.account_no == "3299000003" and n.payload["disconnect_on"] == "2026-12-06"
    assert "户号尾号0003的电费已欠10.00元，请于12月6日前缴清" in n.text
    assert triggers.scan(db, CFG, NOON + dt.timedelta(days=1))["arrears_reminder"] == 1  # the other one's turn


def risk(db: sessionmaker[Session], account: str, grade: str, period: str = "2026-11") -> None:
    with db.begin() as s:
        s.add(
            CustomerRisk(
                account_no=account, period=period, probability=0.8 if grade == "高" else 0.2, grade=grade,
                path="最近一期欠费 = 是 → 高风险 (80%)", model_version="t", run_id=1,
            )
        )  # fmt: skip


def test_high_arrears_risk_reminded_before_the_due_date_once_per_period(db: sessionmaker[Session]) -> None:
    for account, grade in (("3299000001", "高"), ("3299000002", "高"), ("3299000003", "高"), ("3299000004", "中")):
        risk(db, account, grade)
    with db.begin() as s:  # the landline customer does not want arrears reminders
        s.add(NoticePreference(account_no="3299000003", opted_out=["arrears_reminder"]))
    assert triggers.bill_due("2026-11") == dt.date(2026, 12, 15)
    assert triggers.scan(db, CFG, NOON)["arrears_risk"] == 0  # 11 days before the due date: not yet
    night = dt.datetime(2026, 12, 8, 15, 0)  # 23:00 in Shanghai, 7 days before
    assert triggers.scan(db, CFG, night)["arrears_risk"] == 2
    assert triggers.scan(db, CFG, night + 2 * H)["arrears_risk"] == 0  # once per period
    with db() as s:
        rows = {str(n.account_no): n for n in s.scalars(select(OutboundNotice))}
    assert sorted(rows) == ["3299000001", "3299000002", "3299000003"]  # 中 is not reminded
    assert rows["3299000003"].status == "skipped" and rows["3299000003"].skip_reason == "opted_out"
    sms = rows["3299000002"]
    assert sms.key == "arrears_risk:2026-11" and sms.kind == "arrears_reminder" and sms.channel == "sms"
    assert sms.text == "【国网95598】您好，户号尾号0002的11月电费将于12月15日到期，请按时缴纳，可用网上国网、微信缴费。"
    assert "风险" not in sms.text and "风险" not in sms.spoken
    assert sms.send_after == dt.datetime(2026, 12, 8, 23, 0)  # quiet hours: 07:00 the next morning
    assert triggers.scan(db, CFG, dt.datetime(2026, 12, 15, 4, 0))["arrears_risk"] == 0  # due today: too late
