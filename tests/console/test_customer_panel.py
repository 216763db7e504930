"""The customer panel of a case (issue 17 item 1): search by 户号, phone or name, verification on the caller's
behalf under the bot's rules, binding, the history across contacts; and the case view's bugs (a bot question the
customer never saw, a fake "EXTERNAL" customer turn on channel "rest", a case masked again after it ended).

Real console app over a real seeded SQLite database, logged-in agents over HTTP; Rasa's tracker API is played by a
small HTTP server returning the stored conversation (no model needed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.case_view import requests_for_agent, transcript
from backend.cis import SqlCIS
from backend.contact_centre import Channel, ContactStore, EscalationReason
from backend.contact_centre.kinds import REASON_LABELS
from console.app import create_app
from console.clients import ConsoleAgent, new_session
from console.config import ConsoleConfig
from insight.publish import RunResults, publish
from tests.console.console_app import small_back_end

PASSWORD = "customer-panel-pass"
ACCOUNT = "3201000001"  # 王建国, 13912340001
OTHER = "3201000002"  # 李秀英, 13912340002, 预付费, overdrawn

Trackers = dict[str, dict[str, Any]]
Scenario = Callable[[str, dict[str, ConsoleAgent]], Awaitable[None]]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    with small_back_end(tmp_path, PASSWORD) as found:
        yield found


def open_case(
    sessions: sessionmaker[Session], conversation: str, *, account: str | None = None, phone: str | None = None,
    claim_by: str | None = "1001", channel: str = Channel.CHAT,
) -> int:  # fmt: skip
    contact = ContactStore(sessions)
    case, _ = contact.escalate(
        conversation, channel, EscalationReason.CUSTOMER_REQUEST, summary="客户要求转人工", context={},
        account_no=account, phone=phone,
    )  # fmt: skip
    if claim_by:
        agent = contact.agent_by_username(claim_by)
        assert agent is not None
        contact.claim(case.id, agent.id)
    return case.id


async def fake_rasa(trackers: Trackers) -> TestServer:
    """Rasa's tracker endpoint over the given conversations ({} for others); appended events are kept."""

    async def tracker(request: web.Request) -> web.Response:
        return web.json_response(trackers.get(request.match_info["sender"], {}))

    async def append(request: web.Request) -> web.Response:
        t = trackers.setdefault(request.match_info["sender"], {"events": [], "slots": {}})
        t["events"] = [*t.get("events", []), *await request.json()]
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/conversations/{sender}/tracker", tracker)
    app.router.add_post("/conversations/{sender}/tracker/events", append)
    server = TestServer(app)
    await server.start_server()
    return server


def run(url: str, scenario: Scenario, trackers: Trackers | None = None) -> None:
    async def main() -> None:
        rasa = await fake_rasa(trackers or {})
        try:
            rasa_url = str(rasa.make_url("")).rstrip("/")
            app = create_app(ConsoleConfig(db_url=url, rasa_url=rasa_url, orders_interval=0))
            async with TestServer(app) as server:
                base = str(server.make_url("")).rstrip("/")
                agents: dict[str, ConsoleAgent] = {}
                async with new_session() as h1, new_session() as h2, new_session() as h3:
                    for http, username in ((h1, "1001"), (h2, "1002"), (h3, "9001")):
                        agents[username] = ConsoleAgent(http, base)
                        assert await agents[username].login(username, PASSWORD) == 302
                    await scenario(base, agents)
        finally:
            await rasa.close()

    asyncio.run(asyncio.wait_for(main(), 120))


async def jget(agent: ConsoleAgent, path: str) -> tuple[int, dict[str, Any]]:
    status, got = await agent.get(path)
    return status, got if isinstance(got, dict) else {"page": got}


