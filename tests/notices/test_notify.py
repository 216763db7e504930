"""notices.notify: one notice per customer and key, on the right channel, at the right time, or skipped with why."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models_notices import NoticePreference, NoticeStatus, OutboundNotice
from notices import NoticeTooLong, notify
from tests.notices.conftest import CUSTOMERS, NOON

ALL = list(CUSTOMERS)
TEXT = "【国网95598】您好，测试网格明天上午8点至下午5点计划停电，请提前做好准备。"


def rows(sessions: sessionmaker[Session]) -> dict[str, OutboundNotice]:
    with sessions() as s:
        return {n.recipient_key: n for n in s.scalars(select(OutboundNotice))}


def test_each_customer_on_the_channel_the_cis_knows_and_none_skipped_with_a_reason(db: sessionmaker[Session]) -> None:
    with db.begin() as s:
        result = notify(
            s, audience="customer", kind="planned_outage", key="planned:1", text=TEXT, accounts=ALL, now=NOON
        )
    assert (result.written, dict(result.skipped)) == (3, {"no_channel": 1})
    got = {k: (n.channel, n.recipient, n.status, n.skip_reason) for k, n in rows(db).items()}
    assert got == {
        "3299000001": ("wechat", "oOPENID1", "pending", ""),
        "3299000002": ("sms", "13900000002", "pending", ""),
        "3299000003": ("voice", "02584000003", "pending", ""),
        "3299000004": ("", "", "skipped", "no_channel"),
    }


def test_a_key_reaches_each_customer_once(db: sessionmaker[Session]) -> None:
    for _ in range(2):
        with db.begin() as s:
            notify(
                s, audience="customer", kind="planned_outage", key="planned:1", text=TEXT, accounts=ALL[:2], now=NOON
            )
    with db.begin() as s:
        again = notify(
            s, audience="customer", kind="planned_outage", key="planned:1", text=TEXT, accounts=ALL, now=NOON
        )
        other = notify(
            s, audience="customer", kind="planned_outage", key="planned:2", text=TEXT, accounts=ALL[:1], now=NOON
        )
    assert (again.written, again.duplicates, dict(again.skipped), other.written) == (1, 2, {"no_channel": 1}, 1)
    with db() as s:
        assert len(s.scalars(select(OutboundNotice)).all()) == 5


def test_preference_and_opt_out(db: sessionmaker[Session]) -> None:
    with db.begin() as s:
        s.add(NoticePreference(account_no="3299000002", channel="voice", opted_out=[]))
        s.add(NoticePreference(account_no="3299000001", opted_out=["planned_outage"]))
    with db.begin() as s:
        result = notify(s, audience="customer", kind="planned_outage", key="p", text=TEXT, accounts=ALL[:2], now=NOON)
    assert dict(result.skipped) == {"opted_out": 1}
    got = rows(db)
    assert (got["3299000001"].status, got["3299000001"].skip_reason) == ("skipped", "opted_out")
    assert (got["3299000002"].channel, got["3299000002"].recipient) == ("voice", "13900000002")


def test_quiet_hours_hold_non_urgent_notices_and_calls_until_seven(db: sessionmaker[Session]) -> None:
    night = dt.datetime(2026, 12, 4, 15, 30)  # 23:30 in Shanghai
    seven = dt.datetime(2026, 12, 4, 23, 0)  # 07:00 the next morning
    with db.begin() as s:
        notify(s, audience="customer", kind="restoration", key="r", text=TEXT, accounts=ALL[:3], now=night)
        notify(s, audience="customer", kind="fault_outage", key="f", text=TEXT, accounts=ALL[:3], now=night)
    with db() as s:
        got = {(n.key, n.channel): n.send_after for n in s.scalars(select(OutboundNotice))}
    assert got[("r", "wechat")] == got[("r", "sms")] == got[("r", "voice")] == seven
    assert got[("f", "wechat")] == got[("f", "sms")] == night  # urgent: a fault outage goes by text at once
    assert got[("f", "voice")] == seven  # but nobody is rung at night


def test_more_than_three_notices_a_day_wait_a_day_unless_urgent(db: sessionmaker[Session]) -> None:
    with db.begin() as s:
        for i in range(3):
            notify(
                s, audience="customer", kind="planned_outage", key=f"p{i}", text=TEXT, accounts=["3299000002"], now=NOON
            )
        late = notify(
            s, audience="customer", kind="planned_outage", key="p3", text=TEXT, accounts=["3299000002"], now=NOON
        )
        urgent = notify(
            s, audience="customer", kind="fault_outage", key="f", text=TEXT, accounts=["3299000002"], now=NOON
        )
    assert (late.deferred, urgent.deferred) == (1, 0)
    with db() as s:
        assert s.scalar(select(OutboundNotice.send_after).where(OutboundNotice.key == "p3")) == NOON + dt.timedelta(
            days=1
        )


def test_a_text_longer_than_one_sms_is_refused_and_nothing_written(db: sessionmaker[Session]) -> None:
    with pytest.raises(NoticeTooLong, match="超过短信上限 70 字"), db.begin() as s:
        notify(s, audience="customer", kind="planned_outage", key="long", text="停" * 71, accounts=ALL, now=NOON)
    assert rows(db) == {}


def test_staff_alerts_once_per_key(db: sessionmaker[Session]) -> None:
    with db.begin() as s:
        first = notify(
            s, audience="supervisor", kind="incident_alert", key="incident:1", text="疑似停电", payload={"incident": 1}
        )
        again = notify(s, audience="supervisor", kind="incident_alert", key="incident:1", text="疑似停电")
    assert (first.written, again.duplicates) == (1, 1)
    (alert,) = rows(db).values()
    assert (alert.channel, alert.recipient, alert.status, alert.payload) == (
        "console",
        "supervisor",
        NoticeStatus.PENDING,
        {"incident": 1},
    )
    with pytest.raises(ValueError, match="unknown audience"), db.begin() as s:
        notify(s, audience="everyone", kind="x", key="k", text="t")
