"""Customer features as of a period's end, counted by hand on a tiny history (also the tiny history the tag, hot-spot
and segment tests read), the empty period, and the same features on DuckDB and Spark over the generated history."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from insight.engine import Dataset, open_dataset
from insight.jobs.features import customer_features
from insight.periods import shift
from insight.schema import TABLES, write
from tests.insight.conftest import same_frame

TINY_PERIOD = "2026-06"  # the tiny history's 12-month window: 2025-07 .. 2026-06


def write_tiny_history(directory: Path) -> Path:
    """Areas A1 (lines L1: 台区 T1, T2; L2: T3) and A2 (L3: T4). C1 (T1) and C2 (T2) have bills, payments and
    contacts; C3 (T3) opens after the window; C4 (T3) and C5 (T4) have nothing. Outages for the hot-spot tests."""
    d = dt.date
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    rows["areas"] = [
        {"area_code": "A1", "area_name": "城区", "area_class": "urban"},
        {"area_code": "A2", "area_name": "郊区", "area_class": "rural"},
    ]
    rows["lines"] = [
        {"line_code": "L1", "line_name": "一线", "area_code": "A1"},
        {"line_code": "L2", "line_name": "二线", "area_code": "A1"},
        {"line_code": "L3", "line_name": "三线", "area_code": "A2"},
    ]
    for tq, line, area in (("T1", "L1", "A1"), ("T2", "L1", "A1"), ("T3", "L2", "A1"), ("T4", "L3", "A2")):
        rows["districts"].append({"tq_code": tq, "tq_name": tq, "line_code": line, "area_code": area})
    for acct, tq, line, area, solar, low_income, born, opened in (
        ("C1", "T1", "L1", "A1", True, False, 1950, d(2020, 3, 15)),
        ("C2", "T2", "L1", "A1", False, True, 1985, d(2025, 12, 1)),
        ("C3", "T3", "L2", "A1", False, False, 1990, d(2026, 7, 1)),
        ("C4", "T3", "L2", "A1", False, False, 1970, d(2024, 1, 1)),
        ("C5", "T4", "L3", "A2", False, False, 1960, d(2020, 1, 1)),
    ):
        rows["customers"].append(
            {
                "account_no": acct,
                "area_code": area,
                "line_code": line,
                "tq_code": tq,
                "prepaid": acct == "C2",
                "solar": solar,
                "low_income": low_income,
                "birth_year": born,
                "opened": opened,
            }
        )

    def bill(acct: str, period: str, kwh: float) -> dt.date:
        due = d(int(shift(period, 1)[:4]), int(shift(period, 1)[5:]), 20)
        rows["bills"].append({"account_no": acct, "period": period, "kwh": kwh, "amount": kwh / 2, "due_date": due})
        return due

    def pay(acct: str, period: str, on: dt.date, amount: float, channel: str) -> None:
        rows["payments"].append(
            {"account_no": acct, "period": period, "paid_on": on, "amount": amount, "channel": channel}
        )

    for period in ["2025-06", *[shift("2025-07", i) for i in range(12)]]:
        kwh = 200.0 if period[5:] in ("06", "07", "08") else 150.0 if period[5:] in ("12", "01", "02") else 100.0
        due = bill("C1", period, kwh)
        if period == "2025-09":
            pay("C1", period, due + dt.timedelta(days=21), kwh / 2, "bank")  # in arrears (past the grace)
        elif period == "2025-11":
            pay("C1", period, due + dt.timedelta(days=5), kwh / 2, "counter")  # late, within the grace
        elif period != "2026-03":  # 2026-03 is never paid
            pay("C1", period, due - dt.timedelta(days=2), kwh / 2, "app")
    for period in [shift("2025-12", i) for i in range(7)]:
        due = bill("C2", period, 80.0)
        if period == "2026-01":
            pay("C2", period, d(2026, 2, 15), 20.0, "counter")
            pay("C2", period, d(2026, 3, 1), 20.0, "app")  # settled 9 days late
        else:
            pay("C2", period, due, 40.0, "wechat" if period == "2025-12" else "alipay")

    def contact(acct: str, at: dt.datetime, channel: str, function: str) -> None:
        cid = f"K{len(rows['contacts']) + 1}"
        rows["contacts"].append(
            {"contact_id": cid, "account_no": acct, "started_at": at, "channel": channel, "function": function}
        )

    t = dt.datetime
    contact("C1", t(2025, 6, 30, 23, 59), "phone", "complaint")  # before the window
    contact("C1", t(2025, 7, 1, 0, 0), "phone", "complaint")
    contact("C1", t(2025, 9, 10, 9), "wechat", "outage_query")
    contact("C1", t(2026, 1, 5, 9), "phone", "fault_repair")
    contact("C1", t(2026, 3, 3, 9), "app", "power_quality")
    contact("C1", t(2026, 6, 30, 23), "chat", "bill_query")
    contact("C1", t(2026, 7, 1, 0, 0), "phone", "complaint")  # after
    contact("C2", t(2026, 2, 1, 10), "phone", "tariff_query")
    contact("C3", t(2026, 7, 2, 10), "phone", "complaint")

    outages: tuple[tuple[str, str, str | None, str, dt.datetime], ...] = (
        ("O1", "L1", None, "fault", t(2026, 1, 10)),
        ("O2", "L1", "T1", "fault", t(2026, 2, 10)),
        ("O3", "L1", "T1", "fault", t(2026, 4, 10)),
        ("O4", "L2", "T3", "fault", t(2026, 5, 1)),
        ("O5", "L1", None, "planned", t(2026, 3, 1)),
        ("O6", "L2", None, "fault", t(2025, 12, 31, 23)),
    )
    for oid, line, outage_tq, kind, at in outages:
        rows["outages"].append(
            {"outage_id": oid, "line_code": line, "tq_code": outage_tq, "kind": kind, "started_at": at}
            | {"duration_min": 60}
        )
    for name, schema in TABLES.items():
        write(directory, name, pa.Table.from_pylist(rows[name], schema=schema))
    return directory


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: Any) -> Dataset:
    return open_dataset(write_tiny_history(tmp_path_factory.mktemp("tiny")), "duckdb")


def test_features_counted_by_hand(tiny: Dataset) -> None:
    f = customer_features(tiny, TINY_PERIOD).to_pandas().set_index("account_no")
    assert sorted(f.index) == ["C1", "C2", "C4", "C5"]  # C3 opens after the period
    c1, c2, c4 = f.loc["C1"], f.loc["C2"], f.loc["C4"]
    assert (c1.contacts_12m, c1.phone_contacts_12m, c1.electronic_contacts_12m) == (5, 2, 3)
    assert (c1.complaints_12m, c1.outage_contacts_12m, c1.billing_contacts_12m) == (2, 2, 1)
    # payments made in the window: 2025-06's bill (paid 2025-07-18) and ten more, 9 by app
    assert (c1.payments_12m, c1.e_payments_12m) == (11, 9)
    assert c1.e_payment_share_12m == pytest.approx(9 / 11)
    # bills past due + grace by 2026-06-30: 2025-07 .. 2026-04; late 2025-09 (21 d), 2025-11 (5 d), 2026-03 unpaid
    assert (c1.bills_12m, c1.late_bills_12m, c1.arrears_bills_12m, c1.unpaid_bills_12m) == (10, 3, 2, 1)
    assert c1.max_days_late_12m == (dt.date(2026, 6, 30) - dt.date(2026, 4, 20)).days
    assert c1.kwh_12m == pytest.approx(3 * 200 + 3 * 150 + 6 * 100) and c1.amount_12m == pytest.approx(825)
    assert c1.summer_winter_ratio == pytest.approx(200 / 150)
    assert (c1.age, c1.tenure_months, bool(c1.solar), bool(c1.prepaid)) == (76, 75, True, False)
    assert (c2.contacts_12m, c2.billing_contacts_12m, c2.payments_12m, c2.e_payments_12m) == (1, 1, 7, 6)
    assert (c2.bills_12m, c2.late_bills_12m, c2.arrears_bills_12m, c2.max_days_late_12m) == (5, 1, 0, 9)
    assert (c2.kwh_12m, c2.summer_winter_ratio, c2.age, c2.tenure_months) == (560, 1.0, 41, 6)
    assert bool(c2.low_income) and bool(c2.prepaid)
    assert c4.contacts_12m == 0 and c4.bills_12m == 0 and c4.kwh_12m == 0
    assert pd.isna(c4.e_payment_share_12m) and pd.isna(c4.summer_winter_ratio)
    assert (c1.line_code, c1.tq_code, c1.area_code) == ("L1", "T1", "A1")


def test_nothing_after_the_period_end_is_used(tiny: Dataset) -> None:
    before = customer_features(tiny, "2026-02").to_pandas().set_index("account_no")
    # by 2026-02-28: C1's 2026-03 non-payment is unknown, and only the 2025-03 .. 2026-02 contacts count
    assert before.loc["C1"].contacts_12m == 4 and before.loc["C1"].unpaid_bills_12m == 0
    assert before.loc["C2"].tenure_months == 2 and before.loc["C2"].bills_12m == 1  # 2025-12, due 2026-01-20


def test_an_empty_period_gives_no_rows(tiny: Dataset) -> None:
    assert customer_features(tiny, "2019-01").to_pandas().empty  # nobody opened yet


def test_features_the_same_on_duckdb_and_spark(duck: Dataset, spark: Dataset) -> None:
    period = "2026-09"
    t0 = time.perf_counter()
    on_duck = customer_features(duck, period).to_pandas()
    t1 = time.perf_counter()
    on_spark = customer_features(spark, period).to_pandas()
    t2 = time.perf_counter()
    print(f"customer_features {period}: duckdb {t1 - t0:.2f} s, spark {t2 - t1:.2f} s, {len(on_duck)} customers")
    assert len(on_duck) > 1000
    same_frame(on_duck, on_spark, ["account_no"])
