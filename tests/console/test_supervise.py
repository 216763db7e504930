"""Live-chat supervision through the real console app and database (Rasa replaced by the small stand-in of
tests/console/console_app.py, which keeps every event the console writes): only supervisors see the live view,
monitor, whisper and take over; a whisper reaches the handling agent and no one else (never the customer, never
Rasa); a takeover is guarded by the owner the supervisor saw, and the customer is told a 值班主管 continues."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from yarl import URL

from backend.contact_centre import CaseStatus, ContactStore, NoteKind
from console.clients import ChatCustomer, ConsoleAgent, new_session
from console.supervise_api import TrackerStore
from tests.console.console_app import PASSWORD, RunningConsole, running_console

AGENTS = (
    ("1001", "张丽", "agent"),
    ("1002", "王强", "agent"),
    ("9001", "刘主管", "supervisor"),
    ("9002", "陈主管", "supervisor"),
)
HINT = "客户情绪比较激动，先致歉再核对户号"


@pytest.fixture
def console(tmp_path) -> Iterator[RunningConsole]:
    with running_console(f"sqlite:///{tmp_path / 's.db'}", AGENTS) as running:
        yield running


def _id(contact: ContactStore, username: str) -> int:
    agent = contact.agent_by_username(username)
    assert agent is not None
    return agent.id


async def _login(http, url: str, username: str) -> ConsoleAgent:
    agent = ConsoleAgent(http, url)
    assert await agent.login(username, PASSWORD) == 302
    return await agent.connect()


async def _get(user: ConsoleAgent, path: str) -> tuple[int, Any]:
    return await user.get(path)


async def _post(user: ConsoleAgent, path: str, body: Any = None) -> tuple[int, Any]:
    return await user.post(path, body)


async def _quiet(user, seconds: float = 1.0) -> list[dict]:
    """Everything that arrives on the user's socket within `seconds`."""
    got = []
    try:
        while True:
            got.append(await asyncio.wait_for(user.inbox.get(), seconds))
    except TimeoutError:
        return got


def test_only_supervisors_see_the_live_view_monitor_whisper_or_take_over(console) -> None:
    contact = console.contact
    case, _ = contact.escalate("chat:only-supervisors", "chat", "customer_request", summary="转人工", context={})
    contact.claim(case.id, _id(contact, "1001"))

    async def scenario() -> None:
        async with new_session() as h1, new_session() as h2, new_session() as hb:
            owner, colleague, boss = (
                await _login(h1, console.url, "1001"),
                await _login(h2, console.url, "1002"),
                await _login(hb, console.url, "9001"),
            )
            for who in (owner, colleague):
                status, body = await _get(who, "/console/api/supervisor/live")
                assert status == 403 and body == {"error": "这个操作只有班长可以进行。"}
                for action in ("monitor", "whisper", "takeover"):
                    status, body = await _post(who, f"/console/api/cases/{case.id}/{action}", {"text": "hi"})
                    assert status == 403 and "班长" in body["error"]
            assert (await _get(colleague, f"/console/api/cases/{case.id}/supervision"))[0] == 403
            status, live = await _get(boss, "/console/api/supervisor/live")
            assert status == 200
            assert [a["agent"] for a in live["agents"]] == ["1001", "1002"]  # supervisors are not agents
            assert [a["cases"] for a in live["agents"]] == [[case.id], []]
            assert live["service"]["answered"] == 1 and live["service"]["handle_seconds"] is None  # none finished
            for path in ("whisper", "takeover", "monitor"):
                status, body = await _post(boss, f"/console/api/cases/{2**31 - 2}/{path}", {"text": HINT})
                assert (status, body) == (404, {"error": "没有找到这个会话。"})
            async with boss.http.post(
                f"{console.url}/console/api/cases/{case.id}/whisper",
                data="不是JSON",
                headers={"X-CSRF-Token": boss.csrf, "Origin": console.url, "Content-Type": "application/json"},
            ) as r:
                assert r.status == 400 and (await r.json())["error"] == "提交的格式不对，请刷新页面后再试。"
            closed, _ = contact.escalate("chat:closed-one", "chat", "customer_request", summary="转人工", context={})
            contact.finish(closed.id, "closed", "no_response")
            status, body = await _post(boss, f"/console/api/cases/{closed.id}/whisper", {"text": HINT})
            assert status == 409 and "没有坐席在处理" in body["error"]
            status, page = await _get(boss, "/console/supervisor")
            assert status == 200 and "按技能组排队" in page and "5.0" not in page
            for x in (owner, colleague, boss):
                await x.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    assert contact.case(case.id).agent_id == _id(contact, "1001")  # nothing changed hands
    assert contact.notes_of(case.id) == []


