"""Handoff to a person through the running product: Rasa, actions, knowledge and the console app."""

from __future__ import annotations

import asyncio
import re
import secrets

import pytest
import requests
from yarl import URL

from console.clients import ChatCustomer, ConsoleAgent, new_session, texts
from tests.conftest import DEMO_PASSWORD, Conversation

pytestmark = pytest.mark.usefixtures("nobody_online")  # tests.conftest


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 240))


async def _agent(http, stack, username="1001") -> ConsoleAgent:
    agent = ConsoleAgent(http, stack.console_url)
    assert await agent.login(username, DEMO_PASSWORD) == 302
    return await agent.connect()


def test_paused_bot_stays_silent_and_the_agent_has_everything(stack, contact):
    async def scenario():
        async with new_session() as http_a, new_session() as http_c:
            agent = await _agent(http_a, stack)
            await asyncio.sleep(0.3)  # the socket's heartbeat has marked the agent online
            customer = await ChatCustomer(http_c, stack.console_url).open()
            assert "户号" in texts(await customer.say("帮我查一下电费"))
            await customer.say("3201000001")
            assert "哪个月" in texts(await customer.say("0001"))
            got = await customer.say("转人工")
            handoff = next(i for i in got if i["type"] == "handoff")
            assert handoff["state"] == "waiting" and handoff["position"] >= 1
            assert "人工" in texts(got)
            await agent.wait_for("new_case", case=handoff["case"])

            waiting = texts(await customer.say("喂，还有人吗"))
            assert "第一位" in waiting or "前面还有" in waiting  # waiting: told their place; the bot answers nothing
            assert "电费" not in waiting
            heard = await agent.wait_for("customer", case=handoff["case"])
            assert heard["text"] == "喂，还有人吗"

            status, peek = await agent.get(f"/console/api/cases/{handoff['case']}")
            assert status == 200 and peek["slots"]["verified_account"] == "******0001"  # not claimed yet: masked

            status, _ = await agent.post(f"/console/api/cases/{handoff['case']}/claim")
            assert status == 200
            status, view = await agent.get(f"/console/api/cases/{handoff['case']}")
            said = [t["text"] for t in view["transcript"] if t["who"] == "customer"]
            assert said[:4] == ["帮我查一下电费", "3201000001", "0001", "转人工"] and "喂，还有人吗" in said
            assert view["profile"]["name"] == "王建国" and view["profile"]["verified"]
            assert view["slots"]["verified_account"] == "3201000001"
            assert "bill_query" in [f["function"] for f in view["functions"]]
            assert view["profile"]["outages"] and "王建国" in view["summary"] and "电费" in view["summary"]
            assert (await customer.wait_for("message", who="agent"))["text"].startswith("您好，我是人工客服")
            assert texts(await customer.say("好的")) == ""  # a person owns the case: neither bot nor reminder
            await agent.post(
                f"/console/api/cases/{handoff['case']}/messages", {"text": "王先生，上个月电费我帮您看了。"}
            )
            assert (await customer.wait_for("message", who="agent"))["text"] == "王先生，上个月电费我帮您看了。"

            status, _ = await agent.post(f"/console/api/cases/{handoff['case']}/return", {"disposition": "info_given"})
            assert status == 200
            await customer.wait_for("handoff", state="bot")
            reply = texts(await customer.say("再帮我查一下上个月的电费"))
            assert "元" in reply and "户号" not in reply  # the bot resumed with the account it had
            case = contact.case(handoff["case"])
            assert case.status == "returned" and case.disposition == "info_given"
            await customer.close()
            await agent.close()

    run(scenario())


def test_rest_channel_is_silent_while_paused(stack, contact):
    async def go_online():
        async with new_session() as http:
            agent = await _agent(http, stack)
            c = Conversation(stack.rasa_url)
            reply = await asyncio.to_thread(c.say, "我要找人工客服")
            assert "转接人工" in reply and any("handoff" in (m.get("custom") or {}) for m in c.replies)
            assert await asyncio.to_thread(c.say, "你好") == "" and c.replies == []
            tracker = requests.get(stack.api(f"/conversations/{c.sender}/tracker"), timeout=10).json()
            assert tracker["paused"] and tracker["events"][-1]["text"] == "你好"  # logged, not answered
            assert contact.open_case(c.sender).status == "waiting"
            await agent.close()

    run(go_online())


