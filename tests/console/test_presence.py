"""Presence and routing through the console's own HTTP API and live socket (the real app on a real SQLite file,
with a small stand-in for Rasa's tracker API): status from the header, offers pushed to the chosen agent,
accept greets the customer, decline goes to the next agent, two accepts race, a supervisor assigns, logout is
离线, and the supervisor is never counted as an online agent."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestServer
from sqlalchemy import update

from backend import models as m
from backend.contact_centre import AgentStatus, CaseStatus, ContactStore, EscalationInfo, Presence
from backend.contact_centre.agents import ONLINE_WINDOW
from backend.db import make_engine, make_sessionmaker, open_database
from console.app import create_app
from console.clients import ConsoleAgent, new_session
from console.config import ConsoleConfig

PASSWORD = "presence-pass-1"
STAFF = (("1001", "张丽", "agent"), ("1002", "王强", "agent"), ("9001", "刘主管", "supervisor"))


def _rasa_stub(events: dict[str, list[dict[str, Any]]]) -> web.Application:
    async def tracker(request: web.Request) -> web.Response:
        return web.json_response({"events": events[request.match_info["sender"]], "slots": {}})

    async def append(request: web.Request) -> web.Response:
        body = await request.json()
        events[request.match_info["sender"]].extend(body if isinstance(body, list) else [body])
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/conversations/{sender}/tracker", tracker)
    app.router.add_post("/conversations/{sender}/tracker/events", append)
    return app


@asynccontextmanager
async def console(tmp_path: Path, offer_seconds: float = 20) -> AsyncIterator[tuple[str, ContactStore, dict]]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    open_database(url)[0].dispose()
    contact = ContactStore(make_sessionmaker(make_engine(url)))
    for username, name, role in STAFF:
        contact.add_agent(username, name, PASSWORD, role)
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    async with TestServer(_rasa_stub(events)) as rasa:
        cfg = ConsoleConfig(db_url=url, rasa_url=str(rasa.make_url("")), orders_interval=0, offer_seconds=offer_seconds)
        async with TestServer(create_app(cfg)) as server:
            yield str(server.make_url("")).rstrip("/"), contact, events


async def _agents(base: str, *usernames: str) -> dict[str, ConsoleAgent]:
    out = {}
    for username in usernames:
        agent = ConsoleAgent(new_session(), base)
        assert await agent.login(username, PASSWORD) == 302
        out[username] = await agent.connect()
    await asyncio.sleep(0.2)
    return out


async def _close(agents: dict[str, ConsoleAgent]) -> None:
    for agent in agents.values():
        await agent.close()
        await agent.http.close()


async def _get(agent: ConsoleAgent, path: str) -> tuple[int, dict[str, Any]]:
    """A GET of one of the console's JSON APIs: the status and the JSON object it answered."""
    status, got = await agent.get(path)
    return status, cast(dict[str, Any], got)


