"""Work orders in the console (issue 16 §9): the agent sees an order's timeline and due time for the customer
of a case they hold; the supervisor sees overdue orders, team figures and the review queue, and re-dispatches.
Real app, real seeded SQLite, logged-in agents (no Rasa needed)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.cis import SqlCIS
from backend.contact_centre import Channel, ContactStore, EscalationReason
from backend.identity import IdentityStore
from backend.workorders import SYSTEM, WorkOrders
from backend.workorders.commitments import to_local
from backend.workorders.supervision import sweep
from console.app import create_app
from console.clients import ConsoleAgent, new_session
from console.config import ConsoleConfig
from scripts.stack import free_port
from tests.conftest import ARTIFACTS
from tests.console.console_app import small_back_end

PASSWORD = "order-views-pass"
ACCOUNT = "3201000001"  # 王建国, a demo customer
FAR = dt.timedelta(days=30)


@pytest.fixture
def db(tmp_path: Path):
    with small_back_end(tmp_path, PASSWORD) as found:
        yield found


def repair(sessions: sessionmaker[Session], conversation: str, key: str) -> str:
    order = SqlCIS(sessions).create_work_order(
        "fault_repair",
        "chat",
        {"fault_desc": "家里整个停电了", "address": "城东区和平路12号"},
        account_no=ACCOUNT,
        conversation_id=conversation,
        idempotency_key=key,
    )
    return order.number


def stored(sessions: sessionmaker[Session], number: str) -> tuple:
    """Everything a refused request must leave as it was."""
    with sessions() as s:
        o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        events = s.scalar(select(func.count()).select_from(m.WorkOrderEvent).where(m.WorkOrderEvent.order_id == o.id))
        notices = s.scalar(select(func.count()).select_from(m.OrderNotice).where(m.OrderNotice.order_id == o.id))
        return o.status, o.team_id, o.assignee_id, o.version, events, notices


def claim_for(contact: ContactStore, case_id: int, username: str) -> None:
    agent = contact.agent_by_username(username)
    assert agent is not None
    contact.claim(case_id, agent.id)


Scenario = Callable[[str, dict[str, ConsoleAgent]], Awaitable[None]]


def run(url: str, scenario: Scenario) -> None:
    async def main() -> None:
        app = create_app(ConsoleConfig(db_url=url, rasa_url="http://127.0.0.1:9", orders_interval=0))
        async with TestServer(app) as server:
            base = str(server.make_url("")).rstrip("/")
            agents: dict[str, ConsoleAgent] = {}
            async with new_session() as h1, new_session() as h2, new_session() as h3:
                for http, username in ((h1, "1001"), (h2, "1002"), (h3, "9001")):
                    agents[username] = ConsoleAgent(http, base)
                    assert await agents[username].login(username, PASSWORD) == 302
                await scenario(base, agents)

    asyncio.run(asyncio.wait_for(main(), 120))


def test_the_agent_serving_the_customer_sees_the_order_with_its_due_time_team_and_timeline(db) -> None:
    url, sessions = db
    number = repair(sessions, "chat:order-views-1", "ov-1")
    contact = ContactStore(sessions)
    case, _ = contact.escalate(
        "chat:order-views-1", Channel.CHAT, EscalationReason.CUSTOMER_REQUEST, summary="停电报修", context={},
        account_no=ACCOUNT,
    )  # fmt: skip
    claim_for(contact, case.id, "1001")
    IdentityStore(sessions).record("chat:order-views-1", ACCOUNT, "last4")  # what the bot escalates with: a proof
    order = WorkOrders(sessions).get(number)
    assert order is not None and order.team and order.assignee and order.due_at
    due = order.due_at

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        status, got = await a["1001"].get(f"/console/api/orders/{number}")
        assert status == 200 and isinstance(got, dict)
        assert got["status_label"] == "已派单" and got["team"] == order.team and got["assignee"] == order.assignee
        assert got["due_at"] == f"{to_local(due):%Y-%m-%d %H:%M}"
        assert got["due_step"] == "接单"  # the first step of the limit
        assert got["service"] == "故障报修"
        kinds = [(e["kind"], e["actor"], e["who"], e["source"], e["status_label"]) for e in got["timeline"]]
        assert kinds[0] == ("status", "bot", "智能客服", "chat", "已受理")
        assert kinds[1][:4] == ("dispatch", "bot", "智能客服", "chat") and kinds[1][4] == "已派单"
        assert got["timeline"][1]["from_label"] == "已受理" and order.team in got["timeline"][1]["note"]

        assert (await a["1002"].get(f"/console/api/orders/{number}"))[0] == 403  # not serving this customer
        assert (await a["9001"].get(f"/console/api/orders/{number}"))[0] == 200  # supervisors see any order
        assert (await a["1001"].get("/console/api/orders/G99999999999"))[0] == 404
        assert (await a["1001"].get("/console/api/orders/%3Cscript%3E"))[0] == 404

        status, page = await a["1001"].get(f"/console/cases/{case.id}")
        assert status == 200 and isinstance(page, str)
        row = re.search(rf'<li data-number="{number}">(.*?)</li>', page, re.S)
        assert row is not None
        assert "已派单" in row.group(1) and order.team in row.group(1) and order.assignee in row.group(1)
        assert f"{to_local(due):%m-%d %H:%M}前接单" in row.group(1) and "order-progress" in row.group(1)

    run(url, scenario)


def test_the_supervisor_sees_overdue_orders_and_re_dispatches_one(db) -> None:
    url, sessions = db
    late, other = repair(sessions, "chat:order-views-2", "ov-2"), repair(sessions, "chat:order-views-3", "ov-3")
    sweep(sessions, now=m.utcnow() + FAR)  # far past every time limit: escalated to the supervisor
    before = WorkOrders(sessions).get(late)
    assert before is not None and before.supervision_stage == 3 and before.team_id is not None
    home = before.team_id

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        sup, agent = a["9001"], a["1001"]
        assert (await agent.get("/console/api/supervision"))[0] == 403
        status, board = await sup.get("/console/api/supervision")
        assert status == 200 and isinstance(board, dict)
        row = next(o for o in board["overdue"] if o["number"] == late)
        assert row["stage"] == 3 and row["stage_label"] == "超时，已报主管" and row["team"] == before.team
        assert row["assignee"] == before.assignee and row["service"] == "故障报修" and row["team_id"] == before.team_id
        assert {late, other} <= {o["number"] for o in board["overdue"]}
        figures = next(f for f in board["figures"] if f["team"] == before.team)
        assert figures["open"] >= 2 and figures["overdue"] >= 2 and figures["warned"] == 0
        assert board["review"] == []

        status, page = await sup.get("/console/supervisor")
        assert status == 200 and isinstance(page, str) and f'data-number="{late}"' in page and "超时，已报主管" in page

        assert (await agent.get(f"/console/api/teams/{before.team_id}/members"))[0] == 403
        assert (await sup.get("/console/api/teams/9999/members"))[0] == 404
        assert (await sup.get("/console/api/teams/x/members"))[0] == 404
        status, team = await sup.get(f"/console/api/teams/{before.team_id}/members")
        assert status == 200 and isinstance(team, dict) and team["team"] == before.team
        members = team["members"]
        assert len(members) == 6 and {p["role_name"] for p in members} == {"台区经理", "抢修班", "营业"}
        assert any(p["on_duty"] for p in members)  # the repair crew's 24-hour rota
        assert sum(p["load"] for p in members) == 2  # both orders, each to the least loaded
        assert next(p for p in members if p["id"] == before.assignee_id)["load"] >= 1
        target = next(p for p in members if p["id"] != before.assignee_id)

        path, unchanged = f"/console/api/orders/{late}/dispatch", stored(sessions, late)
        stranger = (home % 24 + 1) * 100 + 1  # a member of the next team
        for who, body, code in (
            (agent, {"member_id": target["id"]}, 403),  # supervisors only
            (sup, {"member_id": stranger}, 400),  # another team's member without naming the team
            (sup, {"member_id": stranger, "team_id": before.team_id}, 400),  # named team is not theirs
            (sup, {"member_id": 99_999}, 400),
            (sup, {"member_id": "abc"}, 400),
            (sup, {"member_id": True}, 400),
            (sup, {"note": "x"}, 400),
            (sup, {"member_id": target["id"], "note": 5}, 400),
        ):
            status, text = await who.post(path, body)
            assert status == code, (body, text)
        assert "本网格班组" in str((await sup.post(path, {"member_id": stranger}))[1])
        assert (await sup.post(path, {"member_id": target["id"]}, csrf="wrong"))[0] == 403
        async with sup.http.post(
            f"{base}{path}", data="{not json", headers={"X-CSRF-Token": sup.csrf, "Origin": base}
        ) as r:
            assert r.status == 400
        assert (await sup.post("/console/api/orders/G99999999999/dispatch", {"member_id": target["id"]}))[0] == 404
        assert stored(sessions, late) == unchanged  # nothing refused left a trace

        status, got = await sup.post(path, {"member_id": target["id"], "note": "原处理人在处理另一处抢修"})
        assert status == 200 and isinstance(got, dict)
        assert (got["assignee_id"], got["assignee"], got["status"]) == (target["id"], target["name"], "dispatched")
        last = got["timeline"][-1]
        assert last["kind"] == "dispatch" and last["actor"] == "agent:9001" and last["source"] == "console"
        assert last["who"] == "坐席 9001" and last["source_label"] == "坐席工作台"
        with sessions() as s:
            o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == late)).one()
            assert o.assignee_id == target["id"] and o.team_id == before.team_id
            event = o.history[-1]
            assert (event.kind, event.actor, event.source) == ("dispatch", "agent:9001", "console")
            assert event.status == "dispatched"
            assert event.detail["why"] == "原处理人在处理另一处抢修" and event.detail["member"] == target["name"]

        # across teams only when the supervisor names the team
        status, moved = await sup.post(path, {"member_id": stranger, "team_id": stranger // 100})
        assert status == 200 and isinstance(moved, dict) and moved["team_id"] == stranger // 100

        # a withdrawn or a closed order cannot be re-dispatched
        desk = WorkOrders(sessions)
        desk.transition(other, "withdrawn", SYSTEM, note="客户撤销")
        frozen = stored(sessions, other)
        status, text = await sup.post(f"/console/api/orders/{other}/dispatch", {"member_id": target["id"]})
        assert status == 409 and "已撤销" in str(text) and "不能改派" in str(text)
        assert stored(sessions, other) == frozen
        closed = repair(sessions, "chat:order-views-4", "ov-4")
        for step in ("accepted", "resolved", "closed"):
            desk.transition(closed, step, SYSTEM)
        frozen = stored(sessions, closed)
        status, text = await sup.post(f"/console/api/orders/{closed}/dispatch", {"member_id": target["id"]})
        assert status == 409 and "已办结" in str(text)
        assert stored(sessions, closed) == frozen

    run(url, scenario)


def test_a_field_member_and_the_review_queue_show_by_name(db) -> None:
    """Timeline entries made in the field app name the member; an unsatisfied complaint waits for review."""
    url, sessions = db
    number = repair(sessions, "chat:order-views-5", "ov-5")
    desk = WorkOrders(sessions)
    order = desk.get(number)
    assert order is not None and order.assignee_id is not None
    from backend.workorders import Actor

    desk.transition(number, "accepted", Actor(f"field:{order.assignee_id}", "field_app"), member_id=order.assignee_id)
    complaint = SqlCIS(sessions).create_work_order(
        "complaint", "chat", {"details": "抢修太慢"}, account_no=ACCOUNT, conversation_id="chat:order-views-6"
    )
    for step in ("accepted", "resolved", "closed"):
        desk.transition(complaint.number, step, SYSTEM)
    with sessions.begin() as s:  # the survey is due now rather than after the configured delay
        for survey in s.scalars(select(m.Survey)):
            survey.sent_at = m.utcnow() - dt.timedelta(minutes=1)
    assert desk.answer_survey("chat", "chat:order-views-6", 1) == "review"

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        status, got = await a["9001"].get(f"/console/api/orders/{number}")
        assert status == 200 and isinstance(got, dict)
        accepted = got["timeline"][-1]
        assert accepted["who"] == order.assignee and accepted["source_label"] == "现场App"
        assert accepted["from_label"] == "已派单" and accepted["status_label"] == "已接单"
        status, board = await a["9001"].get("/console/api/supervision")
        assert status == 200 and isinstance(board, dict)
        assert [(r["number"], r["score"], r["service"]) for r in board["review"]] == [(complaint.number, 1, "投诉")]
        assert sum(f["answered"] for f in board["figures"]) == 1

    run(url, scenario)


@contextlib.contextmanager
def serving(url: str) -> Iterator[str]:
    """The console app on a free port, in a thread of its own (for a browser)."""
    loop, port, ready = asyncio.new_event_loop(), free_port(), threading.Event()
    app = create_app(ConsoleConfig(db_url=url, rasa_url="http://127.0.0.1:9", orders_interval=0))
    runner = web.AppRunner(app, shutdown_timeout=5)  # open console sockets do not hold the test up

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_in_a_browser_the_agent_opens_an_orders_timeline_and_the_supervisor_re_dispatches_it(db, browser) -> None:
    url, sessions = db
    late = repair(sessions, "chat:order-views-7", "ov-7")
    contact = ContactStore(sessions)
    case, _ = contact.escalate(
        "chat:order-views-7", Channel.CHAT, EscalationReason.CUSTOMER_REQUEST, summary="停电报修", context={},
        account_no=ACCOUNT,
    )  # fmt: skip
    claim_for(contact, case.id, "1001")
    sweep(sessions, now=m.utcnow() + FAR)
    before = WorkOrders(sessions).get(late)
    assert before is not None
    with serving(url) as base:
        agent = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN").new_page()
        log_in(agent, base, "1001")
        agent.wait_for_url(f"{base}/console")
        agent.goto(f"{base}/console/cases/{case.id}")
        agent.click(f'button.order-progress[data-number="{late}"]')
        steps = agent.locator(f'#orders li[data-number="{late}"] ol.order-timeline li')
        steps.nth(1).wait_for(timeout=10_000)
        assert "智能客服" in steps.first.inner_text() and "已受理" in steps.first.inner_text()
        assert "派单" in steps.nth(1).inner_text() and before.team in steps.nth(1).inner_text()
        agent.screenshot(path=str(ARTIFACTS / "console-order-timeline.png"), full_page=True)

        sup = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN").new_page()
        log_in(sup, base, "9001")
        sup.wait_for_url(f"{base}/console/supervisor")
        row = sup.locator(f'#overdue tr[data-number="{late}"]')
        assert "超时，已报主管" in row.inner_text() and before.team in row.inner_text()
        row.locator("button.redispatch").click()
        sup.locator("#redispatch:not(.hidden)").wait_for(timeout=10_000)
        options = sup.locator("#rd-member option")
        assert options.count() == 6 and "在办" in options.first.inner_text()
        target = next(
            int(v) for v in (options.nth(i).get_attribute("value") for i in range(6)) if int(v) != before.assignee_id
        )
        sup.select_option("#rd-member", str(target))
        sup.fill("#rd-note", "原处理人另有抢修")
        sup.locator("#redispatch button.primary").click()
        sup.locator("#board-note", has_text="已改派给").wait_for(timeout=10_000)
        sup.screenshot(path=str(ARTIFACTS / "console-supervisor-orders.png"), full_page=True)
        for page in (agent, sup):  # their sockets closed: the app stops at once
            page.context.close()
    with sessions() as s:
        o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == late)).one()
        event = o.history[-1]
        assert o.assignee_id == target
        assert (event.kind, event.actor, event.source) == ("dispatch", "agent:9001", "console")
        assert event.detail["why"] == "原处理人另有抢修"
