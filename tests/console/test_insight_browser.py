"""The 客户洞察 page in a real browser (Debian chromium) over the hand-made history and run (tests/insight/handmade.py):
the supervisor opens it from the supervisor view, sees the ranked lines in plain words (实际/预期 in 倍, 显著偏高
explained with its q 值 in the tooltip and the 说明, 共 N 条, no engine name) with their sparklines (the run's last
quarter, October only, marked 2026Q4（仅10月）) and the suggestion for the top line, the ranking chart with a legend
entry for the expected tick and the trend chart with the partial quarter labelled, drawn by vega-embed with Chinese
text; an area's rows name the area once; drills down into the top line (its 台区, fault outages paged, contacts,
工单系统中的工单) and to a 台区 without work orders (该范围内暂无工单); a wrong 户号 in the profile box is said on
the page (请输入10位户号 / 未找到该户号) without opening a tab, a right one opens the customer's profile (the risk of
the 2026-11 bill, due 12月15日; 近12个月缴费渠道; a quarter without contacts on the chart); an agent opens the
profile of a verified caller from the case's customer panel. On a fresh installation the page says
暂无分析结果，请先运行分析. Screenshots: tests/artifacts/workspace/insight-hotspots.png, insight-drill.png,
insight-profile.png and insight-empty.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend import models as m
from backend.db import open_database
from backend.models_insight import Hotspot
from backend.synthetic import seed
from tests.conftest import ARTIFACTS
from tests.console.browser_steps import console_login
from tests.console.console_app import PASSWORD, Agent, RunningConsole, running_console
from tests.console.test_profile_api import open_case
from tests.insight.handmade import ACCOUNT, HOT_FAULTS, HOT_LINE, HOT_TQ, publish_run, write_history

SHOTS = ARTIFACTS / "workspace"
AGENTS = (("1001", "张丽", "agent"), ("9001", "刘主管", "supervisor"))


@pytest.fixture
def console(tmp_path: Path) -> Iterator[RunningConsole]:
    url = f"sqlite:///{tmp_path / 'insight.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=120)
    history = write_history(sessions, tmp_path / "history")
    publish_run(sessions)
    with sessions.begin() as s:  # the run's window ends with October: its last quarter holds one month
        for h in s.scalars(select(Hotspot)):
            h.trend = [*h.trend, {"quarter": "2026Q4", "count": 1}]
    with sessions.begin() as s:  # a repair order on the hot line's first 台区
        s.add(m.WorkOrder(number="GD20261205001", function_id="fault_repair", status="dispatched", channel="voice",
                          tq_code=HOT_TQ, details={"fault_desc": "整栋楼没电，闻到焦味"}))  # fmt: skip
    engine.dispose()
    with running_console(url, AGENTS, insight_history=str(history)) as running:
        yield running


def test_supervisor_reads_the_hot_spots_and_drills_down(browser: Any, console: RunningConsole) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    boss = console_login(browser, console.url, "9001", PASSWORD)
    boss.set_viewport_size({"width": 1366, "height": 900})
    boss.click("#insight-link")
    boss.wait_for_url(re.compile(r".*/console/insight$"))
    first = boss.locator(f"#hotspots tbody tr[data-code='{HOT_LINE}']")
    first.wait_for(timeout=15_000)
    assert "10kV 城东区3号线" in first.inner_text() and "显著偏高" in first.inner_text()
    assert "预防性巡视" in first.locator("td.suggestion").inner_text()
    assert first.locator("svg.spark polyline").count() == 1
    assert boss.locator("#hotspots tbody tr").count() == 20
    assert "第 1 / 3 页" in boss.locator("#hotspot-pager").inner_text()
    run = boss.locator("#run-info").inner_text()
    assert "截至 2026-10 账期" in run and "完成" in run and "duckdb" not in run and "（" not in run
    head = boss.locator("#hotspots thead").inner_text()
    assert "实际/预期" in head and "风险比" not in head and "q 值" not in head
    assert first.locator("td.ratio").inner_text() == "6.3倍"  # 25 of 4.0 expected
    assert first.locator("td.sig").get_attribute("title") == "扣除规模因素后仍明显偏多（已控制误报）。q 值 <0.001"
    assert boss.locator("#summary [data-kind='line-faults'] small").inner_text() == "共 48 条"
    assert "共排名" not in boss.locator("#summary").inner_text()
    spark = first.locator("svg.spark")
    assert spark.locator("title").text_content() == "2026Q1 7次，2026Q2 8次，2026Q3 9次，2026Q4（仅10月） 1次"
    assert spark.locator("circle.partial").count() == 1
    assert boss.locator("#hotspot-help").inner_text().strip() == "说明"  # folded
    boss.click("#hotspot-help summary")
    assert "q 值小于 0.05" in boss.locator("#hotspot-help").inner_text()
    for chart in ("ranking", "trends"):
        boss.locator(f"#chart-{chart}[data-drawn='1'] svg").first.wait_for(timeout=30_000)
    assert boss.locator("#chart-ranking svg text", has_text="实际与按规模预期").count() == 1
    assert boss.locator("#chart-ranking svg text", has_text="城东区3号线").count() >= 1
    legend = boss.locator("#chart-ranking svg .role-legend text").all_text_contents()
    assert legend == ["显著偏高", "未显著偏高", "预期"], legend
    assert boss.locator("#chart-trends svg text", has_text="2026Q4（仅10月）").count() == 1
    assert boss.locator("#chart-trends svg text", has_text="未满3个月").count() == 1
    boss.screenshot(path=str(SHOTS / "insight-hotspots.png"), full_page=True)

    boss.click("#hotspot-pager button.next")
    boss.locator("#hotspot-pager", has_text="第 2 / 3 页").wait_for(timeout=10_000)
    boss.click("#hotspot-pager button.prev")
    first.locator("button.drill-open").click()
    boss.locator("#drill-title", has_text="城东区3号线").wait_for(timeout=15_000)
    info = boss.locator("#drill-info").inner_text()
    assert "故障第1名" in info and "建议" in info
    assert boss.locator("#drill-children tbody tr").count() == 4
    outages = boss.locator("[data-pager='outages']")
    outages.locator(".page-info", has_text=f"共 {HOT_FAULTS} 条").wait_for(timeout=15_000)
    assert boss.locator("#drill-outages tbody tr").count() == 10
    outages.locator("button.next").click()
    outages.locator(".page-info", has_text="第 2 / 3 页").wait_for(timeout=10_000)
    assert boss.locator("#drill-contacts tbody tr").count() == 10
    assert "******" in boss.locator("#drill-contacts tbody").inner_text()  # account numbers masked
    assert "整栋楼没电" in boss.locator("#drill-orders tbody").inner_text()
    assert boss.locator("#drill h3", has_text="工单系统中的工单").count() == 1
    boss.locator("#drill").screenshot(path=str(SHOTS / "insight-drill.png"))
    boss.locator("#drill-children tbody tr[data-code='TQ0112'] button.drill-open").click()
    boss.locator("#drill-title", has_text="TQ0112").wait_for(timeout=15_000)
    boss.locator("#drill-orders tbody td", has_text="该范围内暂无工单。").wait_for(timeout=15_000)

    pages = len(boss.context.pages)
    for typed, says in (("12345", "请输入10位户号。"), ("3299999999", "未找到该户号，请核对。")):
        boss.fill("#profile-form input[name=account]", typed)
        boss.click("#profile-form button[type=submit]")
        boss.locator("#profile-status.error-text", has_text=says).wait_for(timeout=10_000)
    assert len(boss.context.pages) == pages  # said here, no tab opened
    boss.fill("#profile-form input[name=account]", ACCOUNT)
    with boss.context.expect_page() as opened:
        boss.click("#profile-form button[type=submit]")
    profile = opened.value
    profile.wait_for_load_state()
    text = profile.inner_text("body")
    assert "客户画像" in text and "王**" in text and "敏感客户" in text and profile.locator("svg").count() >= 4
    assert "2026-11账单欠费风险（12月15日到期）" in text and "下期" not in text
    assert "近12个月缴费渠道" in text and "常用缴费渠道" not in text
    assert profile.locator("svg text", has_text="2024Q2").count() == 1  # a quarter without contacts, shown as 0
    assert "已在新窗口打开" in boss.locator("#profile-status").inner_text()
    profile.set_viewport_size({"width": 1000, "height": 900})
    profile.screenshot(path=str(SHOTS / "insight-profile.png"), full_page=True)

    boss.select_option("#hotspot-form select[name=level]", "area")  # an area's rows: its name once
    boss.click("#hotspot-form button[type=submit]")
    area = boss.locator("#hotspots tbody tr[data-code='A01']")
    area.wait_for(timeout=15_000)
    assert area.inner_text().count("城东区一网格") == 1 and boss.locator("#hotspots th.col-area").is_hidden()


def test_an_agent_opens_the_verified_customers_profile_from_the_case(browser: Any, console: RunningConsole) -> None:
    case = open_case(console.contact.sessions, "chat:insight-browser")
    verified = Agent(console.url).login("1001").post(f"/console/api/cases/{case}/verify",
                                                     {"account_no": ACCOUNT, "last4": "0001"})  # fmt: skip
    assert verified.status_code == 200, verified.text
    agent = console_login(browser, console.url, "1001", PASSWORD)
    agent.goto(f"{console.url}/console/cases/{case}")
    link = agent.locator("#insight-tags").locator("xpath=preceding-sibling::h4[1]").locator("a.profile-link")
    link.wait_for(timeout=15_000)
    with agent.context.expect_page() as opened:
        link.click()
    profile = opened.value
    profile.wait_for_load_state()
    text = profile.inner_text("body")
    assert "客户画像" in text and "王建国" in text and "敏感客户" in text  # whole: the caller proved it is theirs


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[RunningConsole]:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=10)
    engine.dispose()
    with running_console(url, AGENTS, insight_history=str(tmp_path / "none")) as running:
        yield running


def test_without_a_run_the_page_says_so(browser: Any, fresh: RunningConsole) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    boss = console_login(browser, fresh.url, "9001", PASSWORD)
    boss.goto(f"{fresh.url}/console/insight")
    boss.locator("#run-info.no-run", has_text="暂无分析结果，请先运行分析").wait_for(timeout=15_000)
    assert boss.locator("#hotspots").is_hidden() and boss.locator("#summary > div").count() == 0
    boss.screenshot(path=str(SHOTS / "insight-empty.png"), full_page=True)
