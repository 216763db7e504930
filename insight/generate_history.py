"""One chunk of customers' bills, payments and meter reads, from their latent traits and income shocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from insight.generate_latent import BoolArray, Calendar, FloatArray, IntArray, Latent, Params, Shocks
from insight.generate_population import Population

SEASON = np.array([1.25, 1.15, 1.0, 0.9, 0.9, 1.1, 1.45, 1.5, 1.15, 0.9, 0.95, 1.15])  # by month of year
HEATING_SEASON = np.array([2.1, 1.9, 1.4, 1.0, 0.9, 1.1, 1.45, 1.5, 1.15, 0.95, 1.3, 1.9])
SOLAR_GRID_SHARE = np.array([0.6, 0.55, 0.5, 0.45, 0.4, 0.38, 0.4, 0.42, 0.45, 0.5, 0.55, 0.6])  # sun: less from grid
PAY_CHANNELS = np.array(["app", "wechat", "alipay", "bank", "counter"])
PAY_CHANNEL_SHARES = {  # by segment: e-channel preferring, elderly (not e-channel), the others
    "e_channel": (0.40, 0.35, 0.25, 0.0, 0.0),
    "elderly": (0.0, 0.10, 0.0, 0.35, 0.55),
    "other": (0.05, 0.30, 0.15, 0.30, 0.20),
}
GRACE_DAYS = 15


@dataclass
class Billing:
    """What the contacts depend on, per customer-month (n, months)."""

    active: BoolArray
    kwh: FloatArray
    overdue: BoolArray  # not settled within the grace after its due date (prepaid: after the month started)
    late: BoolArray  # settled after its due date, within the grace


def segment(latent: Latent) -> IntArray:
    """0 e-channel preferring, 1 elderly, 2 the others (the order of PAY_CHANNEL_SHARES)."""
    return np.where(latent.e_channel, 0, np.where(latent.elderly, 1, 2)).astype(np.int64)


def pick_by_segment(seg: IntArray, shares: Sequence[Sequence[float]], rng: np.random.Generator) -> IntArray:
    """One category per row, drawn with the shares of the row's segment."""
    cumulative = np.cumsum(np.array(shares), axis=1)
    u = rng.random(len(seg))
    picked = np.zeros(len(seg), dtype=np.int64)
    for s, row in enumerate(cumulative):
        rows = seg == s
        picked[rows] = np.searchsorted(row, u[rows], side="right")
    return np.minimum(picked, cumulative.shape[1] - 1)


def tariff(kwh: FloatArray, params: Params) -> FloatArray:
    t1, t2 = params.tariff_tiers_kwh
    p1, p2, p3 = params.tariff_yuan
    yuan = np.minimum(kwh, t1) * p1 + np.clip(kwh - t1, 0, t2 - t1) * p2 + np.maximum(kwh - t2, 0) * p3
    return np.asarray(np.round(yuan, 2))


def use_kwh(
    pop: Population, latent: Latent, shocks: Shocks, params: Params, cal: Calendar, rng: np.random.Generator
) -> FloatArray:
    moy = cal.month_of_year
    season = np.where(latent.electric_heating[:, None], HEATING_SEASON[moy][None, :], SEASON[moy][None, :])
    solar = np.where(pop.solar[:, None], SOLAR_GRID_SHARE[moy][None, :], 1.0)
    hardship = np.where(shocks.in_shock, params.shock_use_factor, np.where(shocks.lead_step > 0, 0.9, 1.0))
    noise = rng.gamma(20.0, 1 / 20.0, size=shocks.in_shock.shape)
    return np.asarray(np.maximum(np.round(latent.base_kwh[:, None] * season * solar * hardship * noise, 1), 5.0))


def bills_and_reads(
    pop: Population, latent: Latent, shocks: Shocks, params: Params, cal: Calendar, rng: np.random.Generator
) -> tuple[pa.Table, pa.Table, BoolArray, FloatArray, FloatArray]:
    n, months = shocks.in_shock.shape
    active = pop.opened[:, None] <= cal.ends[None, :]
    kwh = use_kwh(pop, latent, shocks, params, cal, rng)
    amount = tariff(kwh, params)
    tenths = np.where(active, np.round(kwh * 10).astype(np.int64), 0)
    initial = np.where(pop.opened < cal.starts[0], rng.integers(0, 300_000, n), 0)
    reading = (initial[:, None] + np.cumsum(tenths, axis=1)) / 10.0
    c, m = np.nonzero(active)
    accounts, periods = pa.array(pop.account_no), pa.array(cal.periods)
    bills = pa.table(
        {
            "account_no": accounts.take(pa.array(c)),
            "period": periods.take(pa.array(m)),
            "kwh": kwh[c, m],
            "amount": amount[c, m],
            "due_date": pa.array(cal.due[m]),
        }
    )
    reads = pa.table(
        {"account_no": accounts.take(pa.array(c)), "read_on": pa.array(cal.ends[m]), "reading_kwh": reading[c, m]}
    )
    return bills, reads, active, kwh, amount


