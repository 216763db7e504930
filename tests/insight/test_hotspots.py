"""Hot spots: counts, the exact Poisson test, BH q-values, trends and suggestions by hand on the tiny history; the
planted fault-prone lines and poor-quality 台区 found on a generated history large enough to have a few hundred
lines (against a raw-count ranking); the empty window; DuckDB against Spark."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from insight.engine import Dataset, open_dataset
from insight.jobs.hotspots import (
    HOTSPOT_COLUMNS,
    Window,
    benjamini_hochberg,
    hotspots,
    rank_units,
    suggestions,
    unit_counts,
)
from insight.schema import TRUTH_FILE
from tests.insight.conftest import same_frame
from tests.insight.test_features import write_tiny_history

TINY_WINDOW = Window("2026-01", "2026-06")
# ~240 lines, ~24 planted fault-prone (10 %) and ~97 poor-quality 台区 (3 %) in one year of history
LARGE_CUSTOMERS, LARGE_MONTHS = 500_000, 12


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: Any) -> Dataset:
    return open_dataset(write_tiny_history(tmp_path_factory.mktemp("tiny_hotspots")), "duckdb")


def test_counts_by_hand(tiny: Dataset) -> None:
    columns = ["customers", "districts", "faults", "line_level_faults", "complaints"]
    got = {
        level: unit_counts(tiny, level, TINY_WINDOW).to_pandas().set_index("code")[columns].to_dict("index")
        for level in ("line", "tq", "area")
    }
    row = lambda c, d, f, ll, k: dict(zip(columns, (c, d, f, ll, k)))
    # faults: O1 (L1, line-level), O2 and O3 (L1/T1), O4 (L2/T3); O5 is planned and O6 before the window.
    # complaints: C1's power_quality call in March; C3 opens after the window
    assert got["line"] == {"L1": row(2, 2, 3, 1, 1), "L2": row(1, 1, 1, 0, 0), "L3": row(1, 1, 0, 0, 0)}
    assert got["tq"] == {
        "T1": row(1, 1, 2, 0, 1),
        "T2": row(1, 1, 0, 0, 0),
        "T3": row(1, 1, 1, 0, 0),
        "T4": row(1, 1, 0, 0, 0),
    }
    assert got["area"] == {"A1": row(3, 3, 4, 1, 1), "A2": row(1, 1, 0, 0, 0)}


def test_the_poisson_test_and_the_rank_by_hand(tiny: Dataset) -> None:
    lines = rank_units(unit_counts(tiny, "line", TINY_WINDOW).to_pandas(), "faults").set_index("code")
    # 4 faults on 4 台区: one expected per 台区
    assert lines.expected.to_dict() == {"L1": 2.0, "L2": 1.0, "L3": 1.0}
    assert lines.rate_ratio.to_dict() == {"L1": 1.5, "L2": 1.0, "L3": 0.0}
    p1, p2 = 1 - 5 * math.exp(-2), 1 - math.exp(-1)  # P(X >= 3 | 2), P(X >= 1 | 1)
    assert lines.p_value.tolist() == pytest.approx([p1, p2, 1.0])
    assert lines.q_value.tolist() == pytest.approx([p2 * 3 / 2, p2 * 3 / 2, 1.0])  # BH: min(3 p1, 3/2 p2)
    assert not lines.significant.any() and lines["rank"].tolist() == [1, 2, 3]
    assert lines.line_level_share.loc["L1"] == pytest.approx(1 / 3)


def test_hotspots_with_trends_on_the_tiny_history(tiny: Dataset) -> None:
    h = hotspots(tiny, TINY_WINDOW.first, TINY_WINDOW.last)
    assert list(h.columns) == HOTSPOT_COLUMNS
    assert sorted(set(zip(h.level, h.measure))) == [
        ("area", "complaints"), ("area", "faults"), ("line", "complaints"), ("line", "faults"),
        ("tq", "complaints"), ("tq", "faults"),
    ]  # fmt: skip
    l1 = h[(h.level == "line") & (h.measure == "faults") & (h.code == "L1")].iloc[0]
    assert l1.trend == [{"quarter": "2026Q1", "count": 2}, {"quarter": "2026Q2", "count": 1}]
    # monthly counts 1 1 0 1 0 0: least squares -0.2 a month, -0.6 a quarter; 2 vs 1 by half is steady
    assert l1.trend_slope == pytest.approx(-0.6) and l1.trend_label == "平稳"
    assert l1["size"] == 2 and l1.first_period == "2026-01" and l1.last_period == "2026-06"
    complaints = h[(h.level == "tq") & (h.measure == "complaints")].set_index("code")
    assert complaints.expected.loc["T1"] == pytest.approx(0.25) and complaints["rank"].loc["T1"] == 1
    assert h.suggestion.isna().all()  # nothing significant on four customers


def test_an_empty_window_gives_no_rows(tiny: Dataset) -> None:
    h = hotspots(tiny, "2019-01", "2019-12")
    assert h.empty and list(h.columns) == HOTSPOT_COLUMNS


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.random.default_rng(3).uniform(size=50) ** 3
    assert benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p, method="bh"))
    assert benjamini_hochberg(np.array([])).size == 0


def test_suggestions_say_what_dominates() -> None:
    lines = pd.DataFrame(
        {
            "code": ["LA", "LB", "LC", "LD"],
            "observed": [20, 12, 9, 30],
            "rate_ratio": [4.04, 3.0, 2.5, 1.1],
            "line_level_share": [0.75, 0.25, 0.6, 0.5],
            "significant": [True, True, True, False],
            "rank": [1, 2, 3, 4],
            "trend_label": ["上升", "平稳", "平稳", "平稳"],
        }
    )
    districts = pd.DataFrame(
        {"code": ["T1", "T2"], "name": ["一号台区", "二号台区"], "line_code": ["LB", "LB"], "faults": [2, 7]}
    )
    got = suggestions(lines, districts, Window("2026-01", "2026-12"), top=2)
    assert got[0] == (
        "近12个月故障停电20次，为同规模线路预期的4.0倍，线路级故障占75%：建议优先巡视线路，清理通道树障，"
        "检查柱上开关、避雷器和绝缘子；故障呈上升趋势，宜本季度内安排检修。"
    )
    assert got[1] == (
        "近12个月故障停电12次，为同规模线路预期的3.0倍，台区故障占75%（二号台区7次）："
        "建议排查配变负载、低压出线和接头发热。"
    )
    assert got[2:] == [None, None]  # beyond the top 2; not significant


def test_suggestions_name_the_districts_tied_on_faults() -> None:
    """Tied 台区 are all named (up to three), those with complaints furthest above their size first: the line that
    named only 5号台区 while 7号台区 had as many faults and far more complaints."""
    lines = pd.DataFrame(
        {
            "code": ["LA", "LB"],
            "observed": [4, 8],
            "rate_ratio": [4.0, 3.0],
            "line_level_share": [0.25, 0.0],
            "significant": [True, True],
            "rank": [1, 2],
            "trend_label": ["平稳", "平稳"],
        }
    )
    districts = pd.DataFrame(
        {
            "code": ["T5", "T7", "T9", "U1", "U2", "U3", "U4"],
            "name": ["5号台区", "7号台区", "9号台区", "甲台区", "乙台区", "丙台区", "丁台区"],
            "line_code": ["LA", "LA", "LA", "LB", "LB", "LB", "LB"],
            "faults": [3, 3, 1, 2, 2, 2, 2],
            # 75 complaints over 800 customers: 0.09375 a customer, so 甲 and 乙 both 0.53 times their expected
            "customers": [100, 100, 100, 100, 200, 10, 190],
            "complaints": [10, 40, 0, 5, 10, 3, 7],
        }
    )
    got = suggestions(lines, districts, Window("2026-01", "2026-11"), top=2)
    assert "台区故障占75%（7号台区、5号台区各3次）" in str(got[0])
    # 丙 (3.2 times its expected complaints), then 乙 before 甲 (the same ratio, more complaints); 丁 (0.39) not named
    assert "台区故障占100%（丙台区、乙台区、甲台区等4个台区各2次）" in str(got[1])


@pytest.fixture(scope="module")
def large(tmp_path_factory: Any) -> tuple[Dataset, dict[str, Any]]:
    from insight.generate import generate

    out = Path(tmp_path_factory.mktemp("insight_large"))
    generate(out, customers=LARGE_CUSTOMERS, months=LARGE_MONTHS, seed=7, end_period="2026-10")
    return open_dataset(out, "duckdb"), json.loads((out / TRUTH_FILE).read_text(encoding="utf-8"))


def test_planted_fault_prone_lines_and_poor_quality_districts_are_found(large: tuple[Dataset, dict[str, Any]]) -> None:
    ds, truth = large
    t0 = time.perf_counter()
    h = hotspots(ds, "2025-11", "2026-10")
    seconds = time.perf_counter() - t0
    lines = h[(h.level == "line") & (h.measure == "faults")]
    planted = set(truth["fault_prone_lines"])
    assert len(lines) >= 200 and len(planted) >= 20

    def top(order: pd.Series, k: int = 20) -> tuple[float, float]:
        hits = len(set(order.head(k)) & planted)
        return hits / k, hits / len(planted)

    ranked = top(lines.sort_values("rank").code)
    raw = top(lines.sort_values(["observed", "code"], ascending=[False, True]).code)
    at_k = (
        top(lines.sort_values("rank").code, len(planted)),
        top(lines.sort_values(["observed", "code"], ascending=[False, True]).code, len(planted)),
    )
    print(
        f"\nhot spots over {len(lines)} lines ({len(planted)} planted), 12 months, {seconds:.1f} s on DuckDB: "
        f"top 20 by rate ratio precision {ranked[0]:.2f} recall {ranked[1]:.2f}; by raw count precision {raw[0]:.2f} "
        f"recall {raw[1]:.2f}; top {len(planted)}: precision {at_k[0][0]:.2f} vs raw {at_k[1][0]:.2f}; "
        f"significant lines {int(lines.significant.sum())}"
    )
    assert ranked[0] >= 0.8 and ranked[0] >= raw[0] and at_k[0][0] >= at_k[1][0]
    assert lines.significant.sum() >= 10
    assert lines.suggestion.head(10).notna().sum() >= 5

    tqs = h[(h.level == "tq") & (h.measure == "complaints")]
    poor = set(truth["poor_quality_tqs"])
    ranks = tqs[tqs.code.isin(poor)]["rank"]
    print(f"poor-quality 台区: {len(poor)} of {len(tqs)}, median rank {ranks.median():.0f}, worst {ranks.max()}")
    assert ranks.median() <= len(poor) and (ranks <= 2 * len(poor)).mean() >= 0.9


def test_hotspots_the_same_on_duckdb_and_spark(duck: Dataset, spark: Dataset) -> None:
    timings, results = {}, {}
    for name, ds in (("duckdb", duck), ("spark", spark)):
        t0 = time.perf_counter()
        results[name] = hotspots(ds, "2025-11", "2026-10").assign(trend=lambda f: f.trend.map(json.dumps))
        timings[name] = time.perf_counter() - t0
    print("hotspots (12 months): " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    assert len(results["duckdb"]) > 10
    same_frame(results["duckdb"], results["spark"], ["level", "measure", "code"])
