"""Fault and complaint hot spots: lines, 台区 and areas ranked against what their size predicts, with quarterly
trends and preventive-maintenance suggestions for the top lines.

Counts (Ibis, the same on DuckDB and Spark) over the billing periods `first`..`last`:
- faults: outages of kind 'fault' that started in the window. A line-level outage (no 台区) counts for its line, a
  台区-level one for its 台区 and its line; an area counts the faults of its lines.
- complaints: contacts whose function is complaint or power_quality, placed by the customer's 台区, line and area
  (a contact without a known customer is left out).
- size: customers opened by the window's end, and the number of 台区 (1 for a 台区).

The statistics (plain Python and scipy on those few rows), per level and measure:
- exposure: the number of 台区 for faults (a line's fault rate grows with its transformers and equipment), the
  number of customers for complaints; units with no exposure are left out;
- expected_i = exposure_i x (sum of counts / sum of exposures): the count if every unit had the common rate;
- rate_ratio = observed / expected;
- p_value: the exact one-sided Poisson test, P(X >= observed) for X ~ Poisson(expected);
- q_value: Benjamini-Hochberg over the units of the level and measure; significant when q < 0.05 (so at most about
  5 % of the units called significant are expected to be false alarms);
- rank: the significant units first, each group by rate ratio (highest first), then by p-value.
Trend: counts per quarter, the least-squares slope per quarter (from the monthly counts, so partial quarters at the
window's edges do not bend it), and 上升 / 下降 / 平稳 by comparing the window's second half with its first: given
their total n, the second half's count is Binomial(n, 1/2) when the rate is steady (two-sided p < 0.05).
A window without any fault or complaint gives no rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import numpy.typing as npt
import pandas as pd
from ibis.expr.types import Table
from scipy import stats

from insight.engine import Dataset
from insight.jobs.features import COMPLAINT_FUNCTIONS
from insight.periods import end, shift, span, start

LEVELS = ("line", "tq", "area")
MEASURES = ("faults", "complaints")
SIGNIFICANCE_Q = 0.05
TREND_P = 0.05
SUGGESTED_LINES = 10
LINE_LEVEL_MAJORITY = 0.5
_LEVEL_KEY = {"line": "line_code", "tq": "tq_code", "area": "area_code"}
_EXPOSURE = {"faults": "districts", "complaints": "customers"}


@dataclass(frozen=True)
class Window:
    """The billing periods first..last, both included."""

    first: str
    last: str

    @property
    def periods(self) -> list[str]:
        return span(self.first, self.last)

    def timestamps(self) -> tuple[ibis.Value, ibis.Value]:
        since = dt.datetime.combine(start(self.first), dt.time())
        until = dt.datetime.combine(start(shift(self.last, 1)), dt.time())
        return ibis.literal(since), ibis.literal(until)


def unit_counts(ds: Dataset, level: str, window: Window) -> Table:
    """One row per unit of `level`: code, name, area_code, line_code (a line's or a 台区's; null for an area),
    customers, districts, faults, line_level_faults, complaints."""
    key = _LEVEL_KEY[level]
    units = _units(ds, level)
    customers = ds["customers"]
    customers = customers.filter(customers.opened <= ibis.literal(end(window.last)), customers[key].notnull())
    sizes = customers.group_by(code=customers[key]).aggregate(customers=customers.count())
    districts = ds["districts"]
    district_counts = districts.group_by(code=districts[key]).aggregate(districts=districts.count())
    faults = _faults(ds, level, window)
    fault_counts = faults.group_by("code").aggregate(
        faults=faults.count(), line_level_faults=faults.tq_code.isnull().sum()
    )
    complaints = _complaints(ds, level, window)
    complaint_counts = complaints.group_by("code").aggregate(complaints=complaints.count())
    joined = (
        units.left_join(sizes, "code")
        .left_join(district_counts, "code")
        .left_join(fault_counts, "code")
        .left_join(complaint_counts, "code")
    )
    counts = ("customers", "districts", "faults", "line_level_faults", "complaints")
    return joined.select(
        "code", "name", "area_code", "line_code", **{c: joined[c].fill_null(0).cast("int64") for c in counts}
    )


def monthly_counts(ds: Dataset, level: str, window: Window) -> Table:
    """Faults and complaints per unit and month of the window: code, year, month, measure, count."""
    faults, complaints = _faults(ds, level, window), _complaints(ds, level, window)
    parts = [
        events.group_by(code=events.code, year=events.started_at.year(), month=events.started_at.month())
        .aggregate(count=events.count())
        .mutate(measure=ibis.literal(measure))
        for measure, events in (("faults", faults), ("complaints", complaints))
    ]
    return ibis.union(*parts, distinct=False)


def hotspots(ds: Dataset, first: str, last: str, suggested_lines: int = SUGGESTED_LINES) -> pd.DataFrame:
    """Every level and measure ranked (the rows insight.publish writes): level, measure, code, name, area_code,
    first_period, last_period, size (customers), districts, exposure, observed, expected, rate_ratio, p_value,
    q_value, significant, rank, line_level_share (faults), trend (per quarter), trend_slope, trend_label,
    suggestion (the top significant lines by faults)."""
    window = Window(first, last)
    counts = {level: unit_counts(ds, level, window).to_pandas() for level in LEVELS}
    frames = []
    for level in LEVELS:
        monthly = monthly_counts(ds, level, window).to_pandas()
        for measure in MEASURES:
            ranked = rank_units(counts[level], measure)
            if ranked.empty:
                continue
            ranked = add_trends(ranked, monthly[monthly.measure == measure], window)
            ranked["level"] = level
            ranked["suggestion"] = None
            if level == "line" and measure == "faults":
                ranked["suggestion"] = suggestions(ranked, counts["tq"], window, suggested_lines)
            frames.append(ranked)
    if not frames:
        return pd.DataFrame(columns=HOTSPOT_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["first_period"], out["last_period"] = first, last
    return out[HOTSPOT_COLUMNS]


_RANKED_COLUMNS = [
    "measure", "code", "name", "area_code", "size", "districts", "exposure", "observed", "expected", "rate_ratio",
    "p_value", "q_value", "significant", "rank", "line_level_share",
]  # fmt: skip
HOTSPOT_COLUMNS = [
    "level",
    *_RANKED_COLUMNS,
    "first_period",
    "last_period",
    "trend",
    "trend_slope",
    "trend_label",
    "suggestion",
]


def rank_units(counts: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The exact Poisson test of each unit's count against its size, BH q-values and the rank (module docstring)."""
    exposure = counts[_EXPOSURE[measure]].astype(float)
    units = counts[exposure > 0].copy()
    observed, exposure = units[measure].astype(int), exposure[exposure > 0]
    if units.empty or observed.sum() == 0:
        return pd.DataFrame(columns=_RANKED_COLUMNS)
    expected = exposure * observed.sum() / exposure.sum()
    p_value = np.where(observed > 0, stats.poisson.sf(observed - 1, expected), 1.0)
    q_value = benjamini_hochberg(p_value)
    ranked = pd.DataFrame(
        {
            "measure": measure,
            "code": units.code,
            "name": units["name"],
            "area_code": units.area_code,
            "size": units.customers.astype(int),
            "districts": units.districts.astype(int),
            "exposure": exposure.astype(int),
            "observed": observed,
            "expected": expected,
            "rate_ratio": observed / expected,
            "p_value": p_value,
            "q_value": q_value,
            "significant": q_value < SIGNIFICANCE_Q,
            "line_level_share": (units.line_level_faults / units.faults.where(units.faults > 0)).astype(float)
            if measure == "faults"
            else np.nan,
        }
    )
    ranked = ranked.sort_values(["significant", "rate_ratio", "p_value", "code"], ascending=[False, False, True, True])
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    return ranked[_RANKED_COLUMNS].reset_index(drop=True)


