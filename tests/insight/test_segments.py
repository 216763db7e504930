"""Segments: the rules and their order on hand-made rows and on the tiny history, the empty period, a plausible
profile on the generated history, and the same segments on DuckDB and Spark."""

from __future__ import annotations

import time
from typing import Any

import ibis
import pandas as pd
import pytest

from insight.engine import Dataset, open_dataset
from insight.jobs.segments import SEGMENTS, assign_segments, customer_segments, segment_profile
from tests.insight.conftest import same_frame
from tests.insight.test_features import TINY_PERIOD, write_tiny_history

PLAIN = {
    "period": "2026-06", "arrears_bills_12m": 0, "unpaid_bills_12m": 0, "complaints_12m": 0, "contacts_12m": 1,
    "amount_12m": 900.0, "amount_top_percent": 60, "tenure_months": 100, "late_bills_12m": 0, "payments_12m": 12,
    "e_payment_share_12m": 0.5, "billing_contacts_12m": 0,
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: Any) -> Dataset:
    return open_dataset(write_tiny_history(tmp_path_factory.mktemp("tiny_segments")), "duckdb")


def test_the_rules_in_their_order() -> None:
    rows: dict[str, dict[str, Any]] = {
        "arrears_and_complaints": {"arrears_bills_12m": 2, "complaints_12m": 3, "contacts_12m": 9},
        "one_unpaid": {"unpaid_bills_12m": 1, "arrears_bills_12m": 1},
        "complains_and_rich": {"complaints_12m": 1, "amount_top_percent": 5},
        "calls_often": {"contacts_12m": 6},
        "rich_and_online": {"amount_top_percent": 25, "amount_12m": 3210.4, "e_payment_share_12m": 1.0},
        "rich_but_new": {"amount_top_percent": 3, "tenure_months": 35, "e_payment_share_12m": 0.9},
        "rich_but_late": {"amount_top_percent": 3, "late_bills_12m": 1, "billing_contacts_12m": 2},
        "few_payments_online": {"payments_12m": 2, "e_payment_share_12m": 1.0},
        "online_unknown": {"payments_12m": 0, "e_payment_share_12m": None},
        "plain": {},
    }
    table = ibis.memtable(pd.DataFrame([{"account_no": k, **PLAIN, **v} for k, v in rows.items()]))
    got = assign_segments(table).to_pandas().set_index("account_no")
    assert got.segment.to_dict() == {
        "arrears_and_complaints": "欠费关注",
        "one_unpaid": "欠费关注",
        "complains_and_rich": "服务敏感",
        "calls_often": "服务敏感",
        "rich_and_online": "高价值稳定",
        "rich_but_new": "电子渠道活跃",
        "rich_but_late": "价格敏感",
        "few_payments_online": "普通",
        "online_unknown": "普通",
        "plain": "普通",
    }
    assert got.reason["rich_and_online"] == "近12个月电费3210元（前25%），开户100个月，按时缴费"
    assert got.reason["arrears_and_complaints"] == "近12个月欠费2次，未结清0张"
    assert got.segment_id["plain"] == "general" and len({s.id for s in SEGMENTS}) == len(SEGMENTS)


def test_segments_of_the_tiny_history(tiny: Dataset) -> None:
    got = customer_segments(tiny, TINY_PERIOD).to_pandas().set_index("account_no")
    assert got.segment.to_dict() == {"C1": "欠费关注", "C2": "电子渠道活跃", "C4": "普通", "C5": "普通"}
    assert got.reason.to_dict()["C1"] == "近12个月欠费2次，未结清1张"
    assert got.reason.to_dict()["C2"] == "近12个月电子渠道缴费占86%"
    profile = segment_profile(tiny, TINY_PERIOD).to_pandas().set_index("segment_id")
    assert profile.customers.to_dict() == {"arrears_watch": 1, "e_channel_active": 1, "general": 2}
    assert profile.share.sum() == pytest.approx(1.0) and profile.mean_amount_12m["general"] == 0


def test_an_empty_period_gives_no_segments(tiny: Dataset) -> None:
    assert customer_segments(tiny, "2019-01").to_pandas().empty
    assert segment_profile(tiny, "2019-01").to_pandas().empty


def test_segments_the_same_on_duckdb_and_spark(duck: Dataset, spark: Dataset) -> None:
    timings, results = {}, {}
    for name, ds in (("duckdb", duck), ("spark", spark)):
        t0 = time.perf_counter()
        results[name] = (customer_segments(ds, "2026-09").to_pandas(), segment_profile(ds, "2026-09").to_pandas())
        timings[name] = time.perf_counter() - t0
    print("customer_segments + segment_profile: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    (segments, profile), (spark_segments, spark_profile) = results["duckdb"], results["spark"]
    same_frame(segments, spark_segments, ["account_no"])
    same_frame(profile, spark_profile, ["segment_id"])
    by_id = profile.set_index("segment_id")
    assert set(by_id.index) == {s.id for s in SEGMENTS} | {"general"}  # every segment has customers
    assert by_id.mean_amount_12m["high_value_stable"] > 1.5 * by_id.mean_amount_12m["general"]
    assert by_id.mean_arrears_bills_12m.idxmax() == "arrears_watch"
    assert by_id.mean_complaints_12m.drop("arrears_watch").idxmax() == "service_sensitive"
    assert by_id.share.max() < 0.5  # no segment swallows the customers
