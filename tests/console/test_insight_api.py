"""The insight page's API on the real console (fake Rasa): supervisors only; without a finished run a polite empty
state; the latest run's hot spots paged and filtered with their charts; the drill-down from a line to its 台区,
its fault outages and its customers' contacts (the hand-made Parquet history, counted here from the files) and the
product's work orders there, each paged; the profile box's 户号 checked (not 10 digits, unknown) before a profile is
opened; bad parameters a Chinese 400, an unknown code a 404, never a 500. The page speaks plainly: 实际/预期, not
风险比 or q 值 (in the 说明)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from backend import models as m
from backend.db import open_database
from backend.synthetic import seed
from tests.console.console_app import Agent, RunningConsole, running_console
from tests.insight.handmade import ACCOUNT, HOT_FAULTS, HOT_LINE, HOT_PLANNED, HOT_TQ, publish_run, write_history

AGENTS = (("1001", "张丽", "agent"), ("9001", "刘主管", "supervisor"))
API = "/console/api/insight"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningConsole, Path]]:
    folder = tmp_path_factory.mktemp("insight")
    url = f"sqlite:///{folder / 'i.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=120)
    history = write_history(sessions, folder / "history")
    publish_run(sessions)
    with sessions.begin() as s:
        on_line = s.query(m.Customer).filter(m.Customer.tq_code == HOT_TQ).first()
        # on the line by its 台区, by its customer's 台区, and on another line
        places = [(HOT_TQ, None), (None, on_line.account_no if on_line else None), ("TQ0211", None)]
        for i, (tq, account) in enumerate(places):
            s.add(m.WorkOrder(number=f"GD2026{i:04d}", function_id="fault_repair", status="dispatched", channel="voice",
                              account_no=account, tq_code=tq, details={"fault_desc": "整栋楼没电"}))  # fmt: skip
    engine.dispose()
    with running_console(url, AGENTS, insight_history=str(history)) as running:
        yield running, history


@pytest.fixture(scope="module")
def boss(console: tuple[RunningConsole, Path]) -> Agent:
    return Agent(console[0].url).login("9001")


def test_only_supervisors_see_the_insight_page_and_its_api(console: tuple[RunningConsole, Path]) -> None:
    agent = Agent(console[0].url).login("1001")
    for path in ("/console/insight", f"{API}/hotspots", f"{API}/line/{HOT_LINE}", f"{API}/line/{HOT_LINE}/outages",
                 f"{API}/line/{HOT_LINE}/contacts", f"{API}/line/{HOT_LINE}/orders"):  # fmt: skip
        r = agent.get(path)
        assert r.status_code == 403 and "班长" in r.json()["error"], path


def test_the_page_serves_vega_locally(boss: Agent) -> None:
    page = boss.get("/console/insight", html=True)
    assert page.status_code == 200 and "故障与投诉热点" in page.text and "/console/kpi/vega.js" in page.text
    assert "'unsafe-eval'" in page.headers["Content-Security-Policy"]
    assert "实际/预期" in page.text and "扣除规模因素后仍明显偏多（已控制误报）" in page.text
    assert "工单系统中的工单" in page.text and "本系统工单" not in page.text
    assert "风险比" not in page.text and "q 值</th>" not in page.text and "<summary>说明</summary>" in page.text


def test_the_latest_run_ranked_and_paged_with_charts(boss: Agent) -> None:
    first = boss.get(f"{API}/hotspots", params={"level": "line", "measure": "faults", "size": 5}).json()
    assert first["run"]["period"] == "2026-10" and first["total"] == 48
    assert [r["rank"] for r in first["rows"]] == [1, 2, 3, 4, 5]
    top = first["rows"][0]
    assert (top["code"], top["observed"], top["significant"], top["area_name"]) == (HOT_LINE, 25, True, "城东区一网格")
    assert "预防性" in top["suggestion"] and [t["quarter"] for t in top["trend"]] == ["2026Q1", "2026Q2", "2026Q3"]
    assert [t["label"] for t in top["trend"]] == ["2026Q1", "2026Q2", "2026Q3"] and not top["trend"][0]["partial"]
    assert set(first["charts"]) == {"ranking", "trends"}
    ranking = first["charts"]["ranking"]
    assert len(ranking["layer"][0]["encoding"]) and ranking["data"]["values"][0]["实际/预期（倍）"] == 6.25
    expected = ranking["layer"][1]["encoding"]["color"]  # the black tick has its legend entry
    assert expected["datum"] == "预期" and expected["scale"]["domain"] == ["显著偏高", "未显著偏高", "预期"]
    assert "风险比" not in str(first["charts"])
    second = boss.get(f"{API}/hotspots", params={"level": "line", "measure": "faults", "size": 5, "page": 2}).json()
    assert [r["rank"] for r in second["rows"]] == [6, 7, 8, 9, 10]
    only = boss.get(f"{API}/hotspots", params={"level": "area", "measure": "complaints", "significant": "1"}).json()
    assert only["total"] == 2 and all(r["significant"] for r in only["rows"])
    summary = {(x["level"], x["measure"]): x for x in first["summary"]}
    assert summary[("tq", "faults")]["significant"] == 2 and summary[("tq", "complaints")]["ranked"] == 0
    empty = boss.get(f"{API}/hotspots", params={"level": "tq", "measure": "complaints"}).json()
    assert empty["total"] == 0 and empty["rows"] == [] and empty["message"]


def _contacts_on_line(history: Path, line: str) -> list[dict[str, object]]:
    customers = pq.read_table(history / "customers.parquet").to_pylist()
    on_line = {c["account_no"] for c in customers if c["line_code"] == line}
    rows = [c for c in pq.read_table(history / "contacts.parquet").to_pylist() if c["account_no"] in on_line]
    return sorted(rows, key=lambda c: (c["started_at"], c["contact_id"]), reverse=True)


def test_a_line_drills_down_to_its_districts_outages_contacts_and_orders(
    boss: Agent, console: tuple[RunningConsole, Path]
) -> None:
    history = console[1]
    d = boss.get(f"{API}/line/{HOT_LINE}").json()
    assert d["scope"]["name"] == "10kV 城东区3号线" and d["history"] and d["child_name"] == "台区"
    assert [k["code"] for k in d["children"]] == ["TQ0111", "TQ0112", "TQ0113", "TQ0114"]
    assert d["hotspots"]["faults"]["rank"] == 1 and d["children"][0]["hotspots"]["faults"]["rank"] == 1

    pages = [boss.get(f"{API}/line/{HOT_LINE}/outages", params={"page": p, "size": 10}).json() for p in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [10, 10, 5, 0] and pages[0]["total"] == HOT_FAULTS
    ids = [o["id"] for p in pages for o in p["items"]]
    assert len(set(ids)) == HOT_FAULTS and all(o["kind"] == "故障停电" for p in pages for o in p["items"])
    assert pages[0]["items"][0]["started_at"] > pages[0]["items"][-1]["started_at"]  # newest first
    every = boss.get(f"{API}/line/{HOT_LINE}/outages", params={"kind": "all"}).json()
    assert every["total"] == HOT_FAULTS + HOT_PLANNED

    expected = _contacts_on_line(history, HOT_LINE)
    assert len(expected) > 10
    got = boss.get(f"{API}/line/{HOT_LINE}/contacts", params={"size": 10}).json()
    assert got["total"] == len(expected)
    assert [c["id"] for c in got["items"]] == [c["contact_id"] for c in expected[:10]]
    assert all(c["account"].startswith("******") for c in got["items"])
    complaints = boss.get(f"{API}/line/{HOT_LINE}/contacts", params={"function": "complaint"}).json()
    assert complaints["total"] == sum(1 for c in expected if c["function"] == "complaint")
    counted = boss.get(f"{API}/line/{HOT_LINE}/contacts", params={"function": "complaints"}).json()
    assert counted["total"] == sum(1 for c in expected if c["function"] in ("complaint", "power_quality"))

    orders = boss.get(f"{API}/line/{HOT_LINE}/orders").json()
    assert orders["total"] == 2 and {o["number"] for o in orders["items"]} == {"GD20260000", "GD20260001"}
    assert orders["items"][0]["function"] == "故障报修" and orders["items"][0]["summary"] == "整栋楼没电"
    tq = boss.get(f"{API}/tq/{HOT_TQ}/outages", params={"size": 100}).json()
    assert tq["total"] == 5 and all(o["tq_code"] == HOT_TQ for o in tq["items"])  # its own, not the line's
    area = boss.get(f"{API}/area/A01").json()
    assert [k["code"] for k in area["children"]] == ["L011", "L012"] and area["child_name"] == "线路"


def test_the_profile_box_checks_the_account_first(boss: Agent, console: tuple[RunningConsole, Path]) -> None:
    found = boss.get(f"{API}/accounts/{ACCOUNT}")
    assert found.status_code == 200 and found.json() == {"account": "******0001", "found": True}
    for typed, status, says in (("12345", 400, "请输入10位户号。"), ("32010000a1", 400, "请输入10位户号。"),
                                ("3299999999", 404, "未找到该户号，请核对。")):  # fmt: skip
        r = boss.get(f"{API}/accounts/{typed}")
        assert r.status_code == status and r.json()["error"] == says, typed
    assert Agent(console[0].url).login("1001").get(f"{API}/accounts/{ACCOUNT}").status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        (f"{API}/hotspots", {"level": "street"}, 400, "层级只能是"),
        (f"{API}/hotspots", {"measure": "bills"}, 400, "指标只能是"),
        (f"{API}/hotspots", {"page": "0"}, 400, "页码"),
        (f"{API}/hotspots", {"page": "abc"}, 400, "页码"),
        (f"{API}/hotspots", {"size": "1000"}, 400, "每页条数"),
        (f"{API}/hotspots", {"significant": "yes"}, 400, "筛选"),
        (f"{API}/street/{HOT_LINE}", {}, 400, "层级只能是"),
        (f"{API}/line/L011;drop", {}, 400, "编号格式不对"),
        (f"{API}/line/{HOT_LINE}/outages", {"kind": "storm"}, 400, "停电类型"),
        (f"{API}/line/{HOT_LINE}/contacts", {"function": "nope"}, 400, "没有编号为 nope 的业务"),
        (f"{API}/line/{HOT_LINE}/contacts", {"page": "99999999"}, 400, "页码"),
        (f"{API}/line/L999", {}, 404, "没有找到编号为 L999 的线路"),
        (f"{API}/tq/TQ9999/orders", {}, 404, "台区"),
    ],
)
def test_bad_parameters_are_refused_in_chinese(
    boss: Agent, path: str, params: dict[str, str], status: int, says: str
) -> None:
    r = boss.get(path, params=params)
    assert r.status_code == status and says in r.json()["error"], r.text


def test_a_page_past_the_end_is_empty_not_an_error(boss: Agent) -> None:
    r = boss.get(f"{API}/line/{HOT_LINE}/contacts", params={"page": "500", "size": "100"})
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] > 0


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[RunningConsole]:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=10)
    engine.dispose()
    with running_console(url, AGENTS, insight_history=str(tmp_path / "no-history")) as running:
        yield running


def test_without_a_run_the_page_says_so_politely(fresh: RunningConsole) -> None:
    boss = Agent(fresh.url).login("9001")
    r = boss.get(f"{API}/hotspots")
    assert r.status_code == 200
    assert r.json()["run"] is None and r.json()["message"] == "暂无分析结果，请先运行分析。" and r.json()["rows"] == []
    assert boss.get("/console/insight", html=True).status_code == 200
    detail = boss.get(f"{API}/line/{HOT_LINE}").json()  # the CIS's own line, no history yet
    assert detail["history"] is False and "暂无历史明细数据" in detail["message"] and detail["hotspots"] == {}
    outages = boss.get(f"{API}/line/{HOT_LINE}/outages").json()
    assert outages["items"] == [] and "暂无历史明细数据" in outages["message"]
    assert boss.get(f"{API}/line/{HOT_LINE}/orders").json()["total"] == 0
    account = boss.get(f"{API}/accounts/{ACCOUNT}")
    assert account.status_code == 404 and "暂无历史明细数据" in account.json()["error"]
