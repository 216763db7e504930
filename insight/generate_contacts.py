"""One chunk of customers' contacts with the hotline: after the outages they live through, around their arrears,
and at rates set by their latent propensities (complainers, solar, prepaid, poor-quality 台区...)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from insight.generate_grid import FAULT, Grid
from insight.generate_history import Billing, pick_by_segment, segment
from insight.generate_latent import Calendar, Dates, FloatArray, IntArray, Latent, Params, Shocks
from insight.generate_population import Population, StrArray

CONTACT_CHANNELS = np.array(["phone", "chat", "wechat", "app"])
CONTACT_CHANNEL_SHARES = [  # by segment: e-channel preferring, elderly (not e-channel), the others
    (0.15, 0.15, 0.35, 0.35),
    (0.88, 0.02, 0.10, 0.0),
    (0.65, 0.05, 0.25, 0.05),
]
HOUR_WEIGHTS = np.array([1, 0, 0, 0, 0, 1, 2, 4, 8, 10, 10, 9, 6, 7, 8, 8, 7, 6, 6, 7, 7, 5, 3, 2], dtype=float)
# functions that follow a bill: asked about in the month after the period
AFTER_THE_BILL = ("bill_query", "payment", "arrears_reconnect")


def monthly_rates(
    pop: Population, latent: Latent, shocks: Shocks, billing: Billing, grid: Grid, params: Params
) -> dict[str, FloatArray]:
    """Expected contacts per customer-month, by catalog function."""
    r = params.monthly_contact_rates
    overdue = billing.overdue.astype(float)
    drifting = (shocks.lead_step > 0).astype(float)
    prepaid = pop.prepaid[:, None]
    poor_tq = np.where(pop.tq >= 0, grid.poor_quality_tq[np.maximum(pop.tq, 0)], False)[:, None].astype(float)
    overdue_before = np.concatenate([np.zeros((len(pop), 1)), overdue[:, :-1]], axis=1)
    cut_off = np.where(prepaid, 0.35 * overdue, 0.15 * overdue * overdue_before)  # postpaid: cut after 2 months
    t2 = params.tariff_tiers_kwh[1]
    ones = np.ones_like(overdue)
    return {
        "bill_query": r["bill_query"] + 0.12 * overdue + 0.08 * drifting + 0.02 * (billing.kwh > t2),
        "payment": r["payment"] + 0.08 * overdue + 0.05 * billing.late,
        "arrears_reconnect": cut_off,
        "balance_query": np.where(prepaid, r["balance_query"] + 0.1 * overdue, 0.0),
        "tariff_query": r["tariff_query"] + 0.01 * (billing.kwh > t2),
        "meter_issue": r["meter_issue"] * ones,
        "complaint": r["complaint"]
        + r["complaint_complainer"] * latent.complainer[:, None]
        + r["complaint_poor_tq"] * poor_tq,
        "power_quality": r["power_quality_poor_tq"] * poor_tq,
        "solar_pv": np.where(pop.solar[:, None], r["solar_pv"], 0.0) * ones,
        "low_income_subsidy": np.where(pop.low_income[:, None], r["low_income_subsidy"], 0.0) + 0.02 * shocks.in_shock,
    }


def _within_month(cal: Calendar, month: IntArray, rng: np.random.Generator) -> Dates:
    days = (cal.month_start(month + 1) - cal.month_start(month)).astype(np.int64)
    day = (rng.random(len(month)) * days).astype(np.int64)
    hour = rng.choice(24, size=len(month), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = day * 86_400 + hour * 3600 + rng.integers(0, 3600, len(month))
    return np.asarray(cal.month_start(month).astype("datetime64[s]") + seconds.astype("timedelta64[s]"))


def _rate_contacts(
    rates: dict[str, FloatArray], billing: Billing, cal: Calendar, rng: np.random.Generator
) -> tuple[IntArray, Dates, list[str], IntArray]:
    customers, times, functions, counts = [], [], [], []
    for function, rate in rates.items():
        drawn = rng.poisson(np.where(billing.active, rate, 0.0))
        c, m = np.nonzero(drawn)
        reps = drawn[c, m]
        c, m = np.repeat(c, reps), np.repeat(m, reps)
        month = m + 1 if function in AFTER_THE_BILL else m
        customers.append(c)
        times.append(_within_month(cal, month, rng))
        functions.append(function)
        counts.append(len(c))
    return np.concatenate(customers), np.concatenate(times), functions, np.array(counts)


def _outage_contacts(
    pop: Population, latent: Latent, grid: Grid, params: Params, rng: np.random.Generator
) -> tuple[IntArray, Dates, StrArray]:
    """Calls from the customers an outage hits: the outage-sensitive far more often; complainers after long faults."""
    order = np.argsort(pop.tq, kind="stable")
    sorted_tq = pop.tq[order]
    lo = np.searchsorted(sorted_tq, grid.affected_tq, "left")
    hi = np.searchsorted(sorted_tq, grid.affected_tq, "right")
    counts = hi - lo
    outage = np.repeat(grid.affected_outage, counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    customer = order[np.repeat(lo, counts) + offset]
    start = grid.start[outage]
    duration = grid.duration_min[outage]
    fault = grid.kind[outage] == FAULT
    live = pop.opened[customer] <= start.astype("datetime64[D]")
    sensitive = latent.outage_sensitive[customer]
    fault_p, planned_p = params.call_after_fault, params.call_after_planned
    p = np.where(fault, np.where(sensitive, fault_p[0], fault_p[1]), np.where(sensitive, planned_p[0], planned_p[1]))
    p = p * np.where(duration > 240, 1.5, 1.0)
    calls = live & (rng.random(len(outage)) < p)
    delay = np.minimum(rng.exponential(25 * 60, len(outage)), duration * 60.0).astype(np.int64)
    repair = fault & (rng.random(len(outage)) < 0.55)
    complains = live & fault & (duration > 180) & latent.complainer[customer] & (rng.random(len(outage)) < 0.25)
    after = (duration * 60 + rng.exponential(6 * 3600, len(outage))).astype(np.int64)
    at = start + np.where(calls, delay, after).astype("timedelta64[s]")
    function = np.where(repair, "fault_repair", "outage_query")
    keep = calls | complains
    function = np.where(calls, function, "complaint")
    # a complainer who also called about it complains afterwards too: add those rows
    both = calls & complains
    c = np.concatenate([customer[keep], customer[both]])
    t = np.concatenate([at[keep], (start + after.astype("timedelta64[s]"))[both]])
    f = np.concatenate([function[keep], np.full(both.sum(), "complaint")])
    return c.astype(np.int64), t, f


def contacts(
    pop: Population,
    latent: Latent,
    shocks: Shocks,
    billing: Billing,
    grid: Grid,
    params: Params,
    cal: Calendar,
    rng: np.random.Generator,
) -> pa.Table:
    """The chunk's contacts, without ids (the caller numbers them across chunks), ordered by time."""
    rates = monthly_rates(pop, latent, shocks, billing, grid, params)
    rc, rt, names, counts = _rate_contacts(rates, billing, cal, rng)
    rf = np.repeat(np.array(names), counts)
    oc, ot, of = _outage_contacts(pop, latent, grid, params, rng)
    customer = np.concatenate([rc, oc])
    at = np.concatenate([rt, ot]).astype("datetime64[us]")
    function = np.concatenate([rf, of])
    keep = (at >= pop.opened[customer].astype("datetime64[us]")) & (at < (cal.as_of + 1).astype("datetime64[us]"))
    customer, at, function = customer[keep], at[keep], function[keep]
    order = np.lexsort((customer, at))
    customer, at, function = customer[order], at[order], function[order]
    channel = CONTACT_CHANNELS[pick_by_segment(segment(latent)[customer], CONTACT_CHANNEL_SHARES, rng)]
    return pa.table(
        {
            "account_no": pa.array(pop.account_no).take(pa.array(customer)),
            "started_at": pa.array(at),
            "channel": channel,
            "function": function,
        }
    )