def test_agents_cannot_touch_each_others_cases_but_a_supervisor_can(stack, contact):
    case, _ = contact.escalate(
        "chat:role-test",
        "chat",
        "customer_request",
        summary="客户13912340001要求转人工",
        context={},
        account_no="3201000001",
        phone="13912340001",
    )

    async def scenario():
        async with new_session() as h1, new_session() as h2, new_session() as h3:
            a, b, boss = (
                await _agent(h1, stack, "1001"),
                await _agent(h2, stack, "1002"),
                await _agent(h3, stack, "9001"),
            )
            status, peek = await b.get(f"/console/api/cases/{case.id}")  # waiting: anyone may look, masked
            assert status == 200 and peek["profile"]["phone"] == "139****0001"
            assert peek["profile"]["account_no"] == "******0001" and "13912340001" not in str(peek)
            status, queue = await b.get("/console/api/queue")
            assert "13912340001" not in str(queue)
            assert (await a.post(f"/console/api/cases/{case.id}/claim"))[0] == 200
            status, own = await a.get(f"/console/api/cases/{case.id}")
            assert own["profile"]["phone"] == "13912340001"  # the owner sees it whole
            status, exported = await a.get(f"/console/api/cases/{case.id}/export")
            assert status == 200 and "139****0001" in exported and "13912340001" not in exported
            assert (await b.post(f"/console/api/cases/{case.id}/claim"))[0] == 403
            assert (await b.get(f"/console/api/cases/{case.id}"))[0] == 403
            assert (await b.post(f"/console/api/cases/{case.id}/messages", {"text": "hi"}))[0] == 403
            assert (await b.post(f"/console/api/cases/{case.id}/close", {"disposition": "resolved"}))[0] == 403
            assert (await b.get("/console/api/stats"))[0] == 403
            assert (await b.get(f"/console/cases/{case.id}"))[0] == 403
            assert (await boss.get(f"/console/api/cases/{case.id}"))[0] == 200
            status, page = await boss.get("/console/supervisor")
            assert status == 200 and "班长视图" in page and "张丽" in page and "客户要求转人工" in page
            status, stats = await boss.get("/console/api/stats")
            assert status == 200 and stats["agents_online"] and "客户要求转人工" in stats["by_reason"]
            status, moved = await a.post(
                f"/console/api/cases/{case.id}/transfer", {"to": "1002", "note": "客户要查电费，户号已核实"}
            )
            assert status == 200 and contact.case(case.id).agent_id == contact.agent_by_username("1002").id
            assert (await a.post(f"/console/api/cases/{case.id}/messages", {"text": "hi"}))[0] == 403
            assert (await b.post(f"/console/api/cases/{case.id}/close", {"disposition": "resolved"}))[0] == 200
            for x in (a, b, boss):
                await x.close()

    run(scenario())


def test_csrf_origin_and_session_fixation_are_refused(stack, contact):
    case, _ = contact.escalate("chat:csrf-test", "chat", "customer_request", summary="测试", context={})
    base = stack.console_url

    async def scenario():
        async with new_session() as http:
            agent = ConsoleAgent(http, base)
            assert (await agent.get("/console/api/queue"))[0] == 401
            http.cookie_jar.update_cookies({"p95598_console": "attacker-chosen-session-id"}, response_url=URL(base))
            assert await agent.login("1001", DEMO_PASSWORD) == 302
            session_cookie = agent.session_cookie
            assert session_cookie != "attacker-chosen-session-id"
            assert contact.login("attacker-chosen-session-id") is None
            assert (await agent.post(f"/console/api/cases/{case.id}/claim", csrf=""))[0] == 403
            assert (await agent.post(f"/console/api/cases/{case.id}/claim", csrf="forged"))[0] == 403
            assert (await agent.post(f"/console/api/cases/{case.id}/claim", origin="https://evil.example"))[0] == 403
            assert contact.case(case.id).status == "waiting"
            async with http.post(
                f"{base}/console/logout", data={"csrf": agent.csrf}, headers={"Origin": base}, allow_redirects=False
            ) as r:
                assert r.status == 302
            assert contact.login(session_cookie) is None
        async with new_session() as http:
            agent = ConsoleAgent(http, base)
            async with http.post(
                f"{base}/console/login", data={"username": "1001", "password": DEMO_PASSWORD}, allow_redirects=False
            ) as r:  # no login CSRF token: refused
                assert r.status == 401
            assert await agent.login("1001", "wrong-password") == 401
        contact.finish(case.id, "closed", "resolved")

    run(scenario())


def test_a_phone_case_continues_in_the_chat(stack, contact, cis):
    phone = Conversation(stack.rasa_url, metadata={"channel": "voice", "caller": "13912340004"})
    phone.sender = "voice:13912340004"
    phone.say("我家没电了")
    reply = phone.say("转人工")
    code = "".join("1" if ch == "幺" else ch for ch in re.search(r"续办([幺\d ]+)", reply).group(1) if ch != " ")
    assert len(code) == 6

    async def scenario():
        async with new_session() as http:
            customer = await ChatCustomer(http, stack.console_url).open()
            got = await customer.say(f"续办{code}")
            assert "接上" in texts(got)
            history = await customer.wait_for("history")
            assert "转人工" in [m["text"] for m in history["messages"] if m["who"] == "customer"]
            await customer.say("好的谢谢")
            await customer.close()

    run(scenario())
    tracker = requests.get(stack.api("/conversations/voice:13912340004/tracker"), timeout=10).json()
    channels = [(e.get("metadata") or {}).get("channel") for e in tracker["events"] if e["event"] == "user"]
    assert "voice" in channels and "chat" in channels  # one case, one timeline across the two channels