async def _post(agent: ConsoleAgent, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """A POST to one of the console's JSON APIs: the status and the JSON object it answered."""
    status, got = await agent.post(path, body)
    return status, cast(dict[str, Any], got)


def _ws(agent: ConsoleAgent) -> ClientWebSocketResponse:
    assert agent.ws is not None
    return agent.ws


def _agent_id(contact: ContactStore, username: str) -> int:
    agent = contact.agent_by_username(username)
    assert agent is not None, username
    return agent.id


def _presence(contact: ContactStore, agent_id: int) -> Presence:
    presence = contact.presence(agent_id)
    assert presence is not None, agent_id
    return presence


def _escalation(contact: ContactStore, case_id: int) -> EscalationInfo:
    case = contact.case(case_id)
    assert case is not None, case_id
    return case


def _case(contact: ContactStore, conversation: str, function: str = "bill_query") -> int:
    context = {"functions": [{"function": function, "confidence": 0.9, "text": "电费怎么这么多"}]}
    return contact.escalate(conversation, "chat", "customer_request", summary="客户问电费", context=context)[0].id


def run(tmp_path: Path, scenario: Callable[[str, ContactStore, dict], Awaitable[None]], **kw: float) -> None:
    async def main() -> None:
        async with console(tmp_path, **kw) as (base, contact, events):
            await scenario(base, contact, events)

    asyncio.run(main())


def test_opening_the_console_is_busy_until_the_agent_chooses_available_and_bad_choices_are_refused(tmp_path):
    async def scenario(base: str, contact: ContactStore, events: dict) -> None:
        a = await _agents(base, "1001")
        status, got = await _get(a["1001"], "/console/api/presence")
        assert status == 200 and got["me"]["status"] == "busy" and got["me"]["label"] == "示忙"
        assert [c["label"] for c in got["choices"]] == [
            "示闲", "示忙·话后处理", "示忙·会议", "示忙·培训", "小休·用餐", "小休·休息"
        ]  # fmt: skip
        for body, why in (
            ({"status": "offline"}, "退出登录"),
            ({"status": "busy"}, "请选择示忙的原因"),
            ({"status": "break:会议"}, "请选择小休的原因"),
            ({"status": "😀" * 40}, "请从列表中选择状态"),
            ({"status": ["available"]}, "请从列表中选择状态"),
        ):
            status, got = await _post(a["1001"], "/console/api/presence", body)
            assert status == 400 and why in got["error"], (body, got)
        assert _presence(contact, _agent_id(contact, "1001")).status == AgentStatus.BUSY  # unchanged
        status, got = await _post(a["1001"], "/console/api/presence", {"status": "break:用餐"})
        assert status == 200 and got["me"]["label"] == "小休（用餐）" and got["me"]["seconds"] == 0
        status, got = await _post(a["1001"], "/console/api/presence", {"status": "available"})
        assert status == 200 and got["me"]["status"] == "available"
        # logging out is 离线 at once
        status, _ = await a["1001"].post("/console/logout", {}, csrf=a["1001"].csrf)
        assert _presence(contact, _agent_id(contact, "1001")).status == AgentStatus.OFFLINE
        await _close(a)

    run(tmp_path, scenario)


def test_an_offer_is_pushed_accepted_and_the_customer_is_greeted(tmp_path):
    async def scenario(base: str, contact: ContactStore, events: dict) -> None:
        a = await _agents(base, "1001", "1002", "9001")
        for who in ("1001", "1002", "9001"):
            assert (await a[who].post("/console/api/presence", {"status": "available"}))[0] == 200
        assert [x.username for x in contact.agents_online()] == ["1001", "1002"]  # the supervisor is not counted
        case_id = _case(contact, "chat:offer-1")
        offer = await a["1001"].wait_for("offer", timeout=5)  # 1001 chose 示闲 first: idle the longest
        assert offer["case"] == case_id and offer["skill_name"] == "电费业务" and 15 <= offer["expires_in"] <= 20
        assert offer["channel_name"] == "网页聊天" and offer["reason"] == "客户要求转人工"
        status, queue = await _get(a["1002"], "/console/api/queue")
        assert [(c["id"], c["on_offer"], c["skill_name"]) for c in queue["waiting"]] == [(case_id, True, "电费业务")]
        status, got = await _post(a["1002"], f"/console/api/offers/{case_id}/accept")
        assert status == 409 and got["error"] == "这次来单已经超时，已转给其他同事"
        status, got = await _post(a["1002"], f"/console/api/cases/{case_id}/claim")  # no cherry-picking it
        assert status == 409 and "推送给其他同事" in got["error"]
        status, got = await _post(a["1001"], f"/console/api/offers/{case_id}/accept")
        assert status == 200 and got["url"] == f"/console/cases/{case_id}"
        assert (
            _escalation(contact, case_id).status == CaseStatus.CLAIMED
            and _escalation(contact, case_id).agent_id is not None
        )
        said = [e["text"] for e in events["chat:offer-1"] if e.get("event") == "bot"]
        assert said and said[-1].startswith("您好，我是人工客服张丽")
        status, got = await _post(a["1001"], f"/console/api/offers/{case_id}/accept")  # a second tab
        assert status == 409 and got["error"] == "这个会话您已经接起了"
        await _close(a)

    run(tmp_path, scenario)


def test_decline_goes_to_the_next_agent_and_a_lapse_twice_makes_the_agent_busy(tmp_path):
    async def scenario(base: str, contact: ContactStore, events: dict) -> None:
        a = await _agents(base, "1001", "1002")
        await a["1001"].post("/console/api/presence", {"status": "available"})
        await a["1002"].post("/console/api/presence", {"status": "available"})
        first = _case(contact, "chat:d-1")
        assert (await a["1001"].wait_for("offer", timeout=5))["case"] == first
        status, _ = await a["1001"].post(f"/console/api/offers/{first}/decline")
        assert status == 200
        assert (await a["1002"].wait_for("offer", timeout=5))["case"] == first  # the next agent, at once
        status, got = await _post(a["1001"], f"/console/api/offers/{first}/decline")
        assert status == 409 and got["error"] == "这次来单已经超时，已转给其他同事"
        # 1002 lets it lapse (3 s); it is nobody's now (1001 declined it), so a new case goes to 1002 twice
        gone = await a["1002"].wait_for("offer_gone", timeout=8)
        assert gone["case"] == first and "超时" in gone["text"]
        await a["1001"].post("/console/api/presence", {"status": "busy:会议"})
        second = _case(contact, "chat:d-2")
        assert (await a["1002"].wait_for("offer", timeout=5))["case"] == second
        presence = await a["1002"].wait_for("presence", timeout=8)
        assert presence["label"] == "示忙（未接来单）"
        assert (
            _escalation(contact, second).offered_to is None
            and _escalation(contact, second).status == CaseStatus.WAITING
        )
        await _close(a)

    run(tmp_path, scenario, offer_seconds=3)


def test_two_agents_accepting_at_once_one_wins_and_the_other_hears_a_colleague_took_it(tmp_path):
    async def scenario(base: str, contact: ContactStore, events: dict) -> None:
        a = await _agents(base, "1001", "1002", "9001")
        await a["1001"].post("/console/api/presence", {"status": "available"})
        case_id = _case(contact, "chat:race")
        await a["1001"].wait_for("offer", timeout=5)
        results = await asyncio.gather(
            _post(a["1001"], f"/console/api/offers/{case_id}/accept"),
            _post(a["9001"], f"/console/api/cases/{case_id}/claim"),  # the supervisor's manual claim, same moment
        )
        statuses = sorted(status for status, _ in results)
        assert statuses[0] == 200 and statuses[1] == 409
        if results[0][0] == 409:
            assert results[0][1]["error"] == "这个会话已被其他同事接起"
        said = [e["text"] for e in events["chat:race"] if e.get("event") == "bot"]
        assert len(said) == 1  # greeted once, by the winner
        await _close(a)

    run(tmp_path, scenario)


def test_a_supervisor_assigns_a_waiting_case_to_a_named_online_agent(tmp_path):
    async def scenario(base: str, contact: ContactStore, events: dict) -> None:
        a = await _agents(base, "1002", "9001")
        case_id = _case(contact, "chat:assign", "fault_repair")  # repair: 1002 is busy and would not be offered it
        status, got = await _post(a["1002"], f"/console/api/cases/{case_id}/assign", {"to": "1002"})
        assert status == 403
        status, got = await _get(a["9001"], "/console/api/team")
        assert status == 200 and [p["agent"] for p in got["agents"]] == ["1001", "1002"]
        assert {p["agent"]: p["online"] for p in got["agents"]} == {"1001": False, "1002": True}
        for to, code, why in (("1001", 409, "不在线"), ("9001", 400, "请从列表"), ("", 400, "请从列表")):
            status, got = await _post(a["9001"], f"/console/api/cases/{case_id}/assign", {"to": to})
            assert status == code and why in got["error"]
        status, got = await _post(a["9001"], f"/console/api/cases/{case_id}/assign", {"to": "1002"})
        assert status == 200 and got["agent"] == "王强"
        told = await a["1002"].wait_for("assigned", timeout=5)
        assert told["case"] == case_id and told["by"] == "刘主管"
        assert _escalation(contact, case_id).agent_id == _agent_id(contact, "1002")
        status, got = await _post(a["9001"], f"/console/api/cases/{case_id}/assign", {"to": "1002"})
        assert status == 409 and got["error"] == "这个会话已被其他同事接起"
        stats = contact.stats_today()
        assert stats["agents_online"] == ["王强"]  # the supervisor watching is not an online agent
        await _close(a)

    run(tmp_path, scenario)


def test_closing_the_last_tab_is_offline_after_the_grace_a_page_change_is_not(tmp_path):
    async def scenario(base: str, contact: ContactStore, events: dict) -> None:
        a = await _agents(base, "1001")
        await a["1001"].post("/console/api/presence", {"status": "available"})
        agent_id = _agent_id(contact, "1001")
        await _ws(a["1001"]).close()  # a page change: the next page's socket comes within the grace
        await asyncio.sleep(0.2)
        contact.expire_presence()
        assert _presence(contact, agent_id).status == AgentStatus.AVAILABLE and _presence(contact, agent_id).online
        with contact.sessions.begin() as s:  # as if the last tab had closed a heartbeat window ago
            s.execute(update(m.Agent).where(m.Agent.id == agent_id).values(last_seen=m.utcnow() - ONLINE_WINDOW))
        assert agent_id in contact.expire_presence()
        assert _presence(contact, agent_id).status == AgentStatus.OFFLINE
        await a["1001"].connect()  # back: 示忙 until they choose 示闲
        await asyncio.sleep(0.2)
        assert _presence(contact, agent_id).status == AgentStatus.BUSY
        await _close(a)

    run(tmp_path, scenario)


def test_an_open_console_stays_online_without_page_pings_and_a_logged_out_tab_is_closed(tmp_path, monkeypatch):
    from console import routing

    monkeypatch.setattr(routing, "KEEP_ONLINE", 0.2)  # 20 s in the product

    async def scenario(base: str, contact: ContactStore, events: dict) -> None:
        a = await _agents(base, "1001")
        agent_id = _agent_id(contact, "1001")
        await a["1001"].post("/console/api/presence", {"status": "available"})
        almost = m.utcnow() - ONLINE_WINDOW + dt.timedelta(seconds=1)  # a background tab: the page's pings slowed
        with contact.sessions.begin() as s:
            s.execute(update(m.Agent).where(m.Agent.id == agent_id).values(last_seen=almost))
        await asyncio.sleep(1.5)
        assert contact.expire_presence() == [] and _presence(contact, agent_id).status == AgentStatus.AVAILABLE
        other = ConsoleAgent(new_session(), base)  # the same agent logs out in another browser tab...
        other.http.cookie_jar.update_cookies({"p95598_console": a["1001"].session_cookie})
        other.csrf = a["1001"].csrf
        status, _ = await other.post("/console/logout")
        assert status in (200, 302) and _presence(contact, agent_id).status == AgentStatus.OFFLINE
        await asyncio.sleep(0.6)
        assert _ws(a["1001"]).closed  # ...and this tab's socket is closed: its page says the login has expired
        assert _presence(contact, agent_id).status == AgentStatus.OFFLINE and not _presence(contact, agent_id).online
        await other.http.close()
        await _close(a)

    run(tmp_path, scenario)
