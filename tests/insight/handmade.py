"""A small insight history written by hand for the product's seeded CIS (backend.synthetic.seed): the same areas,
lines, 台区 and customers, 36 months of bills, payments, contacts and outages whose counts the tests know, and one
finished insight run with hot spots, tags and a risk grade as the insight jobs would publish them.

- HOT_LINE (L011, 城东区一网格's first line) has 25 fault outages and 3 planned ones; every other line one fault.
- ACCOUNT (3201000001) pays on time except LATE (10 days late) and ARREARS (40 days late), and has the CONTACTS.
- Every other customer on HOT_LINE has 12 contacts; other customers 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.models_insight import CustomerRisk, CustomerTag, CustomerTagChange, Hotspot, InsightRun
from insight import periods
from insight.schema import TABLES, write

FIRST, LAST = "2023-11", "2026-10"
HOT_LINE, HOT_TQ = "L011", "TQ0111"
ACCOUNT = "3201000001"
LATE, ARREARS, UNPAID = "2024-03", "2025-06", "2026-10"
CONTACTS = [  # (day, channel, function) of ACCOUNT
    ("2024-01-05", "phone", "fault_repair"), ("2024-02-11", "phone", "bill_query"),
    ("2024-07-20", "wechat", "fault_repair"), ("2024-08-02", "phone", "complaint"),
    ("2025-01-15", "chat", "bill_query"), ("2025-03-03", "phone", "fault_repair"),
    ("2025-03-04", "phone", "complaint"), ("2025-09-09", "app", "payment"),
    ("2026-02-14", "wechat", "bill_query"), ("2026-06-30", "phone", "complaint"),
    ("2026-08-08", "phone", "power_quality"),
]  # fmt: skip
HOT_FAULTS, HOT_PLANNED = 25, 3


def kwh_of(index: int, period: str) -> float:
    return round(150.0 + 10 * index + (40.0 if period[5:] in ("01", "07", "08") else 0.0), 1)


def write_history(sessions: sessionmaker[Session], directory: Path) -> Path:
    with sessions() as s:
        areas = list(s.scalars(select(m.Area).order_by(m.Area.code)))
        lines = list(s.scalars(select(m.FeederLine).order_by(m.FeederLine.code)))
        tqs = list(s.scalars(select(m.TransformerDistrict).order_by(m.TransformerDistrict.code)))
        customers = list(s.scalars(select(m.Customer).order_by(m.Customer.account_no)))
    line_of = {t.code: t.line_code for t in tqs}
    tables: dict[str, list[dict[str, object]]] = {name: [] for name in TABLES}
    tables["areas"] = [{"area_code": a.code, "area_name": a.name, "area_class": a.area_class} for a in areas]
    tables["lines"] = [{"line_code": x.code, "line_name": x.name, "area_code": x.area_code} for x in lines]
    tables["districts"] = [
        {"tq_code": t.code, "tq_name": t.name, "line_code": t.line_code, "area_code": t.area_code} for t in tqs
    ]
    for c in customers:
        line = line_of.get(c.tq_code or "", "")
        tables["customers"].append({
            "account_no": c.account_no, "area_code": c.area_code, "line_code": line, "tq_code": c.tq_code,
            "prepaid": "预付费" in c.tags, "solar": False, "low_income": "低保户" in c.tags, "birth_year": 1958,
            "opened": dt.date(2010, 5, 1),
        })  # fmt: skip
        for i, period in enumerate(periods.span(FIRST, LAST)):
            kwh = kwh_of(i, period)
            due = periods.end(period) + dt.timedelta(days=15)
            tables["bills"].append({"account_no": c.account_no, "period": period, "kwh": kwh,
                                    "amount": round(kwh * 0.5, 2), "due_date": due})  # fmt: skip
            late = {LATE: 10, ARREARS: 40}.get(period, -3) if c.account_no == ACCOUNT else -3
            if c.account_no == ACCOUNT and period == UNPAID:
                continue
            tables["payments"].append({"account_no": c.account_no, "period": period, "amount": round(kwh * 0.5, 2),
                                       "paid_on": due + dt.timedelta(days=late), "channel": "wechat"})  # fmt: skip
        days = CONTACTS if c.account_no == ACCOUNT else [
            (f"2025-{k % 12 + 1:02d}-1{k % 9}", "phone", "fault_repair") for k in range(12 if line == HOT_LINE else 1)
        ]  # fmt: skip
        for k, (day, channel, function) in enumerate(days):
            tables["contacts"].append({
                "contact_id": f"C{c.account_no}{k:03d}", "account_no": c.account_no,
                "started_at": dt.datetime.fromisoformat(day) + dt.timedelta(hours=9, minutes=k),
                "channel": channel, "function": function,
            })  # fmt: skip
    for j, x in enumerate(lines):
        count = HOT_FAULTS + HOT_PLANNED if x.code == HOT_LINE else 1
        for k in range(count):
            tables["outages"].append({
                "outage_id": f"O{x.code}{k:03d}", "line_code": x.code, "tq_code": HOT_TQ if k % 5 == 1 and x.code ==
                HOT_LINE else None, "kind": "planned" if k >= HOT_FAULTS else "fault",
                "started_at": dt.datetime(2024, 1, 1, 8) + dt.timedelta(days=20 * k + j), "duration_min": 30 + k,
            })  # fmt: skip
    for name, rows in tables.items():
        write(directory, name, pa.Table.from_pylist(rows, schema=TABLES[name]))
    return directory


def publish_run(sessions: sessionmaker[Session]) -> int:
    """One finished run: the lines and areas ranked by faults and complaints, the 台区 by faults; ACCOUNT's tags,
    tag history and risk grade."""
    with sessions.begin() as s:
        lines = list(s.scalars(select(m.FeederLine).order_by(m.FeederLine.code)))
        areas = list(s.scalars(select(m.Area).order_by(m.Area.code)))
        tqs = list(s.scalars(select(m.TransformerDistrict).order_by(m.TransformerDistrict.code)))
        run = InsightRun(engine="duckdb", period=LAST, status="done", finished_at=m.utcnow(), counts={})
        s.add(run)
        s.flush()
        for measure in ("faults", "complaints"):
            ranked: list[Any] = tqs if measure == "faults" else []
            levels: list[tuple[str, list[Any]]] = [("line", lines), ("area", areas), ("tq", ranked)]
            for level, items in levels:
                ordered = sorted(items, key=lambda x: (x.code != HOT_LINE and x.code != "A01", x.code))
                for rank, x in enumerate(ordered, start=1):
                    hot = rank <= 2
                    observed = 25 if hot else 1
                    s.add(Hotspot(
                        run_id=run.id, level=level, measure=measure, code=x.code, name=x.name,
                        area_code=getattr(x, "area_code", x.code), first_period=FIRST, last_period=LAST, size=40,
                        observed=observed, expected=4.0, rate_ratio=observed / 4.0, p_value=1e-9 if hot else 0.6,
                        q_value=1e-8 if hot else 0.9, significant=hot, rank=rank,
                        trend=[{"quarter": f"2026Q{q}", "count": observed // 4 + q} for q in (1, 2, 3)],
                        suggestion="建议在迎峰度夏前对该线路开展预防性巡视和消缺" if hot and level == "line" else None,
                    ))  # fmt: skip
        s.add(CustomerTag(account_no=ACCOUNT, tag="敏感客户", grade=None, reason="近12个月投诉2次", period=LAST,
                          since_period="2025-03", rule_id="sensitive", rule_version=1, run_id=run.id))  # fmt: skip
        s.add(CustomerTag(account_no=ACCOUNT, tag="欠费风险", grade="中", reason="近12个月欠费1次", period=LAST,
                          since_period="2025-07", rule_id="arrears_risk", rule_version=1, run_id=run.id))  # fmt: skip
        s.add(CustomerTagChange(account_no=ACCOUNT, tag="敏感客户", gained_period="2025-03", lost_period=None))
        s.add(CustomerTagChange(account_no=ACCOUNT, tag="高频来电", gained_period="2024-02", lost_period="2024-09"))
        path = "近12个月逾期≥1次 → 预付费=否 → 中"
        s.add(CustomerRisk(account_no=ACCOUNT, period="2026-11", probability=0.42, grade="中", path=path,
                           model_version="tree-v1", run_id=run.id))  # fmt: skip
        return run.id
