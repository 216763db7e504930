"""Charts with nothing to show: every spec of analytics/charts.py is then its title over a short 暂无数据 note (a
text mark), decided once for the page and the report, never an empty chart (an empty line chart rendered at
1.8e308 px, an empty bar chart with an infinite extent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from analytics import charts, report
from analytics.kpis_range import parse_range
from analytics.kpis_view import kpi_view
from analytics.report import ReportKind
from backend.db import make_engine, make_sessionmaker, upgrade
from tests.analytics.kpi_contacts import add_contacts


@pytest.fixture
def db(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine)
    return make_sessionmaker(engine)


def svg_height(svg: str) -> float:
    found = re.search(r'<svg[^>]*\bheight="([^"]+)"', svg)
    assert found, svg[:200]
    return float(found.group(1))


def test_every_chart_of_an_empty_period_is_a_short_note(db: sessionmaker[Session]) -> None:
    with db() as s:
        view = kpi_view(s, parse_range("2026-11-23", "2026-11-29"))
    specs = charts.dashboard_charts(view)
    drawn = [name for name, spec in specs.items() if not charts.is_empty(spec)]
    assert drawn == []
    for name, spec in specs.items():
        assert spec["usermeta"]["note"] == charts.NO_DATA and spec["title"], name
        svg = charts.to_svg(spec)
        assert "暂无数据" in svg and svg_height(svg) < 100, name


def test_only_the_charts_without_rows_become_notes_in_the_page_and_the_report(db: sessionmaker[Session]) -> None:
    with db() as s:
        add_contacts(s)
        r = parse_range("2026-11-24", "2026-11-24")  # one contact: contained, rated, no agent, no transfer
        specs = charts.dashboard_charts(kpi_view(s, r))
        data = report.report_data(s, ReportKind.CUSTOM, r)
    empty = {name for name, spec in specs.items() if charts.is_empty(spec)}
    assert empty == {"handling", "reasons"}
    assert specs["channels"]["mark"] == {"type": "bar"}
    for name in ("handling", "reasons"):  # the report inlines the same note, a few dozen px high
        assert "暂无数据" in data["svgs"][name] and svg_height(data["svgs"][name]) < 100
    assert "暂无数据" not in data["svgs"]["channels"]
