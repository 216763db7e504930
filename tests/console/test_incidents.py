"""Supervisors see suspected outages (疑似停电) on the console and decide each once: confirm (a fault outage is
recorded for its areas) or dismiss; agents may not; a second decision is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from analytics import incidents
from backend import models as m
from backend.db import make_engine, make_sessionmaker
from backend.models_incidents import Incident, IncidentStatus
from backend.synthetic import build_areas
from tests.analytics.kpi_contacts import contact
from tests.console.console_app import Agent, RunningConsole, running_console

AGENTS = (("7101", "班长甲", "supervisor"), ("7102", "班长乙", "supervisor"), ("7103", "坐席丙", "agent"))


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    with running_console(f"sqlite:///{tmp_path_factory.mktemp('incidents') / 'i.db'}", AGENTS) as running:
        with running.contact.sessions.begin() as s:  # the service areas incidents and outages refer to
            s.add_all(build_areas())
        yield running


def open_one(console: RunningConsole, area: str) -> int:
    now = m.utcnow()
    window = incidents.AreaWindow(area, 9, 0.8, 2e-7)
    return incidents.open_incident(console.contact.sessions, {area: window}, now, dt.timedelta(minutes=5), 5).id


def test_a_supervisor_lists_and_confirms_an_incident_and_a_second_decision_is_refused(
    console: RunningConsole,
) -> None:
    incident_id = open_one(console, "A09")
    boss, other = Agent(console.url).login("7101"), Agent(console.url).login("7102")
    listed = boss.get("/console/api/incidents").json()["incidents"]
    mine = next(i for i in listed if i["id"] == incident_id)
    assert mine["areas"][0]["name"] == "城南区一网格" and mine["areas"][0]["count"] == 9 and mine["contacts"] == 9
    assert "疑似停电" in mine["title"]
    assert "疑似停电" in boss.get("/console/supervisor", html=True).text  # the panel is on the supervisor view

    assert mine["window_minutes"] == 5  # the counts and the peak are per 5-minute window (5分钟峰值)

    confirm = {"note": "抢修班核实：10kV线路跳闸", "hours": 3, "reason": "10kV线路跳闸，正在抢修"}
    r = boss.post(f"/console/api/incidents/{incident_id}/confirm", confirm)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == IncidentStatus.CONFIRMED
    again = other.post(f"/console/api/incidents/{incident_id}/dismiss", {"note": "误报"})
    assert again.status_code == 409 and "已由其他班长处理" in again.text
    with make_sessionmaker(make_engine(console_db(console)))() as s:
        row = s.get(Incident, incident_id)
        assert row is not None and row.status == IncidentStatus.CONFIRMED and row.note == "抢修班核实：10kV线路跳闸"
        assert row.decided_by == f"agent:{console.contact.agent_by_username('7101').id}"  # type: ignore[union-attr]
        [outage] = s.scalars(select(m.Outage).where(m.Outage.id.in_(row.outage_ids))).all()
        assert outage.area_code == "A09" and outage.kind == "fault"
        assert outage.reason == "10kV线路跳闸，正在抢修"  # what customers hear is what the supervisor entered
        assert dt.timedelta(hours=2.9) < outage.expected_end - row.decided_at < dt.timedelta(hours=3.1)  # type: ignore[operator]
    assert all(i["id"] != incident_id for i in boss.get("/console/api/incidents").json()["incidents"])


def test_an_agent_may_not_decide_and_bad_input_is_refused_in_chinese(console: RunningConsole) -> None:
    incident_id = open_one(console, "A10")
    agent, boss = Agent(console.url).login("7103"), Agent(console.url).login("7101")
    assert agent.get("/console/api/incidents").status_code == 403
    assert agent.post(f"/console/api/incidents/{incident_id}/dismiss", {}).status_code == 403
    reason = {"reason": "故障抢修中"}
    assert boss.post(f"/console/api/incidents/{incident_id}/confirm", {**reason, "hours": 0}).status_code == 400
    assert boss.post(f"/console/api/incidents/{incident_id}/confirm", {**reason, "hours": "x"}).status_code == 400
    no_hours = boss.post(f"/console/api/incidents/{incident_id}/confirm", reason)  # no hidden default
    assert no_hours.status_code == 400 and "预计恢复时间" in no_hours.json()["error"]
    refused: list[tuple[dict[str, str], str]] = [({}, "请填写停电原因"), ({"reason": " "}, "请填写停电原因")]
    for bad, says in [*refused, ({"reason": "长" * 61}, "60字以内")]:
        r = boss.post(f"/console/api/incidents/{incident_id}/confirm", {**bad, "hours": 2})
        assert r.status_code == 400 and says in r.json()["error"], r.text
    assert boss.post(f"/console/api/incidents/{incident_id}/dismiss", {"note": "长" * 301}).status_code == 400
    assert boss.post("/console/api/incidents/999999/dismiss", {}).status_code == 404
    r = boss.post(f"/console/api/incidents/{incident_id}/dismiss", {"note": "施工误报"})
    assert r.status_code == 200 and r.json()["status"] == IncidentStatus.DISMISSED
    assert boss.post(f"/console/api/incidents/{incident_id}/dismiss", {}).status_code == 409


def test_the_dashboard_lists_outages_in_effect_and_suspected_ones_and_the_forecast_counts_them(
    console: RunningConsole,
) -> None:
    boss = Agent(console.url).login("7101")
    open_one(console, "A11")
    confirmed = open_one(console, "A13")
    now = m.utcnow()
    with console.contact.sessions.begin() as s:  # a planned outage elsewhere, one over, and outage calls now
        s.add(m.Outage(area_code="A12", kind="planned", start=now - dt.timedelta(hours=1),
                       expected_end=now + dt.timedelta(hours=2), reason="线路检修"))  # fmt: skip
        s.add(m.Outage(area_code="A14", kind="planned", start=now - dt.timedelta(hours=5),
                       expected_end=now - dt.timedelta(hours=1), reason="已结束"))  # fmt: skip
        s.add_all(contact(900 + n, now - dt.timedelta(minutes=10 + n), channel="voice", area_code="A12",
                          outage_related=True, turns=1, fallbacks=0) for n in range(3))  # fmt: skip
    r = boss.post(f"/console/api/incidents/{confirmed}/confirm", {"hours": 2, "reason": "故障抢修中"})
    assert r.status_code == 200, r.text

    items = boss.get("/console/api/kpi/live").json()["outages"]["items"]
    by_area = {i["areas"][0]: i for i in items if len(i["areas"]) == 1}
    assert by_area["A13"]["kind_name"] == "故障停电" and by_area["A13"]["reason"] == "故障抢修中"
    assert by_area["A13"]["expected_end"]
    assert by_area["A12"]["kind_name"] == "计划停电" and by_area["A12"]["reason"] == "线路检修"
    assert by_area["A11"]["kind_name"] == "疑似停电" and by_area["A11"]["expected_end"] is None
    assert by_area["A11"]["contacts"] == 9
    assert "A14" not in by_area  # over an hour ago

    f = boss.get("/console/api/kpi/forecast").json()
    # no week of history here: said so, not 0 calls and 0 agents; the planned outage's calls count as excess
    assert f["forecast"]["available"] is False and f["forecast"]["hours"] == []
    assert "历史话务不足一周" in f["forecast"]["note"] and f["chart"]["usermeta"]["empty"]
    assert f["forecast"]["incident_excess_now"] > 2  # 3 calls less a tenth of the hour's (tiny) baseline


def console_db(console: RunningConsole) -> str:
    return str(console.contact.sessions.kw["bind"].url)
