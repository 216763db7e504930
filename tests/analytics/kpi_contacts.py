"""Hand-made contacts whose KPIs are known (not the generator): the KPI, forecast, alert and report tests share them.

Local times (Asia/Shanghai); two local days, Monday 2026-11-23 and Tuesday 2026-11-24, plus one contact just
before and one just after them. Expected figures over the two days (all areas), worked out by hand:
contacts 6 (5 on the Monday, 1 on the Tuesday: 00:30 local is still the Monday 16:30 in UTC); finished 5, of which
2 contained (containment 0.4); escalated 3 of 6 (transfer 0.5); turns 17 with 5 fallbacks; agent handling
(300 + 500) / 2 = 400 s; abandoned 1 of 3 ended escalations; answered 2, one within 20 s (service level 0.5);
satisfaction (5 + 4 + 2 + 5) / 4 = 4.0.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from analytics.kpis_range import to_utc
from backend import models as m
from backend.models_analytics import Contact, ContactOutcome

AREAS = {"A01": "城东测试网格", "A02": "城西测试网格"}
COMPLAINT_TEXT = "你们服务太差了，抢修一直不来"
FALLBACK_TEXT = "呃那个啥我说不清楚"


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    """Naive UTC of a local time in 2026."""
    return to_utc(dt.datetime(2026, month, day, hour, minute))


ROWS: list[dict[str, Any]] = [
    dict(at=local(23, 9, 10), channel="voice", area_code="A01", function="fault_repair", outage_related=True,
         turns=4, fallbacks=0, outcome=ContactOutcome.CONTAINED, handle_seconds=120, satisfaction=5,
         first_text="我家停电了"),
    dict(at=local(23, 9, 40), channel="chat", area_code="A01", function="bill_query", turns=5, fallbacks=1,
         escalated=True, transfer_reason="customer_request", outcome=ContactOutcome.AGENT, wait_seconds=10,
         handle_seconds=300, satisfaction=4, first_text="电费怎么这么多"),
    dict(at=local(23, 10, 5), channel="wechat", area_code="A02", function="complaint", turns=3, fallbacks=2,
         escalated=True, transfer_reason="anger", outcome=ContactOutcome.AGENT, wait_seconds=40,
         handle_seconds=500, satisfaction=2, first_text=COMPLAINT_TEXT),
    dict(at=local(23, 10, 30), channel="voice", area_code="A02", function=None, turns=2, fallbacks=2,
         escalated=True, transfer_reason="not_understood", outcome=ContactOutcome.ABANDONED,
         first_text=FALLBACK_TEXT),
    dict(at=local(23, 23, 30), channel="voice", area_code=None, function="outage_query", outage_related=True,
         turns=1, fallbacks=0, outcome=ContactOutcome.IN_PROGRESS, first_text="几点来电"),
    dict(at=local(24, 0, 30), channel="chat", area_code="A01", function="payment", turns=2, fallbacks=0,
         outcome=ContactOutcome.CONTAINED, satisfaction=5, first_text="我想交电费"),
    # outside the two days, one each side
    dict(at=local(22, 23, 59), channel="voice", area_code="A01", function="complaint", turns=1, fallbacks=1,
         outcome=ContactOutcome.CONTAINED, first_text="前一天的投诉"),
    dict(at=local(25, 0, 0), channel="voice", area_code="A01", function="complaint", turns=1, fallbacks=1,
         outcome=ContactOutcome.CONTAINED, first_text="后一天的投诉"),
]  # fmt: skip


def contact(n: int, at: dt.datetime, **values: Any) -> Contact:
    values.setdefault("escalated", False)
    values.setdefault("outage_related", False)
    values.setdefault("told_outage", False)
    values.setdefault("first_text", "")
    return Contact(contact_key=f"c{n}:{int(at.timestamp())}", conversation_id=f"c{n}", started_at=at, **values)


def add_areas(s: Session) -> None:
    for code, name in AREAS.items():
        if s.get(m.Area, code) is None:
            s.add(m.Area(code=code, name=name, district="测试区", streets=[]))


def add_contacts(s: Session, rows: list[dict[str, Any]] | None = None, start: int = 0) -> None:
    add_areas(s)
    for n, row in enumerate(rows if rows is not None else ROWS, start=start):
        values = dict(row)
        s.add(contact(n, values.pop("at"), **values))
    s.commit()
