"""The arrears-risk examples: per customer billed in a target period, what was known of them when the period began
(the features) and whether that period's bill fell into arrears (the label).

When things are known (the leakage rule, one place: `features_as_of`):
- features are taken as of the last day of the month before the target period (`as_of`);
- a bill's kwh and amount are known once its billing month is over (the month-end read), so the history is the
  periods target-24 .. target-1;
- a bill's arrears status only once its due date plus the grace has passed (`bill_status(…, as_of)`), payments
  only from the day they were made, contacts from the moment they started;
- the target period's own bill only says who is in the population (its amount is not known yet).
The label is `bill_status` of the target bill as of `label_as_of` (default: the last payment day in the dataset);
a bill whose grace has not passed by then has a null label (not known yet: score it, do not train on it).
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.expr.types import BooleanValue, NumericValue, Table

from insight.engine import Dataset
from insight.jobs.bills import bill_status
from insight.periods import ARREARS_GRACE_DAYS, end, shift, start

# The model's feature schema: names and order (a model file records it; one built on others is refused).
FEATURES: tuple[str, ...] = (
    "arrears_last",  # the latest bill whose status is known was in arrears: the baseline on its own
    "unpaid_last_due",  # the latest bill past its due date is not settled (its grace may not be over yet)
    "days_late_last",  # that bill's days late, or days overdue so far
    "arrears_3m",
    "arrears_6m",
    "arrears_12m",
    "arrears_24m",
    "unpaid_6m",  # bills of the last 6 periods past their due date and not settled
    "partial_6m",  # bills of the last 6 periods paid in part only
    "days_late_mean",
    "days_late_max",
    "days_late_trend",  # mean days late over the last 6 periods minus over the 18 before
    "unpaid_amount",  # owed on bills past their grace, as of the cut-off
    "echannel_share",  # of the payments in the last 12 months: app / wechat / alipay
    "kwh_change",  # last 3 periods' kwh over the same 3 a year before, minus 1 (an income-shock proxy)
    "kwh_change_1m",  # the same for the last period alone
    "bill_amount",  # mean amount of the last 3 periods
    "amount_ratio",  # bill_amount over the mean amount of the whole history (a seasonal peak)
    "months_billed",
    "prepaid",
    "low_income",
    "contacts_bill_6m",  # bill questions and payment how-tos in the last 6 months
    "contacts_arrears_6m",  # balance, arrears and reconnection contacts in the last 6 months
)
BILL_FUNCTIONS = ("bill_query", "payment", "invoice")
ARREARS_FUNCTIONS = ("balance_query", "arrears_reconnect")
E_CHANNELS = ("app", "wechat", "alipay")
LATE_CAP_DAYS = 90
KEYS = ("account_no", "target_period")
LABEL = "arrears_next"


def features_as_of(target_period: str) -> dt.date:
    """The day a target period's features are taken: the last day of the month before it."""
    return end(shift(target_period, -1))


def data_horizon(ds: Dataset) -> dt.date | None:
    """The last day the dataset knows of (its latest payment); None for a dataset without payments."""
    value = ds["payments"].paid_on.max().execute()
    return None if value is None or value != value else _as_date(value)