def test_a_whisper_reaches_the_handling_agent_only_and_bad_ones_are_refused(console) -> None:
    contact = console.contact

    async def scenario() -> None:
        async with new_session() as hc, new_session() as h1, new_session() as h2, new_session() as hb:
            customer = await ChatCustomer(hc, console.url).open()
            conversation = f"chat:{hc.cookie_jar.filter_cookies(URL(console.url))['p95598_chat'].value}"
            case, _ = contact.escalate(conversation, "chat", "customer_request", summary="转人工", context={})
            owner, colleague, boss = (
                await _login(h1, console.url, "1001"),
                await _login(h2, console.url, "1002"),
                await _login(hb, console.url, "9001"),
            )
            status, body = await _post(boss, f"/console/api/cases/{case.id}/whisper", {"text": HINT})
            assert status == 409 and body["error"] == "这个会话现在没有坐席在处理，无法监听或提示。"  # still waiting
            assert (await _post(owner, f"/console/api/cases/{case.id}/claim"))[0] == 200
            await _quiet(customer)
            await _quiet(colleague)
            for bad, says in [
                ({"text": ""}, "请先写好提示内容。"),
                ({"text": "   "}, "请先写好提示内容。"),
                ({}, "请先写好提示内容。"),
                ({"text": 42}, "请先写好提示内容。"),
                ({"text": "慢" * 301}, "提示最多300个字，现在是301个字。"),
                ({"text": "先\x07致歉"}, "提示里有不可见的控制字符，请重新输入。"),
            ]:
                status, body = await _post(boss, f"/console/api/cases/{case.id}/whisper", bad)
                assert (status, body) == (400, {"error": says}), bad
            assert contact.notes_of(case.id) == []  # nothing stored by a refusal

            status, note = await _post(boss, f"/console/api/cases/{case.id}/whisper", {"text": HINT + " 🙏"})
            assert status == 200 and note["kind"] == "whisper" and note["label"] == "班长提示"
            heard = await owner.wait_for("whisper", case=case.id)
            assert heard["text"] == HINT + " 🙏" and heard["agent"] == "刘主管"
            assert all(m.get("type") != "whisper" for m in await _quiet(colleague))  # a colleague hears nothing
            assert all(HINT not in str(m) for m in await _quiet(customer, 0.5))  # nor does the customer
            events = console.rasa.trackers.get(conversation, [])
            assert events and all(HINT not in str(e) for e in events)  # and the bot's conversation has no trace
            stored = [n for n in contact.notes_of(case.id) if n.kind == NoteKind.WHISPER]
            assert [(n.text, n.agent_id, n.detail) for n in stored] == [
                (HINT + " 🙏", _id(contact, "9001"), {"to": _id(contact, "1001")})
            ]
            status, seen = await _get(owner, f"/console/api/cases/{case.id}/supervision")
            assert status == 200 and [n["text"] for n in seen["notes"]] == [HINT + " 🙏"] and seen["mine"]
            status, text = await _post(boss, f"/console/api/cases/{case.id}/monitor")
            assert status == 200 and [n.kind for n in contact.notes_of(case.id)] == ["whisper", "monitor"]
            status, seen = await _get(owner, f"/console/api/cases/{case.id}/supervision")
            assert [n["kind"] for n in seen["notes"]] == ["whisper"]  # who listened in is the supervisors' record
            status, view = await _get(owner, f"/console/api/cases/{case.id}")
            assert status == 200 and [n["kind"] for n in view["notes"]] == ["whisper"]  # silent monitoring
            status, view = await _get(boss, f"/console/api/cases/{case.id}")
            assert status == 200 and [n["kind"] for n in view["notes"]] == ["whisper", "monitor"]
            for x in (customer, owner, colleague, boss):
                await x.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_a_takeover_is_guarded_tells_the_agent_and_the_customer_hears_the_duty_supervisor(console) -> None:
    contact = console.contact

    async def scenario() -> None:
        async with new_session() as hc, new_session() as h1, new_session() as hb, new_session() as hb2:
            customer = await ChatCustomer(hc, console.url).open()
            conversation = f"chat:{hc.cookie_jar.filter_cookies(URL(console.url))['p95598_chat'].value}"
            case, _ = contact.escalate(conversation, "chat", "customer_request", summary="转人工", context={})
            owner, boss, other_boss = (
                await _login(h1, console.url, "1001"),
                await _login(hb, console.url, "9001"),
                await _login(hb2, console.url, "9002"),
            )
            assert (await _post(owner, f"/console/api/cases/{case.id}/claim"))[0] == 200
            await _quiet(customer)
            url = f"/console/api/cases/{case.id}/takeover"
            for bad in ({"from": "1001"}, {"from": True}, {"from": None}):
                status, body = await _post(boss, url, bad)
                assert (status, body) == (400, {"error": "提交的格式不对，请刷新页面后再试。"}), bad
            status, body = await _post(boss, url, {"from": _id(contact, "1002")})  # not who handles it now
            assert status == 409 and "刷新" in body["error"]
            assert contact.case(case.id).agent_id == _id(contact, "1001")

            status, card = await _post(boss, url, {"from": _id(contact, "1001")})
            assert status == 200 and card["agent"] == "刘主管" and card["note"]["kind"] == "takeover"
            taken = contact.case(case.id)
            assert taken.status == CaseStatus.CLAIMED and taken.agent_id == _id(contact, "9001")
            told = await owner.wait_for("takeover", case=case.id)
            assert told["name"] == "刘主管"
            heard = await customer.wait_for("message", who="agent")
            assert heard["text"].startswith("您好，我是值班主管刘主管") and heard["name"] == "刘主管"
            assert any("值班主管刘主管" in str(e.get("text")) for e in console.rasa.trackers[conversation])

            status, body = await _post(other_boss, url, {"from": _id(contact, "1001")})  # too late: 刘主管 has it
            assert status == 409 and contact.case(case.id).agent_id == _id(contact, "9001")
            status, body = await _post(boss, f"/console/api/cases/{case.id}/whisper", {"text": HINT})
            assert status == 409 and "您本人" in body["error"]
            status, _ = await _post(owner, f"/console/api/cases/{case.id}/messages", {"text": "我还在"})
            assert status == 403  # the agent no longer answers the customer
            status, _ = await _post(boss, f"/console/api/cases/{case.id}/messages", {"text": "我来为您处理。"})
            assert status == 200 and (await customer.wait_for("message", who="agent"))["text"] == "我来为您处理。"
            kinds = [(n.kind, n.detail) for n in contact.notes_of(case.id)]
            assert kinds == [("takeover", {"from": _id(contact, "1001")})]
            for x in (customer, owner, boss, other_boss):
                await x.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_the_tracker_store_is_opened_once_rasa_has_made_it(tmp_path) -> None:
    """The console may start before Rasa writes its first conversation: the file is looked for at each read."""
    store = TrackerStore(str(tmp_path / "tracker.db"))
    assert store.engine() is None and TrackerStore("").engine() is None
    sqlite3.connect(tmp_path / "tracker.db").execute("CREATE TABLE events (id INTEGER PRIMARY KEY)").connection.commit()
    engine = store.engine()
    assert engine is not None and store.engine() is engine
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM events")).scalar() == 0
    store.close()