def days_after_reference(latent: Latent, shocks: Shocks, params: Params, rng: np.random.Generator) -> IntArray:
    """When each bill would be paid, in days after its reference date, by habit and lead-in drift."""
    shape = shocks.in_shock.shape
    habit = latent.habit[:, None]
    late = rng.random(shape) < np.array(params.late_probability)[habit]
    early = -rng.integers(0, 13, shape)
    late_days = np.select(
        [habit == 0, habit == 1],
        [rng.integers(1, 6, shape), rng.geometric(1 / 8, shape)],
        3 + np.round(rng.gamma(2.0, 5.0, shape)).astype(np.int64),  # mostly within the grace: late, not in arrears
    )
    days = np.where(late, late_days, early)
    drift = shocks.lead_step * params.lead_in_days_per_month + np.where(
        shocks.lead_step > 0, rng.integers(0, 6, shape), 0
    )
    return np.asarray(np.where(shocks.lead_step > 0, np.maximum(days, 0) + drift, days))


def payments(
    pop: Population,
    latent: Latent,
    shocks: Shocks,
    params: Params,
    cal: Calendar,
    active: BoolArray,
    amount: FloatArray,
    rng: np.random.Generator,
) -> tuple[pa.Table, BoolArray, BoolArray]:
    """One row per payment: a bill paid on time or late, in two parts (lead-in), very late or never (shock), or
    caught up after its shock. Payments after as_of do not exist yet. Prepaid customers top up relative to the
    start of the month they are using, postpaid ones pay relative to the due date."""
    shape = active.shape
    reference = np.where(pop.prepaid[:, None], cal.starts[None, :], cal.due[None, :])
    days = days_after_reference(latent, shocks, params, rng)
    unpaid = shocks.in_shock & (rng.random(shape) < params.shock_unpaid_probability)
    if shocks.never_paid is not None:
        unpaid |= shocks.never_paid
    days = np.where(shocks.in_shock & ~unpaid, rng.integers(45, 121, shape), days)
    first_on = reference + days.astype("timedelta64[D]")
    partial = (shocks.lead_step > 0) & (rng.random(shape) < params.lead_in_partial_probability) & ~unpaid
    first_amount = np.where(partial, np.round(amount * rng.uniform(0.4, 0.8, shape), 2), amount)
    rest_on = first_on + rng.integers(15, 41, shape).astype("timedelta64[D]")
    caught = unpaid & shocks.catch_up
    catch_on = cal.month_start(np.maximum(shocks.episode_end, 0) + 2) + rng.integers(14, 25, shape).astype(
        "timedelta64[D]"
    )
    opened = pop.opened[:, None]
    parts = [
        (active & ~unpaid, np.maximum(first_on, opened), first_amount),
        (active & partial, np.maximum(rest_on, opened), np.round(amount - first_amount, 2)),
        (active & caught, catch_on, amount),
    ]
    settled_on = np.where(partial, rest_on, np.where(unpaid, catch_on, first_on))
    never = unpaid & ~caught
    grace_end = reference + np.timedelta64(GRACE_DAYS, "D")
    overdue = active & (never | (settled_on > grace_end))
    late = active & ~never & (settled_on > reference) & (settled_on <= grace_end)
    seg = segment(latent)
    shares = list(PAY_CHANNEL_SHARES.values())
    columns: dict[str, list[pa.Array]] = {"account_no": [], "period": [], "paid_on": [], "amount": [], "channel": []}
    accounts, periods = pa.array(pop.account_no), pa.array(cal.periods)
    for mask, on, paid in parts:
        c, m = np.nonzero(mask & (on <= cal.as_of))
        columns["account_no"].append(accounts.take(pa.array(c)))
        columns["period"].append(periods.take(pa.array(m)))
        columns["paid_on"].append(pa.array(on[c, m].astype("datetime64[D]")))
        columns["amount"].append(pa.array(paid[c, m]))
        columns["channel"].append(pa.array(PAY_CHANNELS[pick_by_segment(seg[c], shares, rng)]))
    table = pa.table({name: pa.chunked_array(arrays) for name, arrays in columns.items()})
    return table, overdue, late


def history(
    pop: Population, latent: Latent, shocks: Shocks, params: Params, cal: Calendar, rng: np.random.Generator
) -> tuple[dict[str, pa.Table], Billing]:
    bills, reads, active, kwh, amount = bills_and_reads(pop, latent, shocks, params, cal, rng)
    pays, overdue, late = payments(pop, latent, shocks, params, cal, active, amount, rng)
    return {"bills": bills, "payments": pays, "meter_reads": reads}, Billing(active, kwh, overdue, late)