def risk_examples(
    ds: Dataset, target_period: str, history_months: int = 24, label_as_of: dt.date | None = None
) -> Table:
    """One row per customer with a bill in `target_period`: KEYS, FEATURES (no nulls) and LABEL (null: not known
    by `label_as_of`)."""
    as_of = features_as_of(target_period)
    first, last = shift(target_period, -history_months), shift(target_period, -1)
    cut = ibis.literal(as_of)

    # `bill_status` over the payments known by the cut-off: for bills past their grace exactly
    # `bill_status(ds, as_of)`; for bills still within grace it says whether they are settled yet.
    known_pays = ds["payments"].filter(ds["payments"].paid_on <= cut)
    status = bill_status(Dataset(ds.engine, ds.backend, {**ds.tables, "payments": known_pays}))
    hist = status.filter(status.period.between(first, last))
    known = hist.due_date + ibis.interval(days=ARREARS_GRACE_DAYS) <= cut
    arrears = known & hist.in_arrears
    # an unsettled bill counts as late by the days since its due date, up to a cap: an old unpaid bill should
    # not outweigh the rest of the history in the mean
    late = hist.days_late.fill_null(cut.delta(hist.due_date, unit="day")).clip(upper=LATE_CAP_DAYS).cast("float64")
    recent = hist.period >= shift(target_period, -6)
    past_due = hist.due_date < cut
    unsettled = hist.settled_on.isnull()
    bills_hist = ds["bills"].filter(ds["bills"].period.between(first, last))
    last3 = bills_hist.period >= shift(target_period, -3)
    year_before = bills_hist.period.between(shift(target_period, -15), shift(target_period, -13))

    per_bill = hist.group_by("account_no").aggregate(
        arrears_last=_int(hist.in_arrears).argmax(hist.period, where=known),
        unpaid_last_due=_int(unsettled).argmax(hist.period, where=past_due),
        days_late_last=late.argmax(hist.period, where=past_due),
        **{f"arrears_{m}m": _count(arrears & (hist.period >= shift(target_period, -m))) for m in (3, 6, 12, 24)},
        days_late_mean=late.mean(where=known),
        days_late_max=late.max(where=known),
        late_recent=late.mean(where=known & recent),
        late_earlier=late.mean(where=known & ~recent),
        unpaid_6m=_count(past_due & unsettled & recent),
        partial_6m=_count(unsettled & (hist.paid_amount > 0) & recent),
        unpaid_amount=(hist.amount - hist.paid_amount).sum(where=known & unsettled),
    )
    per_kwh = bills_hist.group_by("account_no").aggregate(
        kwh_now=bills_hist.kwh.sum(where=last3),
        kwh_before=bills_hist.kwh.sum(where=year_before),
        kwh_last=bills_hist.kwh.sum(where=bills_hist.period == last),
        kwh_last_before=bills_hist.kwh.sum(where=bills_hist.period == shift(target_period, -13)),
        bill_amount=bills_hist.amount.mean(where=last3),
        amount_mean=bills_hist.amount.mean(),
        months_billed=bills_hist.count(),
    )
    pays = known_pays.filter(known_pays.paid_on > ibis.literal(end(shift(target_period, -13))))
    per_pay = pays.group_by("account_no").aggregate(
        echannel_share=_int(pays.channel.isin(E_CHANNELS)).mean(),
    )
    contacts = ds["contacts"]
    window = contacts.filter(
        (contacts.started_at >= ibis.literal(_midnight(start(shift(target_period, -6)))))
        & (contacts.started_at < ibis.literal(_midnight(start(target_period))))
    )
    per_contact = window.group_by("account_no").aggregate(
        contacts_bill_6m=_count(window.function.isin(BILL_FUNCTIONS)),
        contacts_arrears_6m=_count(window.function.isin(ARREARS_FUNCTIONS)),
    )

    target = ds["bills"].filter(ds["bills"].period == target_period).select("account_no").distinct()
    labels = _labels(ds, target_period, label_as_of)
    cust = ds["customers"]
    rows = (
        target.left_join(per_bill, "account_no")
        .left_join(per_kwh, "account_no")
        .left_join(per_pay, "account_no")
        .left_join(per_contact, "account_no")
        .left_join(cust.select("account_no", "prepaid", "low_income"), "account_no")
        .left_join(labels, "account_no")
    )
    zero = ibis.literal(0.0)
    trend = (rows.late_recent - rows.late_earlier).fill_null(zero)
    change = (rows.kwh_now / rows.kwh_before.nullif(zero) - 1.0).clip(-1.0, 5.0).fill_null(zero)
    change_1m = (rows.kwh_last / rows.kwh_last_before.nullif(zero) - 1.0).clip(-1.0, 5.0).fill_null(zero)
    ratio = (rows.bill_amount / rows.amount_mean.nullif(zero)).fill_null(1.0)
    values: dict[str, NumericValue] = {
        "arrears_last": rows.arrears_last,
        "unpaid_last_due": rows.unpaid_last_due,
        "days_late_last": rows.days_late_last,
        **{f"arrears_{m}m": rows[f"arrears_{m}m"] for m in (3, 6, 12, 24)},
        "unpaid_6m": rows.unpaid_6m,
        "partial_6m": rows.partial_6m,
        "days_late_mean": rows.days_late_mean,
        "days_late_max": rows.days_late_max,
        "days_late_trend": trend,
        "unpaid_amount": rows.unpaid_amount,
        "echannel_share": rows.echannel_share,
        "kwh_change": change,
        "kwh_change_1m": change_1m,
        "bill_amount": rows.bill_amount,
        "amount_ratio": ratio,
        "months_billed": rows.months_billed,
        "prepaid": _int(rows.prepaid),
        "low_income": _int(rows.low_income),
        "contacts_bill_6m": rows.contacts_bill_6m,
        "contacts_arrears_6m": rows.contacts_arrears_6m,
    }
    assert tuple(values) == FEATURES  # the order the model is trained in
    return rows.select(
        rows.account_no,
        target_period=ibis.literal(target_period),
        **{name: v.cast("float64").fill_null(0.0) for name, v in values.items()},
        arrears_next=rows.arrears_next,
    )


def _labels(ds: Dataset, target_period: str, label_as_of: dt.date | None) -> Table:
    horizon = label_as_of or data_horizon(ds) or features_as_of(target_period)
    status = bill_status(ds, as_of=horizon)
    status = status.filter(status.period == target_period)
    # one bill per customer and period is the norm; should a period carry two, any in arrears counts
    return status.group_by("account_no").aggregate(arrears_next=status.in_arrears.any())


def _int(value: BooleanValue) -> NumericValue:
    return value.cast("int32")


def _count(value: BooleanValue) -> NumericValue:
    return value.cast("int64").sum()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    import pandas as pd

    day: dt.date = pd.Timestamp(value).date()
    return day
