"""The KPI dashboard and the reports page in a real browser (Debian chromium), on the light console over a week of
synthetic contacts (analytics.synthetic, with a storm day): the supervisor opens the dashboard from the supervisor
view, sees the tiles, 实时话务 and the charts drawn by vega-embed, switches to hours for one area, then generates a
weekly report with one click and opens it. Screenshots: tests/artifacts/workspace/kpi-dashboard.png,
kpi-report.png and the PDF's first page rendered by pypdfium2 (kpi-report-pdf-page1.png).

On a fresh installation (no contacts) every chart is a short 暂无数据 note and the page keeps a sane height, the
forecast says there is not enough history, and a suspected outage confirmed on the supervisor view with the cause
and restoration the supervisor chose shows on the dashboard as a fault outage beside a planned one
(kpi-empty.png)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from analytics import incidents
from analytics.kpis_range import to_local
from analytics.synthetic import generate
from backend import models as m
from backend.db import make_sessionmaker, open_database
from backend.models_incidents import Incident
from backend.synthetic import build_areas
from knowledge.catalog import catalog
from tests.conftest import ARTIFACTS
from tests.console.browser_steps import console_login
from tests.console.console_app import PASSWORD, RunningConsole, running_console

SHOTS = ARTIFACTS / "workspace"
AGENTS = (("1001", "张丽", "agent"), ("9001", "刘主管", "supervisor"))


@pytest.fixture
def console(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RunningConsole, Any]]:
    url = f"sqlite:///{tmp_path / 'kpi.db'}"
    engine, _ = open_database(url)
    sessions = make_sessionmaker(engine)
    with sessions() as s:
        for area in build_areas():
            s.merge(area)
        s.commit()
    first = to_local(m.utcnow()).date() - dt.timedelta(days=6)
    # a day more than the week shown: the forecast needs the coming hours seen a week ago
    generate(sessions, first - dt.timedelta(days=1), days=8, contacts_per_day=1500, storm_days=(5,))
    engine.dispose()
    monkeypatch.setenv("P95598_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("P95598_KPI_ALERTS", "0")
    with running_console(url, AGENTS) as running:
        yield running, first


def test_supervisor_reads_the_dashboard_and_makes_a_report(browser: Any, console: tuple[RunningConsole, Any]) -> None:
    running, first = console
    SHOTS.mkdir(parents=True, exist_ok=True)
    boss = console_login(browser, running.url, "9001", PASSWORD)
    boss.set_viewport_size({"width": 1366, "height": 900})
    boss.click("#kpi-link")
    boss.wait_for_url(re.compile(r".*/console/kpi$"))
    for chart in ("channels", "rates", "handling", "functions", "areas", "forecast"):
        boss.locator(f"#chart-{chart}[data-drawn='1'] svg").first.wait_for(timeout=30_000)
    tiles = boss.locator("#kpi-tiles").inner_text()
    assert "机器人独立服务率" in tiles and re.search(r"\d+\.\d%", tiles)
    assert re.search(r"^\d+$", boss.locator("#t-60").inner_text())
    assert boss.locator("#chart-functions svg text", has_text=catalog().name("bill_query")).count() == 1  # not ids
    assert "Erlang C" in boss.locator("#forecast-method").inner_text()
    boss.screenshot(path=str(SHOTS / "kpi-dashboard.png"), full_page=True)

    # one area by the hour, over two days
    boss.fill("input[name=from]", (first + dt.timedelta(days=5)).isoformat())
    boss.select_option("select[name=grain]", "hour")
    boss.select_option("#kpi-range select[name=area]", "A01")
    boss.click("#kpi-range button[type=submit]")
    boss.locator("#kpi-range-text", has_text="按小时").wait_for(timeout=15_000)
    # a bad range is refused in Chinese, nothing crashes
    boss.fill("input[name=from]", "2020-01-01")
    boss.click("#kpi-range button[type=submit]")
    boss.locator("#kpi-status.error-text", has_text="最多选31天").wait_for(timeout=10_000)

    boss.goto(f"{running.url}/console/reports")
    boss.fill("#report-form input[name=from]", first.isoformat())
    boss.click("#generate")
    boss.locator("#report-status", has_text="已生成").wait_for(timeout=120_000)
    row = boss.locator("#reports tbody tr[data-report]").first
    assert "周报" in row.inner_text()
    with boss.context.expect_page() as opened:
        row.locator("a.open-html").click()
    report = opened.value
    report.wait_for_load_state()
    assert "一、核心指标" in report.inner_text("body") and report.locator("svg").count() >= 7
    report.set_viewport_size({"width": 1000, "height": 900})
    report.screenshot(path=str(SHOTS / "kpi-report.png"), full_page=True)

    pdf_link = row.locator("a.open-pdf")
    assert pdf_link.count() == 1, row.inner_text()
    pdf = boss.context.request.get(f"{running.url}{pdf_link.get_attribute('href')}")
    assert pdf.ok and pdf.body()[:5] == b"%PDF-"
    import pypdfium2  # type: ignore[import-untyped]

    doc = pypdfium2.PdfDocument(pdf.body())
    assert len(doc) >= 2
    doc[0].render(scale=1.5).to_pil().save(SHOTS / "kpi-report-pdf-page1.png")


@pytest.fixture
def fresh(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningConsole]:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine, sessions = open_database(url)
    with sessions.begin() as s:
        s.add_all(build_areas())
        now = m.utcnow()
        s.add(m.Outage(area_code="A12", kind="planned", start=now - dt.timedelta(hours=1),
                       expected_end=now + dt.timedelta(hours=3), reason="线路检修"))  # fmt: skip
    engine.dispose()
    monkeypatch.setenv("P95598_KPI_ALERTS", "0")
    with running_console(url, AGENTS) as running:
        yield running


def test_a_fresh_installation_shows_notes_and_a_confirmed_outage(browser: Any, fresh: RunningConsole) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    window = incidents.AreaWindow("A09", 9, 0.8, 2e-7)
    incident_id = incidents.open_incident(fresh.contact.sessions, {"A09": window}, m.utcnow(),
                                          dt.timedelta(minutes=5), 5).id  # fmt: skip
    boss = console_login(browser, fresh.url, "9001", PASSWORD)
    boss.set_viewport_size({"width": 1366, "height": 900})
    boss.goto(f"{fresh.url}/console/supervisor")
    card = boss.locator("#incidents li.incident").first
    card.wait_for(timeout=15_000)
    assert "近5分钟9通，5分钟峰值9通" in card.inner_text()
    assert card.locator("input.reason").input_value() == "故障抢修中"
    card.locator("button.confirm").click()  # no restoration chosen: asked for, nothing recorded
    boss.locator("#incidents-error", has_text="请选择预计恢复时间").wait_for(timeout=5_000)
    card.locator("input.reason").fill("变压器故障，正在抢修")
    card.locator("select.hours").select_option("2")
    card.locator("button.confirm").click()
    boss.locator("#incident-list li.empty", has_text="没有待核实").wait_for(timeout=10_000)
    with fresh.contact.sessions() as s:
        row = s.get(Incident, incident_id)
        assert row is not None and row.outage_ids
        outage = s.get(m.Outage, row.outage_ids[0])
        assert outage is not None and outage.reason == "变压器故障，正在抢修"
        assert dt.timedelta(hours=1.9) < outage.expected_end - m.utcnow() < dt.timedelta(hours=2.1)

    boss.goto(f"{fresh.url}/console/kpi")
    for chart in ("channels", "rates", "handling", "satisfaction", "reasons", "functions", "areas", "forecast"):
        drawn = boss.locator(f"#chart-{chart}[data-drawn='1'] svg").first
        drawn.wait_for(timeout=30_000)
        assert boss.locator(f"#chart-{chart}").get_attribute("data-empty") == "1", chart
        assert boss.locator(f"#chart-{chart} svg text", has_text="暂无" if chart != "forecast" else "不足一周").count()
    assert "历史话务不足一周" in boss.locator("#forecast-method").inner_text()
    height = boss.evaluate("document.documentElement.scrollHeight")
    assert height < 4000, height  # was 33,554,432 px with an empty transfer-reasons chart
    outages = boss.locator("#incident-list")
    outages.locator("li", has_text="故障停电").wait_for(timeout=15_000)
    text = outages.inner_text()
    assert "城南区一网格" in text and "变压器故障，正在抢修" in text and "预计" in text and "计划停电" in text
    boss.locator("#forecast").scroll_into_view_if_needed()  # the sections below the charts are reachable
    assert boss.locator("#forecast").is_visible()
    boss.screenshot(path=str(SHOTS / "kpi-empty.png"), full_page=True)