async def jpost(agent: ConsoleAgent, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    status, got = await agent.post(path, body)
    return status, got if isinstance(got, dict) else {"page": got}


def count(sessions: sessionmaker[Session], model: Any, *where: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- search -------------------------------------------------------------------------------------------------
def test_search_by_phone_account_or_part_of_the_name_masked_until_verified(db) -> None:
    url, sessions = db
    case = open_case(sessions, "chat:panel-search")

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        status, got = await jget(a["1001"], f"/console/api/cases/{case}/customers?q=13912340001")
        assert status == 200 and isinstance(got, dict)
        [hit] = got["results"]
        assert hit["account_no"] == ACCOUNT and hit["name"] == "王**" and hit["phone"] == "139****0001"
        assert hit["account_label"] == "******0001" and "和平路" not in hit["address"] and not hit["verified"]
        status, got = await jget(a["1001"], f"/console/api/cases/{case}/customers?q={ACCOUNT}")
        assert [r["account_no"] for r in got["results"]][0] == ACCOUNT  # exact match first
        status, got = await jget(a["1001"], f"/console/api/cases/{case}/customers?q=王建")
        assert status == 200 and ACCOUNT in [r["account_no"] for r in got["results"]]
        status, got = await jget(a["1001"], f"/console/api/cases/{case}/customers?q=1391234")
        assert 1 < len(got["results"]) <= 10  # a prefix matches many: the list is limited
        status, got = await jget(a["1001"], f"/console/api/cases/{case}/customers?q=查无此人")
        assert status == 200 and got["results"] == [] and got["note"] == "没有找到符合条件的客户。"
        for q, why in (("", "请输入"), ("12", "至少"), ("王😀", "只能"), ("1" * 21, "太长"), ("abc", "只能")):
            status, got = await jget(a["1001"], f"/console/api/cases/{case}/customers?q={q}")
            assert status == 400 and why in got["error"], (q, got)
        status, got = await jget(a["1002"], f"/console/api/cases/{case}/customers?q=13912340001")
        assert status == 403 and "其他同事" in got["error"]  # a colleague's case

    run(url, scenario)


# --- verify on behalf, bind ---------------------------------------------------------------------------------
def test_verify_on_behalf_counts_wrong_answers_like_the_bot_and_records_the_step(db) -> None:
    url, sessions = db
    conversation = "chat:panel-verify"
    case = open_case(sessions, conversation, phone="13800000000")

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        agent = a["1001"]
        status, got = await jpost(agent, f"/console/api/cases/{case}/verify", {"account_no": ACCOUNT, "last4": "9999"})
        assert status == 422 and "尾号不对" in got["error"]
        assert count(sessions, m.VerificationFailure, m.VerificationFailure.conversation_id == conversation) == 1
        assert count(sessions, m.Verification, m.Verification.conversation_id == conversation) == 0
        status, got = await jpost(agent, f"/console/api/cases/{case}/verify", {"account_no": ACCOUNT, "last4": "12"})
        assert status == 400 and "4位" in got["error"]  # not an answer: not counted
        assert count(sessions, m.VerificationFailure, m.VerificationFailure.conversation_id == conversation) == 1
        status, got = await jpost(agent, f"/console/api/cases/{case}/verify", {"account_no": ACCOUNT, "last4": "0001"})
        assert status == 200 and got["strength"] == 1 and "已核验" in got["message"] and got["bound"]
        with sessions() as s:
            v = s.scalars(select(m.Verification).where(m.Verification.conversation_id == conversation)).one()
            assert (v.account_no, v.method, v.strength) == (ACCOUNT, "agent-last4", 1)
            notes = list(s.scalars(select(m.CaseNote).where(m.CaseNote.case_id == case).order_by(m.CaseNote.id)))
            agent_row = s.scalars(select(m.Agent).where(m.Agent.username == "1001")).one()
            assert [n.kind for n in notes] == ["verify", "bind"]  # a proved customer is bound at once
            assert notes[0].agent_id == agent_row.id and notes[0].detail["account_no"] == ACCOUNT
            e = s.get(m.Escalation, case)
            assert e is not None and e.account_no == ACCOUNT
        status, got = await jpost(
            agent, f"/console/api/cases/{case}/verify", {"account_no": ACCOUNT, "last4": "0001", "name": "户主王建国"}
        )
        assert status == 200 and got["strength"] == 2  # strength 2: the holder's name as well
        status, got = await jpost(agent, f"/console/api/cases/{case}/bind", {"account_no": ACCOUNT})
        assert status == 200 and got["message"] == "已关联到该客户。"
        with sessions() as s:
            kinds = [n.kind for n in s.scalars(select(m.CaseNote).where(m.CaseNote.case_id == case))]
            assert kinds == ["verify", "bind", "verify", "bind"]  # binding again is recorded, the case unchanged
        status, got = await jpost(agent, f"/console/api/cases/{case}/bind", {"account_no": "9999999999"})
        assert status == 400 and "没有这个户号" in got["error"]
        status, got = await jpost(
            a["1002"], f"/console/api/cases/{case}/verify", {"account_no": ACCOUNT, "last4": "0001"}
        )
        assert status == 403

    run(url, scenario)


def test_three_wrong_answers_lock_the_conversation_even_for_the_right_one(db) -> None:
    url, sessions = db
    case = open_case(sessions, "chat:panel-lock")

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        for _ in range(2):
            status, _ = await jpost(
                a["1001"], f"/console/api/cases/{case}/verify", {"account_no": OTHER, "last4": "1111"}
            )
            assert status == 422
        status, got = await jpost(
            a["1001"], f"/console/api/cases/{case}/verify", {"account_no": OTHER, "last4": "1111"}
        )
        assert status == 429 and "暂停核验" in got["error"]
        status, got = await jpost(
            a["1001"], f"/console/api/cases/{case}/verify", {"account_no": OTHER, "last4": "0002"}
        )
        assert status == 429  # the bot's limits: a locked conversation gets no more answers
        assert count(sessions, m.Verification, m.Verification.conversation_id == "chat:panel-lock") == 0
        assert count(sessions, m.SecurityEvent, m.SecurityEvent.kind == "identity_lockout") == 1

    run(url, scenario)


def publish_insight(sessions: sessionmaker[Session]) -> None:
    """What an insight run found for OTHER: 欠费风险 (graded) and 敏感客户 with their reasons, a high arrears risk."""
    tags = [("欠费风险", "近12个月逾期缴费4次，最长逾期37天", "高"), ("敏感客户", "近12个月投诉3次", None)]
    publish(
        sessions,
        RunResults(
            engine="duckdb", period="2026-10", model_version="tree-test",
            tags=[{"account_no": OTHER, "tag": t, "reason": r, "grade": g, "rule_id": t, "rule_version": 1}
                  for t, r, g in tags],
            history=[{"account_no": OTHER, "tag": t, "gained_period": "2026-05", "lost_period": None}
                     for t, _, _ in tags],
            risk=[{"account_no": OTHER, "period": "2026-11", "probability": 0.82, "grade": "高",
                   "path": "近12个月逾期≥3次 且 预付费 → 高风险", "model_version": "tree-test"}],
        ),
    )  # fmt: skip


def test_the_panel_shows_profile_tags_arrears_and_history_whole_only_after_verification(db) -> None:
    url, sessions = db
    publish_insight(sessions)
    contact = ContactStore(sessions)
    earlier = open_case(sessions, "wechat:panel-earlier", account=OTHER, claim_by="1002", channel=Channel.WECHAT)
    contact.finish(earlier, "closed", "order_created")
    contact.ask("wechat:panel-earlier", "wechat", case_id=earlier, account_no=OTHER)
    contact.answer(f"case:{earlier}", 4, "处理得挺快")
    order = SqlCIS(sessions).create_work_order(
        "fault_repair", "wechat", {"fault_desc": "家里没电", "address": "城西区建设路45号"}, account_no=OTHER,
        conversation_id="wechat:panel-earlier", idempotency_key="panel-1",
    )  # fmt: skip
    case = open_case(sessions, "chat:panel-now")

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        agent = a["1001"]
        status, got = await jget(agent, f"/console/api/cases/{case}/customer")
        assert status == 200 and not got["bound"] and got["contacts"] == []
        assert (await jpost(agent, f"/console/api/cases/{case}/bind", {"account_no": OTHER}))[0] == 200
        status, got = await jget(agent, f"/console/api/cases/{case}/customer")
        p = got["profile"]
        assert (
            got["bound"] and not got["verified"] and p["phone"] == "139****0002" and p["account_label"] == "******0002"
        )
        # bound but not proved: who it is, masked, and none of the account's data
        assert p["locked"] and "tags" not in p and "arrears" not in p and "insight" not in p
        assert "近12个月" not in str(got)
        assert got["contacts"] == [] and got["ratings"] == [] and got["orders"] == []
        assert "13912340002" not in str(got) and "处理得挺快" not in str(got)
        status, _ = await jpost(agent, f"/console/api/cases/{case}/verify", {"last4": "0002"})  # the bound account
        status, got = await jget(agent, f"/console/api/cases/{case}/customer")
        p = got["profile"]
        assert p["tags"] == ["预付费"] and p["arrears"]["owes"] and p["arrears"]["balance"] < 0
        # the insight run's tags, each with its reason (and grade), and the risk with the tree path behind it
        assert [(t["tag"], t["grade"], t["since"]) for t in p["insight"]["tags"]] == [
            ("敏感客户", None, "2026-05"), ("欠费风险", "高", "2026-05")
        ]  # fmt: skip
        assert p["insight"]["tags"][1]["reason"] == "近12个月逾期缴费4次，最长逾期37天"
        risk = p["insight"]["risk"]
        assert (
            risk["grade"] == "高"
            and risk["path"] == "近12个月逾期≥3次 且 预付费 → 高风险"
            and risk["period"] == "2026-11"
        )
        status, view = await jget(agent, f"/console/api/cases/{case}")  # the case page's profile says the same
        assert status == 200 and view["profile"]["insight"]["risk"]["grade"] == "高"
        assert [t["tag"] for t in view["profile"]["insight"]["tags"]] == ["敏感客户", "欠费风险"]
        [now, before] = got["contacts"]
        assert now["current"] and before["id"] == earlier and before["channel"] == "微信"
        assert before["disposition"] == "已派工单" and before["reason"] == REASON_LABELS["customer_request"]
        [o] = got["orders"]
        assert o["number"] == order.number and o["service"] == "故障报修" and o["status_label"] == "已派单"
        assert [e["status_label"] for e in o["timeline"]][:2] == ["已受理", "已派单"] and not o["in_case"]
        [r] = got["ratings"]
        assert r["score"] == 4 and r["comment"] == "处理得挺快" and r["channel"] == "微信"
        assert (
            got["verified"] and got["profile"]["phone"] == "13912340002" and "建设路45号" in got["profile"]["address"]
        )
        assert [n["kind"] for n in got["notes"]] == ["关联客户", "核验"]
        status, got = await jget(a["1002"], f"/console/api/cases/{case}/customer")
        assert status == 403  # not theirs
        status, got = await jget(a["9001"], f"/console/api/cases/{case}/customer")
        assert status == 200 and got["profile"]["phone"] == "13912340002"  # a supervisor sees what the agent sees

    run(url, scenario)


def test_an_earlier_contacts_transcript_opens_for_the_same_customer_only(db) -> None:
    url, sessions = db
    earlier = open_case(sessions, "chat:panel-old", account=ACCOUNT, claim_by="1002")
    ContactStore(sessions).finish(earlier, "returned", "info_given")
    stranger = open_case(sessions, "chat:panel-stranger", account=OTHER, claim_by="1002")
    case = open_case(sessions, "chat:panel-new", account=ACCOUNT)
    trackers: Trackers = {
        "chat:panel-old": {
            "events": [
                {
                    "event": "user",
                    "text": "上个月电费怎么这么高",
                    "timestamp": 1_700_000_000,
                    "metadata": {"channel": "chat"},
                },
                {"event": "bot", "text": "请问您的户号是多少？", "timestamp": 1_700_000_001},
            ],
            "slots": {},
        }
    }

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        status, got = await jget(a["1001"], f"/console/api/cases/{case}/contacts/{earlier}")
        assert status == 200 and [t["text"] for t in got["turns"]] == ["上个月电费怎么这么高", "请问您的户号是多少？"]
        assert got["turns"][0]["who"] == "客户" and got["turns"][0]["channel"] == "网页聊天"
        status, got = await jget(a["1001"], f"/console/api/cases/{case}/contacts/{stranger}")
        assert status == 404 and "不属于当前客户" in got["error"]

    run(url, scenario, trackers)


# --- the case view's bugs -----------------------------------------------------------------------------------
PAUSED_EVENTS: list[dict[str, Any]] = [
    {"event": "user", "text": "家里突然没电了", "input_channel": "rest", "metadata": {"channel": "chat"},
     "parse_data": {"intent": {"name": "fault_repair", "confidence": 0.93}}},
    {"event": "bot", "text": "好的，马上帮您报修。请问停电的详细地址是哪里？"},
    {"event": "user", "text": "EXTERNAL: human_agent", "input_channel": "rest",
     "parse_data": {"intent": {"name": "human_agent", "confidence": 1.0}}},
    {"event": "bot", "text": "好的，正在为您转接人工客服，马上就为您接通。"},
    {"event": "pause"},
    {"event": "user", "text": "喂", "input_channel": "rest",
     "parse_data": {"intent": {"name": "greet", "confidence": 0.92}}},
    {"event": "bot", "text": "请问停电的详细地址是哪里？"},  # a form's re-ask while paused: never delivered
    {"event": "bot", "text": "您好，我是人工客服张丽。",
     "metadata": {"agent": "1001", "agent_name": "张丽", "channel": "console"}},
    {"event": "user", "text": "我家在和平路", "input_channel": "rest",
     "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.4}}},
    {"event": "resume"},
    {"event": "bot", "text": "接下来由智能客服继续为您服务。", "metadata": {"channel": "console", "system": True}},
]  # fmt: skip


def test_transcript_leaves_out_what_the_customer_never_saw_and_never_said() -> None:
    turns = transcript(PAUSED_EVENTS)
    said = [(t["who"], t["text"]) for t in turns]
    assert said == [
        ("customer", "家里突然没电了"),
        ("bot", "好的，马上帮您报修。请问停电的详细地址是哪里？"),
        ("bot", "好的，正在为您转接人工客服，马上就为您接通。"),
        ("customer", "喂"),
        ("agent", "您好，我是人工客服张丽。"),
        ("customer", "我家在和平路"),
        ("bot", "接下来由智能客服继续为您服务。"),
    ]
    assert {t["channel"] for t in turns} <= {"chat", "console", ""} and "rest" not in str(turns)


def test_recognised_requests_are_named_in_chinese_with_confidence_in_words() -> None:
    from backend.case_view import recognised

    shown = requests_for_agent(recognised(PAUSED_EVENTS))
    assert shown == [{"name": "故障报修", "certainty": "很确定", "text": "家里突然没电了"}]  # greet, fallback hidden
    words = requests_for_agent(
        [
            {"function": "bill_query", "confidence": 0.7, "text": "电费"},
            {"function": "affirm", "confidence": 0.5, "text": "对"},
        ]
    )
    assert [(w["name"], w["certainty"]) for w in words] == [("电费查询", "较确定"), ("确认", "不太确定")]


def test_after_return_to_bot_the_handler_still_sees_the_case_whole_with_order_and_closing_code(db) -> None:
    url, sessions = db
    conversation = "chat:panel-returned"
    case = open_case(sessions, conversation, account=ACCOUNT, phone="13912340001")
    trackers: Trackers = {conversation: {"events": PAUSED_EVENTS, "slots": {"address": "城东区和平路12号"}}}

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        agent = a["1001"]
        status, made = await jpost(
            agent,
            f"/console/api/cases/{case}/orders",
            {"function_id": "fault_repair", "note": "整栋楼停电", "request_id": "r1"},
        )
        assert status == 200
        status, _ = await jpost(agent, f"/console/api/cases/{case}/return", {"disposition": "order_created"})
        assert status == 200
        status, view = await jget(agent, f"/console/api/cases/{case}")
        assert status == 200 and view["case"]["status"] == "returned" and view["disposition"] == "已派工单"
        assert view["slots"]["address"] == "城东区和平路12号" and "13912340001" in str(view["profile"])  # not masked
        assert [t["text"] for t in view["transcript"]][0] == "家里突然没电了"
        status, got = await jget(agent, f"/console/api/cases/{case}/customer")
        assert made["number"] in [o["number"] for o in got["orders"] if o["in_case"]]
        async with agent.http.get(f"{base}/console/cases/{case}") as r:
            page = await r.text()
        assert r.status == 200 and "结束方式：已派工单" in page and "故障报修" in page and "很确定" in page
        assert "fault_repair" not in page.split("<aside")[1].split("<select")[0]  # no raw ids in the panel
        assert "nlu_fallback" not in page and "0.40" not in page and "EXTERNAL" not in page and "rest" not in page
        status, _ = await jget(a["1002"], f"/console/api/cases/{case}")
        assert status == 403  # a colleague still may not read it
        status, view = await jget(a["9001"], f"/console/api/cases/{case}")
        assert status == 200 and view["slots"]["address"] == "城东区和平路12号"

    run(url, scenario, trackers)
