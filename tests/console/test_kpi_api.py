"""The KPI dashboard's and the reports' APIs on the real console (fake Rasa): supervisors only (an agent gets 403),
the period's KPIs and chart specs, the live panel, the forecast, bad ranges as a Chinese 400, and a report
generated, listed, searched and served."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.db import make_sessionmaker, open_database
from tests.analytics.kpi_contacts import COMPLAINT_TEXT, add_contacts
from tests.console.console_app import Agent, RunningConsole, running_console

AGENTS = (("1001", "张丽", "agent"), ("9001", "刘主管", "supervisor"))
WEEK = {"from": "2026-11-23", "to": "2026-11-29", "grain": "day"}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    folder = tmp_path_factory.mktemp("kpi")
    url = f"sqlite:///{folder / 'k.db'}"
    engine, _ = open_database(url)
    with make_sessionmaker(engine)() as s:
        add_contacts(s)
    engine.dispose()
    mp = pytest.MonkeyPatch()
    mp.setenv("P95598_REPORTS_DIR", str(folder / "reports"))
    mp.setenv("P95598_KPI_ALERTS", "0")
    with running_console(url, AGENTS) as running:
        yield running
    mp.undo()


@pytest.fixture(scope="module")
def boss(console: RunningConsole) -> Agent:
    return Agent(console.url).login("9001")


def test_only_supervisors_see_the_dashboard_and_reports(console: RunningConsole) -> None:
    agent = Agent(console.url).login("1001")
    for path in ("/console/kpi", "/console/api/kpi", "/console/api/kpi/live", "/console/api/kpi/forecast",
                 "/console/reports", "/console/api/reports"):  # fmt: skip
        r = agent.get(path)
        assert r.status_code == 403, path
    refused = agent.post("/console/api/reports", {"kind": "weekly", "from": "2026-11-23"})
    assert refused.status_code == 403 and "班长" in refused.json()["error"]


def test_the_period_kpis_come_with_their_charts(boss: Agent) -> None:
    r = boss.get("/console/api/kpi", params=WEEK)
    assert r.status_code == 200
    data = r.json()
    totals = data["view"]["summary"]["totals"]
    assert (totals["contacts"], totals["escalated"]) == (7, 3)
    assert set(data["charts"]) == {"channels", "rates", "handling", "reasons", "functions", "areas", "satisfaction"}
    assert data["charts"]["channels"]["config"]["font"] == "WenQuanYi Micro Hei"
    area = boss.get("/console/api/kpi", params={**WEEK, "area": "A02"}).json()
    assert area["view"]["summary"]["totals"]["contacts"] == 2 and area["view"]["area_name"] == "城西测试网格"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({**WEEK, "from": "2026-12-30"}, "开始日期晚于结束日期"),
        ({**WEEK, "from": "2021-01-01"}, "最多选366天"),
        ({**WEEK, "area": "Z99"}, "没有编号为 Z99"),
        ({**WEEK, "grain": "year"}, "统计粒度"),
    ],
)
def test_bad_ranges_get_a_chinese_400(boss: Agent, params: dict[str, str], says: str) -> None:
    r = boss.get("/console/api/kpi", params=params)
    assert r.status_code == 400 and says in r.json()["error"]


def test_live_panel_and_forecast(boss: Agent) -> None:
    live = boss.get("/console/api/kpi/live").json()
    assert [w["minutes"] for w in live["traffic"]["windows"]] == [15, 60]
    assert live["traffic"]["agents_online"] >= 0 and "incidents" in live and live["alerts"] == []
    assert live["outages"] == {"items": [], "areas": []}
    f = boss.get("/console/api/kpi/forecast").json()
    if f["forecast"]["available"]:  # the hand-made contacts of late November 2026 are within the last 4 weeks
        assert len(f["forecast"]["hours"]) == 24 and f["chart"]["layer"]
    else:
        assert f["forecast"]["hours"] == [] and "不足一周" in f["forecast"]["note"]


def test_the_dashboard_page_serves_vega_locally(boss: Agent) -> None:
    page = boss.get("/console/kpi", html=True)
    assert page.status_code == 200 and "/console/kpi/vega.js" in page.text and "城东测试网格" in page.text
    assert "'unsafe-eval'" in page.headers["Content-Security-Policy"]
    js = boss.get("/console/kpi/vega.js")
    assert js.status_code == 200 and "vegaEmbed" in js.text and len(js.text) > 100_000


def test_a_report_is_generated_listed_searched_and_served(boss: Agent) -> None:
    r = boss.post("/console/api/reports", {"kind": "weekly", "from": "2026-11-23", "area": ""})
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["created_by"] == "刘主管（9001）" and done["contacts"] == 7
    listed = boss.get("/console/api/reports", params={"q": "太差"}).json()["reports"]
    assert [x["id"] for x in listed] == [done["id"]]
    html = boss.get(f"/console/reports/{done['id']}.html")
    assert html.status_code == 200 and COMPLAINT_TEXT in html.text
    if done["pdf"]:
        pdf = boss.get(f"/console/reports/{done['id']}.pdf")
        assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    else:
        assert done["pdf_error"]
    assert boss.get("/console/reports/99999.html").status_code == 404
    bad = boss.post("/console/api/reports", {"kind": "weekly", "from": "2026-11-23", "area": "Z99"})
    assert bad.status_code == 400 and "没有编号为 Z99" in bad.json()["error"]
