"""The generator's hidden causes: its parameters, its calendar, each customer's latent traits, and the income shocks
that make arrears predictable from history. Nothing here is written to the dataset except through behaviour (and
truth.json, for evaluations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from insight.generate_population import ELDERLY_BORN_BY, Population

HABITS = ("punctual", "sometimes_late", "chronically_late")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class Params:
    """Every rate the generator draws with (written to truth.json)."""

    habit_shares: tuple[float, float, float] = (0.72, 0.19, 0.09)  # punctual, sometimes late, chronically late
    habit_shares_low_income: tuple[float, float, float] = (0.55, 0.28, 0.17)
    late_probability: tuple[float, float, float] = (0.04, 0.35, 0.80)  # per bill, by habit
    shock_hazard: float = 0.005  # income shocks starting per customer-month
    shock_hazard_low_income: float = 0.025
    shock_months: tuple[int, int] = (2, 5)
    shock_lead_in_months: tuple[float, float, float, float] = (0.3, 0.3, 0.25, 0.15)  # P(0, 1, 2, 3 drift months)
    lead_in_days_per_month: int = 12  # each lead-in month pays this much later than the one before
    lead_in_partial_probability: float = 0.45
    shock_unpaid_probability: float = 0.7  # else paid 45-120 days late
    shock_catch_up_probability: float = 0.5  # unpaid shock bills settled after the shock
    shock_use_factor: float = 0.8
    e_channel_share: float = 0.55  # prefer app/wechat/chat (elderly: elderly_e_channel_share)
    elderly_e_channel_share: float = 0.1
    outage_sensitive_share: float = 0.25
    complainer_share: float = 0.05
    electric_heating_share: float = 0.08
    median_kwh: float = 170.0
    tariff_tiers_kwh: tuple[float, float] = (230.0, 400.0)
    tariff_yuan: tuple[float, float, float] = (0.5653, 0.6153, 0.8653)
    fault_rate_per_tq_month: float = 0.02  # faults per 台区 per month on an ordinary line
    line_level_fault_share: float = 0.35  # the rest hit one 台区
    fault_prone_line_share: float = 0.1
    fault_prone_factor: float = 4.0
    planned_rate_per_line_month: float = 0.12
    poor_quality_tq_share: float = 0.03
    call_after_fault: tuple[float, float] = (0.30, 0.03)  # outage-sensitive, others
    call_after_planned: tuple[float, float] = (0.08, 0.005)
    monthly_contact_rates: dict[str, float] = field(
        default_factory=lambda: {
            "bill_query": 0.008,
            "payment": 0.006,
            "meter_issue": 0.002,
            "tariff_query": 0.003,
            "complaint": 0.002,
            "balance_query": 0.04,  # prepaid only
            "solar_pv": 0.04,  # solar only
            "low_income_subsidy": 0.02,  # low income only
            "complaint_complainer": 0.06,
            "power_quality_poor_tq": 0.06,
            "complaint_poor_tq": 0.015,
        }
    )


@dataclass(frozen=True)
class Calendar:
    """Billing months: bills are read on the period's last day and due on the 15th of the next month; the data
    runs to as_of, the last day of the month after the last period (so every bill's arrears grace has passed)."""

    periods: list[str]
    first_month: np.datetime64  # datetime64[M]
    horizon: np.datetime64 | None = None  # the data stops here if earlier (the product's history ends today)

    @classmethod
    def ending(cls, end_period: str, months: int) -> Calendar:
        last = np.datetime64(end_period, "M")
        first = last - np.timedelta64(months - 1, "M")
        return cls([str(first + np.timedelta64(i, "M")) for i in range(months)], first)

    @property
    def months(self) -> int:
        return len(self.periods)

    def month_start(self, index: IntArray | int) -> Dates:
        return np.asarray((self.first_month + np.asarray(index).astype("timedelta64[M]")).astype("datetime64[D]"))

    @property
    def starts(self) -> Dates:
        return self.month_start(np.arange(self.months))

    @property
    def ends(self) -> Dates:
        return self.month_start(np.arange(1, self.months + 1)) - np.timedelta64(1, "D")

    @property
    def due(self) -> Dates:
        return self.month_start(np.arange(1, self.months + 1)) + np.timedelta64(14, "D")

    @property
    def as_of(self) -> np.datetime64:
        last: np.datetime64 = self.month_start(np.array([self.months + 1]))[0] - np.timedelta64(1, "D")
        return last if self.horizon is None else min(last, self.horizon)

    @property
    def days(self) -> int:
        """From the first period's start to as_of."""
        return int((self.as_of - self.starts[0]).astype(np.int64))

    @property
    def month_of_year(self) -> IntArray:
        return ((self.first_month + np.arange(self.months)).astype(np.int64) % 12).astype(np.int64)  # 0 = January


@dataclass
class Latent:
    """One chunk's customers' hidden traits."""

    habit: IntArray  # index into HABITS
    e_channel: BoolArray
    outage_sensitive: BoolArray
    complainer: BoolArray
    electric_heating: BoolArray
    base_kwh: FloatArray
    elderly: BoolArray


def draw_latent(pop: Population, params: Params, rng: np.random.Generator) -> Latent:
    n = len(pop)
    elderly = pop.birth_year <= ELDERLY_BORN_BY
    u = rng.random(n)
    shares = np.where(pop.low_income[:, None], params.habit_shares_low_income, params.habit_shares)
    habit = (u[:, None] > np.cumsum(shares, axis=1)).sum(axis=1).astype(np.int64)
    urban = pop.topology.area_class[pop.area] == "urban"
    e_share = np.where(elderly, params.elderly_e_channel_share, params.e_channel_share * np.where(urban, 1.1, 0.8))
    base = params.median_kwh * np.exp(rng.normal(0, 0.45, n)) * np.where(urban, 1.1, 0.95)
    base *= np.where(pop.low_income, 0.75, 1.0) * np.where(elderly, 0.85, 1.0)
    return Latent(
        habit=habit,
        e_channel=rng.random(n) < e_share,
        outage_sensitive=rng.random(n) < params.outage_sensitive_share,
        complainer=rng.random(n) < params.complainer_share,
        electric_heating=rng.random(n) < params.electric_heating_share,
        base_kwh=base,
        elderly=elderly,
    )


@dataclass
class Shocks:
    """Per customer-month (n, months): in an income shock; the lead-in drift step before one (0 none, k: paying
    k * lead_in_days later); the month the current shock ends; whether its unpaid bills are caught up after."""

    in_shock: BoolArray
    lead_step: IntArray
    episode_end: IntArray
    catch_up: BoolArray
    never_paid: BoolArray | None = None  # months whose bill stays unpaid whatever the draws (owing now)

    @property
    def customers_with_shock(self) -> BoolArray:
        return np.asarray(self.in_shock.any(axis=1))


def simulate_shocks(pop: Population, params: Params, months: int, rng: np.random.Generator) -> Shocks:
    """Episodes of a few months in which bills go unpaid or are paid very late, some announced by a drift (later
    and later payments, partial payments, use dropping), some abrupt: arrears are predictable, not certain."""
    n = len(pop)
    hazard = np.where(pop.low_income, params.shock_hazard_low_income, params.shock_hazard)
    starts = rng.random((n, months)) < hazard[:, None]
    low, high = params.shock_months
    duration = rng.integers(low, high + 1, size=(n, months))
    lead_len = rng.choice(len(params.shock_lead_in_months), size=(n, months), p=params.shock_lead_in_months)
    catch_draw = rng.random((n, months)) < params.shock_catch_up_probability
    in_shock = np.zeros((n, months), dtype=bool)
    lead_step = np.zeros((n, months), dtype=np.int64)
    episode_end = np.full((n, months), -1, dtype=np.int64)
    catch_up = np.zeros((n, months), dtype=bool)
    remaining: IntArray = np.zeros(n, dtype=np.int64)
    current_end = np.full(n, -1, dtype=np.int64)
    current_catch = np.zeros(n, dtype=bool)
    for m in range(months):
        begin = starts[:, m] & (remaining == 0)
        remaining[begin] = duration[begin, m]
        current_end[begin] = m + duration[begin, m] - 1
        current_catch[begin] = catch_draw[begin, m]
        active = remaining > 0
        in_shock[:, m] = active
        episode_end[active, m] = current_end[active]
        catch_up[active, m] = current_catch[active]
        remaining = np.maximum(remaining - 1, 0).astype(np.int64)
        for k in range(1, len(params.shock_lead_in_months)):
            if m - k < 0:
                break
            drift = begin & (lead_len[:, m] >= k) & ~in_shock[:, m - k]
            lead_step[drift, m - k] = np.maximum(lead_step[drift, m - k], lead_len[drift, m] - k + 1)
    shocks = Shocks(in_shock, lead_step, episode_end, catch_up)
    if pop.owing_now is not None:
        _end_owing(shocks, pop.owing_now, months)
    return shocks


OWING_MONTHS, OWING_LEAD_IN = 3, 2  # a customer owing now: the last 3 months unpaid, paying later the 2 before


def _end_owing(shocks: Shocks, owing: BoolArray, months: int) -> None:
    """Customers the CIS shows owing today end their history in a shock that is not over (no catch-up), announced
    by the usual drift: what an account really in arrears looks like."""
    first = max(0, months - OWING_MONTHS)
    shocks.never_paid = np.zeros_like(shocks.in_shock)
    shocks.never_paid[owing, first:] = True
    shocks.in_shock[owing, first:] = True
    shocks.episode_end[owing, first:] = months + 1  # not over within the history
    shocks.catch_up[owing, first:] = False
    for k in range(1, OWING_LEAD_IN + 1):
        if first - k >= 0:
            lead = owing & ~shocks.in_shock[:, first - k]
            shocks.lead_step[lead, first - k] = OWING_LEAD_IN - k + 1


def default_end_period(today: dt.date | None = None) -> str:
    """The month before today."""
    first = (today or dt.date.today()).replace(day=1)
    last = first - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def calendar_for(months: int, end_period: str | None, until: dt.date | None = None) -> Calendar:
    """`until`: no payment, contact or outage after this day (the product's own history stops today, so its last
    bill may not be due yet)."""
    if months < 1:
        raise ValueError("months must be at least 1")
    cal = Calendar.ending(end_period or default_end_period(), months)
    return cal if until is None else replace(cal, horizon=np.datetime64(until, "D"))
