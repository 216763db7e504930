"""One row per customer as of the end of a billing period: what the tag rules, segments and models read.

Every count covers the 12 billing periods ending with `period` (the `_12m` columns) and only what was known by the
period's last day: contacts started and payments made by then, bills whose due date plus grace has passed for the
payment behaviour (through `bill_status`, the one home of lateness and arrears). Consumption (kwh, amount) reads
the bills of those 12 periods: a period's bill measures consumption that happened within it.
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.expr.types import Table

from insight.engine import Dataset
from insight.jobs.bills import bill_status
from insight.periods import end, shift, start

WINDOW_MONTHS = 12
COMPLAINT_FUNCTIONS = ("complaint", "power_quality")
OUTAGE_FUNCTIONS = ("outage_query", "fault_repair")
BILLING_FUNCTIONS = ("bill_query", "tariff_query", "tou_apply", "balance_query")
ELECTRONIC_PAYMENT_CHANNELS = ("app", "wechat", "alipay")
ELECTRONIC_CONTACT_CHANNELS = ("chat", "wechat", "app")
SUMMER_MONTHS = ("06", "07", "08")
WINTER_MONTHS = ("12", "01", "02")

COUNT_COLUMNS = (
    "contacts_12m",
    "phone_contacts_12m",
    "electronic_contacts_12m",
    "complaints_12m",
    "outage_contacts_12m",
    "billing_contacts_12m",
    "payments_12m",
    "e_payments_12m",
    "bills_12m",
    "late_bills_12m",
    "arrears_bills_12m",
    "unpaid_bills_12m",
    "max_days_late_12m",
)


def customer_features(ds: Dataset, period: str) -> Table:
    """Customers opened by the end of `period`, one row each (account_no, period, the columns below).

    contacts_12m, phone_contacts_12m, electronic_contacts_12m (chat/wechat/app), complaints_12m (complaint or
    power_quality), outage_contacts_12m (outage_query or fault_repair), billing_contacts_12m (bill, tariff, TOU,
    balance questions); payments_12m, e_payments_12m, e_payment_share_12m (app/wechat/alipay; null without
    payments); bills_12m (past their grace), late_bills_12m (settled after the due date or still unsettled),
    arrears_bills_12m, unpaid_bills_12m, max_days_late_12m (unsettled bills count the days to the period end);
    kwh_12m, amount_12m, summer_winter_ratio (mean monthly kwh Jun-Aug over Dec-Feb; null without both);
    prepaid, solar, low_income, age, tenure_months, area_code, line_code, tq_code.
    """
    first, until = shift(period, -(WINDOW_MONTHS - 1)), end(period)
    since_ts = ibis.literal(dt.datetime.combine(start(first), dt.time()))
    until_ts = ibis.literal(dt.datetime.combine(start(shift(period, 1)), dt.time()))
    since_day, until_day = ibis.literal(start(first)), ibis.literal(until)

    customers = ds["customers"]
    customers = customers.filter(customers.opened <= until_day)

    contacts = ds["contacts"]
    contacts = contacts.filter(contacts.started_at >= since_ts, contacts.started_at < until_ts)
    contact_counts = contacts.group_by("account_no").aggregate(
        contacts_12m=contacts.count(),
        phone_contacts_12m=(contacts.channel == "phone").sum(),
        electronic_contacts_12m=contacts.channel.isin(ELECTRONIC_CONTACT_CHANNELS).sum(),
        complaints_12m=contacts.function.isin(COMPLAINT_FUNCTIONS).sum(),
        outage_contacts_12m=contacts.function.isin(OUTAGE_FUNCTIONS).sum(),
        billing_contacts_12m=contacts.function.isin(BILLING_FUNCTIONS).sum(),
    )

    pays = ds["payments"]
    pays = pays.filter(pays.paid_on >= since_day, pays.paid_on <= until_day)
    payment_counts = pays.group_by("account_no").aggregate(
        payments_12m=pays.count(), e_payments_12m=pays.channel.isin(ELECTRONIC_PAYMENT_CHANNELS).sum()
    )

    status = bill_status(ds, as_of=until)
    status = status.filter(status.period >= first, status.period <= period)
    days_late_now = status.days_late.fill_null(until_day.delta(status.due_date, unit="day"))
    bill_behaviour = status.group_by("account_no").aggregate(
        bills_12m=status.count(),
        late_bills_12m=(days_late_now > 0).sum(),
        arrears_bills_12m=status.in_arrears.sum(),
        unpaid_bills_12m=status.settled_on.isnull().sum(),
        max_days_late_12m=ibis.greatest(days_late_now.max(), 0),
    )

    bills = ds["bills"]
    bills = bills.filter(bills.period >= first, bills.period <= period)
    month = bills.period[5:7]
    consumption = bills.group_by("account_no").aggregate(
        kwh_12m=bills.kwh.sum(),
        amount_12m=bills.amount.sum(),
        summer_kwh=bills.kwh.mean(where=month.isin(SUMMER_MONTHS)),
        winter_kwh=bills.kwh.mean(where=month.isin(WINTER_MONTHS)),
    )

    joined = (
        customers.left_join(contact_counts, "account_no")
        .left_join(payment_counts, "account_no")
        .left_join(bill_behaviour, "account_no")
        .left_join(consumption, "account_no")
    )
    year, month_no = int(period[:4]), int(period[5:7])
    counts = {name: joined[name].fill_null(0).cast("int64") for name in COUNT_COLUMNS}
    return joined.select(
        joined.account_no,
        period=ibis.literal(period),
        **counts,
        e_payment_share_12m=(counts["payments_12m"] > 0).ifelse(
            counts["e_payments_12m"].cast("float64") / counts["payments_12m"].nullif(0), ibis.null("float64")
        ),
        kwh_12m=joined.kwh_12m.fill_null(0.0),
        amount_12m=joined.amount_12m.fill_null(0.0),
        summer_winter_ratio=(joined.summer_kwh / joined.winter_kwh.nullif(0.0)).cast("float64"),
        prepaid=joined.prepaid,
        solar=joined.solar,
        low_income=joined.low_income,
        age=(year - joined.birth_year).cast("int64"),
        tenure_months=(year * 12 + month_no - joined.opened.year() * 12 - joined.opened.month()).cast("int64"),
        area_code=joined.area_code,
        line_code=joined.line_code,
        tq_code=joined.tq_code,
    )