def test_anger_brings_a_person_when_one_is_online(stack, contact):
    async def scenario():
        async with new_session() as http_a, new_session() as http_c:
            agent = await _agent(http_a, stack)
            await asyncio.sleep(0.3)
            customer = await ChatCustomer(http_c, stack.console_url).open()
            got = await customer.say("你们这什么破服务，停电三天了没人管，气死我了")
            handoff = next(i for i in got if i["type"] == "handoff")
            assert contact.case(handoff["case"]).reason == "anger" and "抱歉" in texts(got)
            await agent.post(f"/console/api/cases/{handoff['case']}/claim")
            await agent.post(f"/console/api/cases/{handoff['case']}/close", {"disposition": "callback"})
            await customer.close()
            await agent.close()

    run(scenario())


def test_danger_to_life_runs_the_ordinary_flow_when_nobody_is_online_and_brings_a_person_when_one_is(stack, contact):
    from backend.case_view import transcript

    words = "楼下配电箱着火了，还在冒烟"

    async def scenario():
        async with new_session() as http_a, new_session() as http_c, new_session() as http_d:
            alone = await ChatCustomer(http_c, stack.console_url).open()
            got = await alone.say(words)  # nobody online: the bot's own answer (urgent report)
            assert got and not [i for i in got if i["type"] == "handoff"] and texts(got)
            parsed = requests.post(stack.api("/model/parse"), json={"text": words}, timeout=10).json()
            assert parsed["escalation"] == {"reason": "safety"} and parsed["intent"]["name"] != "human_agent"
            negated = requests.post(stack.api("/model/parse"), json={"text": "没有着火，也没冒烟"}, timeout=10).json()
            assert "escalation" not in negated
            await alone.close()
            again = await ChatCustomer(http_c, stack.console_url).open()  # the undone handoff left no trace
            assert [m["text"] for m in again.history["messages"] if m["who"] == "customer"] == [words]
            await again.close()

            agent = await _agent(http_a, stack)
            await asyncio.sleep(0.3)
            customer = await ChatCustomer(http_d, stack.console_url).open()
            got = await customer.say(words)
            handoff = next(i for i in got if i["type"] == "handoff")
            case = contact.case(handoff["case"])
            assert case.reason == "safety" and "您的安全最重要" in texts(got)
            tracker = requests.get(stack.api(f"/conversations/{case.conversation_id}/tracker"), timeout=10).json()
            assert [t["text"] for t in transcript(tracker["events"]) if t["who"] == "customer"] == [words]
            await agent.post(f"/console/api/cases/{handoff['case']}/claim")
            await agent.post(f"/console/api/cases/{handoff['case']}/close", {"disposition": "offline"})
            await customer.close()
            await agent.close()

    run(scenario())


def _signed(token: str) -> dict:
    import hashlib
    import time

    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    return {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest(),
    }


def test_wechat_webhook_routes_to_the_bot_and_refuses_forgeries(stack, contact):
    from xml.etree import ElementTree

    from tests.conftest import WECHAT_TOKEN

    url = f"{stack.console_url}/wechat"
    openid = "oWX-test-openid-0001"
    message = (
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{0}]]></FromUserName>"
        "<CreateTime>1764300000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[{1}]]></Content><MsgId>{2}</MsgId></xml>"
    )
    tracker_url = stack.api(f"/conversations/wechat:{openid}/tracker")
    forged = {**_signed("not-the-token")}
    r = requests.post(url, params=forged, data=message.format(openid, "我家停电了", 1).encode(), timeout=10)
    assert r.status_code == 403
    r = requests.post(url, params=_signed(WECHAT_TOKEN), data=b"<xml><ToUserName>broken", timeout=10)
    assert r.status_code == 400
    assert not [e for e in requests.get(tracker_url, timeout=10).json().get("events", []) if e["event"] == "user"]
    r = requests.post(
        url, params=_signed(WECHAT_TOKEN), data=message.format(openid, "我家停电了", 2).encode(), timeout=10
    )
    reply = ElementTree.fromstring(r.text)
    assert (
        r.status_code == 200 and reply.findtext("ToUserName") == openid and reply.findtext("FromUserName") == "gh_test"
    )
    assert "地址" in reply.findtext("Content")
    users = [e["text"] for e in requests.get(tracker_url, timeout=10).json()["events"] if e["event"] == "user"]
    assert users == ["我家停电了"]
