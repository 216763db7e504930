"""The drill-down lists what the hot-spot job counted: on the generated history, ranked by the real job
(insight.jobs.hotspots) over its last 12 months and published (insight.publish), the console's view shows the run's
ranking, and the top line's, 台区's and area's fault outages and complaint contacts in the run's window number
exactly their observed counts; the window's partial quarters (November-December 2025, October 2026) are labelled so
in the rows' trends and the trend chart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import open_database
from insight import drill
from insight.engine import Dataset
from insight.hotspot_view import hotspot_of, hotspot_page, quarter_label
from insight.jobs.features import COMPLAINT_FUNCTIONS
from insight.jobs.hotspots import Window, hotspots
from insight.publish import RunResults, publish, records

FIRST, LAST = "2025-11", "2026-10"


@pytest.fixture(scope="module")
def published(duck: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    engine, sessions = open_database(f"sqlite:///{Path(tmp_path_factory.mktemp('drill')) / 'd.db'}")
    rows = records(hotspots(duck, FIRST, LAST))
    publish(sessions, RunResults(engine="duckdb", period=LAST, hotspots=rows))
    yield sessions
    engine.dispose()


@pytest.mark.parametrize("level", ["line", "tq", "area"])
@pytest.mark.parametrize("measure", ["faults", "complaints"])
def test_the_drill_down_of_a_top_unit_lists_its_counted_events(
    duck: Dataset, published: sessionmaker[Session], level: str, measure: str
) -> None:
    with published() as s:
        page = hotspot_page(s, level, measure, 0, 5)
        if not page["rows"]:
            pytest.skip(f"no {level} ranked by {measure} in this history")
        top = page["rows"][0]
        assert [r["rank"] for r in page["rows"]] == list(range(1, len(page["rows"]) + 1))
        assert (top["first_period"], top["last_period"]) == (FIRST, LAST)
        assert hotspot_of(s, level, top["code"])[measure]["observed"] == top["observed"]
    scope = drill.history_scope(duck, level, top["code"])
    assert scope is not None and scope.name == top["name"]
    window = Window(FIRST, LAST)
    if measure == "faults":
        listed = drill.outages_page(duck, scope, 0, 5, "fault", window)
    else:
        listed = drill.contacts_page(duck, scope, 0, 5, COMPLAINT_FUNCTIONS, window)
    assert listed["total"] == top["observed"], (level, measure, top)
    assert all(FIRST <= item["started_at"][:7] <= LAST for item in listed["items"])


def test_partial_quarters_are_labelled(published: sessionmaker[Session]) -> None:
    with published() as s:
        page = hotspot_page(s, "line", "faults", 0, 20)
    labels = ["2025Q4（11月起）", "2026Q1", "2026Q2", "2026Q3", "2026Q4（仅10月）"]
    for row in page["rows"]:
        assert [t["label"] for t in row["trend"]] == labels
        assert [t["quarter"] for t in row["trend"]] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4"]
        assert [t["partial"] for t in row["trend"]] == [True, False, False, False, True]
    chart = page["charts"]["trends"]
    assert {v["季度"] for v in chart["data"]["values"]} == set(labels)
    assert "未满3个月" in chart["title"]["subtitle"]


@pytest.mark.parametrize(
    ("months", "label"),
    [([10, 11, 12], "2026Q4"), ([10, 11], "2026Q4（至11月）"), ([11, 12], "2026Q4（11月起）"),
     ([10], "2026Q4（仅10月）"), ([11], "2026Q4（仅11月）")],
)  # fmt: skip
def test_quarter_labels(months: list[int], label: str) -> None:
    assert quarter_label("2026Q4", months) == label
