"""Each bill's payment status: when it was settled, how late, and whether it fell into arrears."""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.expr.types import Table

from insight.engine import Dataset
from insight.periods import ARREARS_GRACE_DAYS

SETTLED_TOLERANCE = 0.01  # yuan: rounding in partial payments


def bill_status(ds: Dataset, as_of: dt.date | None = None) -> Table:
    """One row per bill known by `as_of` (due date plus grace passed): settled_on (the last payment, when the
    payments add up to the amount), days_late (settled_on - due_date; null if unsettled), in_arrears (unsettled or
    settled after the grace). Payments made after `as_of` are not yet known."""
    bills, pays = ds["bills"], ds["payments"]
    if as_of is not None:
        pays = pays.filter(pays.paid_on <= ibis.literal(as_of))
        bills = bills.filter(bills.due_date + ibis.interval(days=ARREARS_GRACE_DAYS) <= ibis.literal(as_of))
    paid = pays.group_by(["account_no", "period"]).aggregate(
        paid_amount=pays.amount.sum(), last_paid_on=pays.paid_on.max()
    )
    joined = bills.left_join(paid, ["account_no", "period"]).select(
        bills.account_no,
        bills.period,
        bills.amount,
        bills.due_date,
        paid_amount=paid.paid_amount.fill_null(0.0),
        last_paid_on=paid.last_paid_on,
    )
    settled = joined.paid_amount >= joined.amount - SETTLED_TOLERANCE
    settled_on = settled.ifelse(joined.last_paid_on, ibis.null("date"))
    days_late = settled_on.delta(joined.due_date, unit="day")
    return joined.mutate(
        settled_on=settled_on,
        days_late=days_late,
        in_arrears=settled_on.isnull() | (days_late > ARREARS_GRACE_DAYS),
    ).drop("last_paid_on")
