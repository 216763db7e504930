"""Customer segments by value and behaviour: one segment per customer as of the end of a period, by rules over the
customer features (insight.jobs.features), the first that holds in this order:

1. 欠费关注 (arrears_watch): two or more bills in arrears in 12 months, or a bill past its grace still unpaid.
   First because it decides what the contact centre must do (remind, collect) whatever else is true.
2. 服务敏感 (service_sensitive): a complaint or power-quality report in 12 months, or 6+ contacts: needs care.
3. 高价值稳定 (high_value_stable): 12-month billed amount in the top quarter of the customers (amount_top_percent
   <= 25), a customer for 3+ years, and no bill paid late in 12 months.
4. 电子渠道活跃 (e_channel_active): 3+ payments in 12 months, 80 %+ of them by app / WeChat / Alipay.
5. 价格敏感 (price_sensitive): 2+ questions about the bill, tariff, TOU or balance in 12 months.
6. 普通 (general): everyone else.

Rules, not k-means: each segment has a meaning an agent or a marketer can act on, the same customer gets the same
segment on DuckDB and Spark, and a threshold can be changed and explained. The conditions and reasons use the tag
rule language (insight.tag_rules), so they read like the tag rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
from ibis.expr.types import StringValue, Table

from insight.engine import Dataset
from insight.jobs.features import customer_features
from insight.tag_rules import compile_condition, compile_reason


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    when: str
    reason: str


SEGMENTS: tuple[Segment, ...] = (
    Segment(
        "arrears_watch",
        "欠费关注",
        "arrears_bills_12m >= 2 or unpaid_bills_12m >= 1",
        "近12个月欠费{arrears_bills_12m}次，未结清{unpaid_bills_12m}张",
    ),
    Segment(
        "service_sensitive",
        "服务敏感",
        "complaints_12m >= 1 or contacts_12m >= 6",
        "近12个月来电{contacts_12m}次，投诉{complaints_12m}次",
    ),
    Segment(
        "high_value_stable",
        "高价值稳定",
        "amount_top_percent <= 25 and tenure_months >= 36 and late_bills_12m == 0",
        "近12个月电费{amount_12m:.0f}元（前{amount_top_percent}%），开户{tenure_months}个月，按时缴费",
    ),
    Segment(
        "e_channel_active",
        "电子渠道活跃",
        "payments_12m >= 3 and e_payment_share_12m >= 0.8",
        "近12个月电子渠道缴费占{e_payment_share_12m:%}",
    ),
    Segment(
        "price_sensitive",
        "价格敏感",
        "billing_contacts_12m >= 2",
        "近12个月咨询电费电价{billing_contacts_12m}次",
    ),
)
GENERAL = Segment("general", "普通", "True", "无突出特征")


def segment_input(ds: Dataset, period: str) -> Table:
    """The customer features with amount_top_percent: the share of customers billed at least as much over 12
    months, in whole percent rounded up (1 for the top customer; ties alike on every engine)."""
    features = customer_features(ds, period)
    at_least_as_much = ibis.cume_dist().over(order_by=features.amount_12m.desc())
    return features.mutate(amount_top_percent=(at_least_as_much * 100).ceil().cast("int64"))


def customer_segments(ds: Dataset, period: str) -> Table:
    """One row per customer opened by the end of `period`: account_no, period, segment_id, segment, reason."""
    return assign_segments(segment_input(ds, period))


def assign_segments(t: Table) -> Table:
    """The first segment whose rule holds for each row of `t` (the columns of `segment_input`)."""
    cases = [(compile_condition(s.when, t).fill_null(False), s) for s in SEGMENTS]

    def first_holding(field: str, general: StringValue) -> StringValue:
        chosen: StringValue = ibis.cases(*[(holds, value(s, field, t)) for holds, s in cases], else_=general)
        return chosen

    return t.select(
        "account_no",
        "period",
        segment_id=first_holding("id", ibis.literal(GENERAL.id)),
        segment=first_holding("name", ibis.literal(GENERAL.name)),
        reason=first_holding("reason", ibis.literal(GENERAL.reason)),
    )


def segment_profile(ds: Dataset, period: str) -> Table:
    """Per segment: customers, share, and the mean 12-month amount, contacts, complaints, bills in arrears and
    e-payment share: what the segment looks like."""
    seg = customer_segments(ds, period)
    t = segment_input(ds, period).select(
        "account_no", "amount_12m", "contacts_12m", "complaints_12m", "arrears_bills_12m", "e_payment_share_12m"
    )
    joined = seg.inner_join(t, "account_no")
    profile = joined.group_by(["segment_id", "segment"]).aggregate(
        customers=joined.count(),
        mean_amount_12m=joined.amount_12m.mean(),
        mean_contacts_12m=joined.contacts_12m.mean(),
        mean_complaints_12m=joined.complaints_12m.mean(),
        mean_arrears_bills_12m=joined.arrears_bills_12m.mean(),
        mean_e_payment_share_12m=joined.e_payment_share_12m.mean(),
    )
    return profile.mutate(share=profile.customers / profile.customers.sum().over())


def value(segment: Segment, field: str, table: Table) -> StringValue:
    if field == "reason":
        return compile_reason(segment.reason, table)
    text: StringValue = ibis.literal(getattr(segment, field))
    return text
