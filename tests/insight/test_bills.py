"""Bill status (settled when, how late, in arrears) by hand on a few bills, and the same on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt

from insight.engine import Dataset
from insight.jobs.bills import bill_status
from insight.periods import ARREARS_GRACE_DAYS, shift, span
from tests.insight.conftest import same_frame


def test_period_arithmetic() -> None:
    assert shift("2026-01", -1) == "2025-12" and shift("2025-12", 13) == "2027-01"
    assert span("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_bill_status_agrees_with_the_payments(dataset: Dataset) -> None:
    status = bill_status(dataset).to_pandas()
    bills = dataset["bills"].to_pandas()
    pays = dataset["payments"].to_pandas()
    assert len(status) == len(bills)
    sums = pays.groupby(["account_no", "period"]).amount.sum()
    for row in status.sample(200, random_state=1).itertuples():
        paid = float(sums.get((row.account_no, row.period), 0.0))
        settled = paid >= row.amount - 0.01
        assert settled == (not _null(row.settled_on)), row
        if settled:
            assert row.in_arrears == (row.days_late > ARREARS_GRACE_DAYS)
        else:
            assert row.in_arrears
    assert 0 < status.in_arrears.mean() < 0.5  # some, not most


def test_payments_after_the_cut_off_are_not_yet_known(duck: Dataset) -> None:
    cut = dt.date(2025, 6, 30)
    status = bill_status(duck, as_of=cut).to_pandas()
    assert (status.due_date + dt.timedelta(days=ARREARS_GRACE_DAYS) <= pd_date(cut)).all()
    assert status.settled_on.dropna().le(pd_date(cut)).all()


def test_the_same_on_duckdb_and_spark(duck: Dataset, spark: Dataset) -> None:
    cut = dt.date(2026, 3, 31)
    same_frame(bill_status(duck, cut).to_pandas(), bill_status(spark, cut).to_pandas(), ["account_no", "period"])


def _null(v: object) -> bool:
    import pandas as pd

    return bool(pd.isna(v))


def pd_date(d: dt.date) -> object:
    import pandas as pd

    return pd.Timestamp(d)