def benjamini_hochberg(p_values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """q_i = min over j >= i of p_(j) x m / j (p sorted ascending), at most 1."""
    p: npt.NDArray[np.float64] = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p
    order = np.argsort(p)
    scaled = p[order] * p.size / np.arange(1, p.size + 1)
    q_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q: npt.NDArray[np.float64] = np.empty_like(q_sorted)
    q[order] = q_sorted
    return q


def add_trends(ranked: pd.DataFrame, monthly: pd.DataFrame, window: Window) -> pd.DataFrame:
    """trend ([{"quarter": "2026Q1", "count": n}, ...] over the window), trend_slope (per quarter), trend_label."""
    periods = window.periods
    index = {p: i for i, p in enumerate(periods)}
    grid = np.zeros((len(ranked), len(periods)))
    row_of = {code: i for i, code in enumerate(ranked.code)}
    for row in monthly.itertuples():
        period = f"{int(row.year):04d}-{int(row.month):02d}"
        if row.code in row_of and period in index:
            grid[row_of[row.code], index[period]] += row.count
    quarters = [f"{p[:4]}Q{(int(p[5:]) - 1) // 3 + 1}" for p in periods]
    labels = list(dict.fromkeys(quarters))
    quarter_of = np.array([labels.index(q) for q in quarters])
    ranked = ranked.copy()
    ranked["trend"] = [
        [{"quarter": q, "count": int(grid[i, quarter_of == j].sum())} for j, q in enumerate(labels)]
        for i in range(len(ranked))
    ]
    months = np.arange(len(periods), dtype=float)
    centred = months - months.mean()
    ranked["trend_slope"] = (grid @ centred / max(float(centred @ centred), 1.0)) * 3 if len(periods) > 1 else 0.0
    half = len(periods) // 2
    ranked["trend_label"] = [_trend_label(int(g[:half].sum()), int(g[len(periods) - half :].sum())) for g in grid]
    return ranked


def _trend_label(first_half: int, second_half: int) -> str:
    n = first_half + second_half
    if n == 0 or stats.binomtest(second_half, n, 0.5).pvalue >= TREND_P:
        return "平稳"
    return "上升" if second_half > first_half else "下降"


def suggestions(lines: pd.DataFrame, districts: pd.DataFrame, window: Window, top: int) -> list[str | None]:
    """Short Chinese preventive-maintenance advice for the top `top` significant lines by faults (None for the
    rest): the count against expectation, then by the kind of fault that dominates, the line (patrol, clear the
    corridor, check switchgear) or its worst 台区 (transformer load, low-voltage feeders); the trend.

    The worst 台区 are those with the line's most faults, all named when they tie (up to three, then how many):
    those whose complaints are furthest above what their customers predict first (a 台区's fault rate ratio is
    its fault count, each being one 台区), then by complaints and code."""
    months, named = len(window.periods), 3
    districts = districts.copy()
    if "complaints" not in districts or "customers" not in districts:
        districts["complaints"], districts["customers"] = 0, 0
    customers, complaints = districts.customers.astype(float), districts.complaints.astype(float)
    rate = float(complaints.sum()) / float(customers.sum()) if float(customers.sum()) > 0 else 0.0
    expected = customers * rate
    districts["complaint_ratio"] = (complaints / expected.where(expected > 0)).fillna(0.0)
    out: list[str | None] = []
    for row in lines.itertuples():
        if not row.significant or row.rank > top:
            out.append(None)
            continue
        text = f"近{months}个月故障停电{row.observed}次，为同规模线路预期的{row.rate_ratio:.1f}倍"
        share = float(row.line_level_share)
        if share >= LINE_LEVEL_MAJORITY:
            text += f"，线路级故障占{share:.0%}：建议优先巡视线路，清理通道树障，检查柱上开关、避雷器和绝缘子"
        else:
            on_line = districts[(districts.line_code == row.code) & (districts.faults > 0)]
            most = int(on_line.faults.max()) if not on_line.empty else 0
            worst = on_line[on_line.faults == most].sort_values(
                ["complaint_ratio", "complaints", "code"], ascending=[False, False, True]
            )
            names = "、".join(str(n) for n in worst["name"].head(named))
            text += f"，台区故障占{1 - share:.0%}"
            if len(worst) == 1:
                text += f"（{names}{most}次）"
            elif len(worst) > 1:
                more = f"等{len(worst)}个台区" if len(worst) > named else ""
                text += f"（{names}{more}各{most}次）"
            text += "：建议排查配变负载、低压出线和接头发热"
        if row.trend_label == "上升":
            text += "；故障呈上升趋势，宜本季度内安排检修"
        out.append(text + "。")
    return out


def _units(ds: Dataset, level: str) -> Table:
    if level == "line":
        t = ds["lines"]
        return t.select(code=t.line_code, name=t.line_name, area_code=t.area_code, line_code=t.line_code)
    if level == "tq":
        t = ds["districts"]
        return t.select(code=t.tq_code, name=t.tq_name, area_code=t.area_code, line_code=t.line_code)
    if level == "area":
        t = ds["areas"]
        return t.select(code=t.area_code, name=t.area_name, area_code=t.area_code, line_code=ibis.null("string"))
    raise ValueError(f"unknown level {level!r}: one of {', '.join(LEVELS)}")


def _faults(ds: Dataset, level: str, window: Window) -> Table:
    """The window's fault outages, each with `code` the unit it counts for (none for a 台区 and a line-level one)."""
    since, until = window.timestamps()
    outages = ds["outages"]
    faults = outages.filter(outages.kind == "fault", outages.started_at >= since, outages.started_at < until)
    if level == "line":
        return faults.mutate(code=faults.line_code)
    if level == "tq":
        return faults.filter(faults.tq_code.notnull()).mutate(code=faults.tq_code)
    lines = ds["lines"].select("line_code", code="area_code")
    return faults.inner_join(lines, "line_code")


def _complaints(ds: Dataset, level: str, window: Window) -> Table:
    since, until = window.timestamps()
    contacts = ds["contacts"]
    complaints = contacts.filter(
        contacts.function.isin(COMPLAINT_FUNCTIONS), contacts.started_at >= since, contacts.started_at < until
    )
    customers = ds["customers"]
    placed = customers.filter(customers[_LEVEL_KEY[level]].notnull()).select(
        "account_no", code=customers[_LEVEL_KEY[level]]
    )
    return complaints.inner_join(placed, "account_no")
