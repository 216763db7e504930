"""Replying (issue 17 item 3): canned replies (常用语) with their variables and who may change them, internal
notes that never reach the customer, and transfer with a note to a colleague or a skill group.

The stores against a real SQLite database; the API through the real console app and database on a port, with
the small Rasa stand-in of tests/console/console_app.py keeping every event the console writes."""

from __future__ import annotations

import asyncio
import re

import pytest
import requests
from sqlalchemy import select
from yarl import URL

from backend import models as m
from backend.cis import SqlCIS
from backend.contact_centre import AgentInfo, CaseStatus, Conflict, ContactStore, NoteKind
from backend.contact_centre.canned import (
    TEAM_REPLIES,
    CannedError,
    NotAllowed,
    ReplyValues,
    ensure_team_replies,
    render,
    unfilled,
)
from backend.db import open_database
from backend.synthetic import seed
from console.clients import ChatCustomer, new_session
from tests.console.console_app import Agent, running_console

AGENTS = (("1001", "张丽", "agent"), ("1002", "王强", "agent"), ("9001", "刘主管", "supervisor"))
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---- the stores ----


@pytest.fixture
def contact(sessions) -> ContactStore:
    """A migrated SQLite database, and PostgreSQL where one runs (tests/conftest.py `sessions`)."""
    store = ContactStore(sessions)
    for username, name, role in AGENTS:
        store.add_agent(username, name, "password-1", role)
    return store


def who(contact: ContactStore, username: str) -> AgentInfo:
    agent = contact.agent_by_username(username)
    assert agent is not None
    return agent


def test_the_team_replies_are_written_once_into_a_database_without_any(contact):
    assert ensure_team_replies(contact.sessions) == len(TEAM_REPLIES)
    assert ensure_team_replies(contact.sessions) == 0  # the second start writes nothing
    replies = contact.canned_for(who(contact, "1001"))
    assert [r.title for r in replies] == [t for t, _ in TEAM_REPLIES] and all(r.team for r in replies)
    for reply in replies:  # every seeded text uses only known variables and passes the checks agents get
        assert contact.edit_canned(reply.id, who(contact, "9001"), reply.title, reply.text) is not None


def test_an_agent_keeps_personal_replies_and_cannot_change_the_teams_or_a_colleagues(contact):
    zhang, wang, boss = who(contact, "1001"), who(contact, "1002"), who(contact, "9001")
    team = contact.add_canned(boss, "稍等", "请{客户称呼}稍等。", team=True)
    mine = contact.add_canned(zhang, "我的问候", "您好，我是{坐席姓名}。")
    with pytest.raises(NotAllowed):
        contact.add_canned(zhang, "冒充团队", "内容", team=True)
    with pytest.raises(NotAllowed):
        contact.edit_canned(team.id, zhang, "改掉", "改掉")
    with pytest.raises(NotAllowed):
        contact.delete_canned(team.id, zhang)
    assert contact.edit_canned(mine.id, wang, "偷改", "偷改") is None  # a colleague's reply is not there for him
    assert contact.delete_canned(mine.id, wang) is False
    assert contact.canned(mine.id, wang) is None
    assert contact.edit_canned(mine.id, boss, "班长改", "班长改") is None  # personal means personal
    assert [r.title for r in contact.canned_for(wang)] == ["稍等"]
    assert [r.title for r in contact.canned_for(zhang)] == ["稍等", "我的问候"]
    assert [r.title for r in contact.canned_for(zhang, "坐席")] == ["我的问候"]  # searched in the text too
    assert [r.title for r in contact.canned_for(zhang, "100%")] == []  # LIKE wildcards are plain characters
    contact.add_canned(zhang, "问候语", "{客户称呼}好")
    contact.add_canned(zhang, "电话问候", "您好")
    # what the agent types after "/" finds titles starting with it first, then titles holding it, then texts
    contact.add_canned(zhang, "结束", "感谢来电，再见。问候家人")
    assert [r.title for r in contact.canned_for(zhang, "问候")] == ["问候语", "我的问候", "电话问候", "结束"]
    assert contact.edit_canned(team.id, boss, "稍等查询", "请{客户称呼}稍等片刻。").text == "请{客户称呼}稍等片刻。"
    assert contact.delete_canned(mine.id, zhang) is True
    assert [r.title for r in contact.canned_for(zhang)] == ["稍等查询", "问候语", "电话问候", "结束"]


@pytest.mark.parametrize(
    ("title", "text", "says"),
    [
        ("", "内容", "不能为空"),
        ("标题", "   ", "不能为空"),
        ("长" * 33, "内容", "标题最多32个字"),
        ("标题", "字" * 1001, "内容最多1000个字"),
        ("标题", 42, "都要填写文字"),
        (None, "内容", "都要填写文字"),
        ("笑脸", "您好😊", "表情符号"),
        ("标题", "您的{客户姓名}", "不认识变量{客户姓名}"),
        ("标题", "a\x07b", "控制字符"),
    ],
)
def test_bad_canned_replies_are_refused_in_chinese_and_nothing_is_stored(contact, title, text, says):
    zhang = who(contact, "1001")
    kept = contact.add_canned(zhang, "留着", "原来的内容")
    with pytest.raises(CannedError, match=re.escape(says)):
        contact.add_canned(zhang, title, text)
    with pytest.raises(CannedError, match=re.escape(says)):
        contact.edit_canned(kept.id, zhang, title, text)
    assert [(r.title, r.text) for r in contact.canned_for(zhang)] == [("留着", "原来的内容")]


def test_variables_are_filled_in_one_place_and_a_missing_one_is_named():
    text = "{客户称呼}好，我是{坐席姓名}。工单号{工单号}，户号尾号{户号尾号}。"
    full = ReplyValues("张丽", customer_name="王建国", order_no="G26120400001", account_no="3201000001", gender="male")
    assert render(text, full).text == "王先生好，我是张丽。工单号G26120400001，户号尾号0001。"
    assert render(text, full).missing == ()
    assert render("请{客户称呼}稍等", ReplyValues("张丽", "李秀英", gender="female")).text == "请李女士稍等"
    # no gender heard, or no bound account: the polite 您, never a guess
    assert render("请{客户称呼}稍等", ReplyValues("张丽", "李秀英")).text == "请您稍等"
    assert render("请{客户称呼}稍等", ReplyValues("张丽", gender="male")).text == "请您稍等"
    bare = render(text, ReplyValues("张丽"))
    assert bare.text == "您好，我是张丽。工单号{工单号}，户号尾号{户号尾号}。"
    assert bare.missing == ("工单号", "户号尾号")
    assert "这个会话还没有工单号，请先建单或手动填写" in bare.message and "户号" in bare.message
    assert unfilled(bare.text) == ["工单号", "户号尾号"] and unfilled("价格{100}元") == []


def test_a_transfer_to_a_group_is_a_guarded_change_that_clears_the_offers(contact):
    case, _ = contact.escalate("chat:group", "chat", "customer_request", summary="转人工", context={})
    with pytest.raises(Conflict):  # waiting: nobody holds it to transfer
        contact.to_group(case.id, "billing")
    zhang = who(contact, "1001")
    contact.claim(case.id, zhang.id)
    with contact.sessions.begin() as s:
        s.get(m.Escalation, case.id).declined_by = [who(contact, "1002").id]
    moved = contact.to_group(case.id, "billing")
    assert moved.status == CaseStatus.WAITING and moved.agent_id is None and moved.claimed_at is None
    with contact.sessions() as s:
        row = s.get(m.Escalation, case.id)
        assert (row.skill, row.declined_by, row.offered_to) == ("billing", [], None)
    with pytest.raises(Conflict):  # a second click finds it waiting already
        contact.to_group(case.id, "repair")


# ---- the API, through the running console ----


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('replying') / 'c.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=20)
    ensure_team_replies(sessions)
    engine.dispose()
    with running_console(url, AGENTS) as running:
        yield running


def error_of(r: requests.Response) -> str:
    assert r.headers["Content-Type"].startswith("application/json"), r.text
    message = r.json()["error"]
    assert CJK.search(message), message
    return message


def claimed_case(console, conversation: str, by: str = "1001", account: str | None = None) -> int:
    case, _ = console.contact.escalate(
        conversation, "chat", "customer_request", summary="客户要求转人工", context={}, account_no=account
    )
    console.contact.claim(case.id, console.contact.agent_by_username(by).id)
    return case.id


def events_text(console, conversation: str) -> str:
    return "\n".join(str(e) for e in console.rasa.trackers.get(conversation, []))


def test_canned_replies_over_the_api_follow_who_may_change_what(console):
    zhang, wang, boss = (Agent(console.url).login(u) for u in ("1001", "1002", "9001"))
    r = zhang.post("/console/api/canned", {"title": "电费解释", "text": "{客户称呼}的电费按阶梯计价。"})
    assert r.status_code == 201 and r.json()["team"] is False and r.json()["editable"] is True
    mine = r.json()["id"]
    listed = zhang.get("/console/api/canned").json()["replies"]
    assert [c["title"] for c in listed if c["team"]] == [t for t, _ in TEAM_REPLIES]
    assert not any(c["editable"] for c in listed if c["team"])
    assert [c["id"] for c in listed if not c["team"]] == [mine]
    assert [c["title"] for c in zhang.get("/console/api/canned", params={"q": "阶梯"}).json()["replies"]] == [
        "电费解释"
    ]
    assert mine not in [c["id"] for c in wang.get("/console/api/canned").json()["replies"]]
    team_id = listed[0]["id"]
    r = zhang.post(f"/console/api/canned/{team_id}", {"title": "改", "text": "改"})
    assert r.status_code == 403 and "班长" in error_of(r)
    r = zhang.post("/console/api/canned", {"title": "团队", "text": "内容", "team": True})
    assert r.status_code == 403 and "班长" in error_of(r)
    assert (
        zhang.http.delete(
            f"{console.url}/console/api/canned/{team_id}", headers={"Origin": console.url, "X-CSRF-Token": zhang.csrf}
        ).status_code
        == 403
    )
    r = wang.post(f"/console/api/canned/{mine}", {"title": "偷改", "text": "偷改"})
    assert r.status_code == 404 and error_of(r)
    r = zhang.post(f"/console/api/canned/{mine}", {"title": "电费解释", "text": "您好😊"})
    assert r.status_code == 400 and "表情" in error_of(r)
    r = zhang.post("/console/api/canned", {"title": "x", "text": "{客户名}"})
    assert r.status_code == 400 and "{客户称呼}" in error_of(r)
    r = zhang.post("/console/api/canned", ["not", "an", "object"])
    assert r.status_code == 400 and error_of(r)
    r = zhang.post("/console/api/canned/abc", {"title": "x", "text": "y"})
    assert r.status_code == 404 and error_of(r)
    assert (
        zhang.get("/console/api/canned", params={"q": "阶梯"}).json()["replies"][0]["text"]
        == "{客户称呼}的电费按阶梯计价。"
    )
    r = boss.post("/console/api/canned", {"title": "夜间抢修", "text": "夜间抢修一般两小时内到达。", "team": True})
    assert r.status_code == 201 and r.json()["team"] is True
    night = r.json()["id"]
    assert night in [c["id"] for c in wang.get("/console/api/canned").json()["replies"]]
    r = boss.post(f"/console/api/canned/{night}", {"title": "夜间抢修", "text": "夜间抢修一般一小时内到达。"})
    assert r.status_code == 200 and r.json()["text"] == "夜间抢修一般一小时内到达。"
    assert boss.http.delete(
        f"{console.url}/console/api/canned/{night}", headers={"Origin": console.url, "X-CSRF-Token": boss.csrf}
    ).json() == {"ok": True}
    page = zhang.get("/console/canned", html=True)
    assert page.status_code == 200 and "常用语" in page.text and "canned.js" in page.text


def test_a_canned_reply_is_filled_from_the_case_and_a_missing_value_is_never_sent(console):
    zhang = Agent(console.url).login("1001")
    conversation = "chat:canned-values"
    case_id = claimed_case(console, conversation, account="3201000001")
    titles = {c["title"]: c["id"] for c in zhang.get("/console/api/canned").json()["replies"]}
    r = zhang.post(f"/console/api/cases/{case_id}/canned/{titles['问候']}", {"gender": "male"})
    assert r.status_code == 200 and r.json()["text"].startswith("王先生好，我是95598人工客服张丽")
    r = zhang.post(f"/console/api/cases/{case_id}/canned/{titles['户号确认']}", {})
    assert r.json()["text"] == "跟您确认一下，您办理的是尾号0001的户号，对吗？"
    r = zhang.post(f"/console/api/cases/{case_id}/canned/{titles['已建工单']}", {"gender": "male"})
    assert r.status_code == 422 and r.json()["missing"] == ["工单号"]
    assert error_of(r) == "这个会话还没有工单号，请先建单或手动填写。"
    assert "{工单号}" in r.json()["text"] and r.json()["text"].startswith("已为王先生登记工单")
    before = len(console.rasa.trackers.get(conversation, []))
    r = zhang.post(f"/console/api/cases/{case_id}/messages", {"text": r.json()["text"]})
    assert r.status_code == 400 and "{工单号}" in error_of(r)
    assert len(console.rasa.trackers.get(conversation, [])) == before  # nothing reached the conversation
    order = SqlCIS(console.contact.sessions).create_work_order(
        "fault_repair", "chat", {"note": "屋里没电"}, account_no="3201000001", conversation_id=conversation
    )
    r = zhang.post(f"/console/api/cases/{case_id}/canned/{titles['已建工单']}", {})
    assert r.status_code == 200 and f"工单号{order.number}" in r.json()["text"] and "已为您登记" in r.json()["text"]
    r = zhang.post(f"/console/api/cases/{case_id}/messages", {"text": r.json()["text"]})
    assert r.status_code == 200 and order.number in events_text(console, conversation)
    # a case without a bound account: 您, and the account tail is named as missing
    bare = claimed_case(console, "chat:canned-bare")
    r = zhang.post(f"/console/api/cases/{bare}/canned/{titles['户号确认']}", {"gender": "female"})
    assert r.status_code == 422 and "户号" in error_of(r) and r.json()["missing"] == ["户号尾号"]
    r = Agent(console.url).login("1002").post(f"/console/api/cases/{bare}/canned/{titles['问候']}", {})
    assert r.status_code == 403 and error_of(r)  # a colleague's case


def test_an_internal_note_is_kept_for_agents_and_never_reaches_the_customer(console):
    async def scenario() -> None:
        async with new_session() as http:
            customer = await ChatCustomer(http, console.url).open()
            token = http.cookie_jar.filter_cookies(URL(console.url))["p95598_chat"].value
            conversation = f"chat:{token}"
            case_id = claimed_case(console, conversation)
            zhang = Agent(console.url).login("1001")
            secret = "客户语气很急，疑似邻居私拉电线，先别提报警"
            r = zhang.post(f"/console/api/cases/{case_id}/notes", {"text": secret})
            assert r.status_code == 201 and r.json()["kind"] == "note" and r.json()["agent"] == "张丽"
            assert zhang.post(f"/console/api/cases/{case_id}/notes", {"text": "  "}).status_code == 400
            r = zhang.post(f"/console/api/cases/{case_id}/notes", {"text": "长" * 501})
            assert r.status_code == 400 and "500" in error_of(r)
            r = zhang.post(f"/console/api/cases/{case_id}/messages", {"text": "您好，马上为您处理。"})
            assert r.status_code == 200
            got = await customer.wait_for("message", who="agent")
            assert got["text"] == "您好，马上为您处理。"  # the next thing the customer got was the message
            await asyncio.sleep(0.5)
            while not customer.inbox.empty():
                assert secret not in str(customer.inbox.get_nowait())
            assert secret not in events_text(console, conversation)  # not in the Rasa conversation
            assert "马上为您处理" in events_text(console, conversation)
            again = await ChatCustomer(http, console.url).open()  # a reload: the history has no note either
            assert "马上为您处理" in str(again.history) and secret not in str(again.history)
            for x in (customer, again):
                await x.close()
            # the owner and a supervisor see it in the case timeline; a colleague of a claimed case does not
            page = zhang.get(f"/console/cases/{case_id}", html=True).text
            assert secret in page and "内部备注 · 张丽" in page
            boss = Agent(console.url).login("9001")
            notes = boss.get(f"/console/api/cases/{case_id}/notes").json()["notes"]
            assert [n["text"] for n in notes] == [secret]
            assert Agent(console.url).login("1002").get(f"/console/api/cases/{case_id}/notes").status_code == 403
            with console.contact.sessions() as s:
                kinds = s.scalars(select(m.CaseNote.kind).where(m.CaseNote.case_id == case_id)).all()
            assert kinds == [NoteKind.NOTE]

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_transfer_to_a_skill_group_needs_a_note_and_puts_the_case_back_in_the_queue(console):
    async def scenario() -> None:
        async with new_session() as http:
            customer = await ChatCustomer(http, console.url).open()
            conversation = f"chat:{http.cookie_jar.filter_cookies(URL(console.url))['p95598_chat'].value}"
            case_id = claimed_case(console, conversation)
            with console.contact.sessions.begin() as s:
                s.get(m.Escalation, case_id).declined_by = [console.contact.agent_by_username("1002").id]
            zhang = Agent(console.url).login("1001")
            targets = zhang.get(f"/console/api/cases/{case_id}/transfer-targets").json()
            assert {"id": "billing", "name": "电费业务"} in targets["groups"]
            r = zhang.post(f"/console/api/cases/{case_id}/transfer", {"group": "billing"})
            assert r.status_code == 400 and "转接说明" in error_of(r)
            r = zhang.post(f"/console/api/cases/{case_id}/transfer", {"group": "nowhere", "note": "客户问电价"})
            assert r.status_code == 400 and "技能组" in error_of(r)
            r = zhang.post(f"/console/api/cases/{case_id}/transfer", {"note": "客户问电价"})
            assert r.status_code == 400 and error_of(r)
            assert console.contact.case(case_id).status == CaseStatus.CLAIMED  # refusals changed nothing
            r = zhang.post(
                f"/console/api/cases/{case_id}/transfer", {"group": "billing", "note": "客户问峰谷电价，已核实户号"}
            )
            assert r.status_code == 200 and r.json()["status"] == "waiting" and r.json()["group"] == "电费业务"
            with console.contact.sessions() as s:
                row = s.get(m.Escalation, case_id)
                assert (row.status, row.agent_id, row.skill, row.declined_by) == ("waiting", None, "billing", [])
                note = s.scalars(select(m.CaseNote).where(m.CaseNote.case_id == case_id)).one()
                assert (note.kind, note.text, note.detail["to_group"]) == (
                    "transfer",
                    "客户问峰谷电价，已核实户号",
                    "billing",
                )
            told = await customer.wait_for("message")
            assert "电费业务" in told["text"] and "请稍等" in told["text"]
            assert (await customer.wait_for("handoff"))["state"] == "waiting"
            assert "峰谷" not in events_text(console, conversation)  # the note stays inside
            r = zhang.post(f"/console/api/cases/{case_id}/transfer", {"group": "billing", "note": "再转一次"})
            assert r.status_code == 409 and error_of(r)  # no longer claimed: not hers to move
            # whoever picks it up next sees why it came
            page = Agent(console.url).login("1002").get(f"/console/cases/{case_id}", html=True).text
            assert "转接说明 · 张丽" in page and "客户问峰谷电价" in page
            await customer.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_transfer_to_a_colleague_carries_a_note_the_colleague_reads(console):
    conversation = "chat:to-colleague"
    case_id = claimed_case(console, conversation)
    zhang, wang = Agent(console.url).login("1001"), Agent(console.url).login("1002")
    r = zhang.post(f"/console/api/cases/{case_id}/transfer", {"to": "1001", "note": "转给自己"})
    assert r.status_code == 400 and error_of(r)
    r = zhang.post(f"/console/api/cases/{case_id}/transfer", {"to": "1002", "note": ""})
    assert r.status_code == 400 and "转接说明" in error_of(r)
    r = zhang.post(f"/console/api/cases/{case_id}/transfer", {"to": "1002", "note": "过户材料已收齐，待核对产权证"})
    assert r.status_code == 200 and r.json()["agent"] == "王强"
    case = console.contact.case(case_id)
    assert case.status == CaseStatus.CLAIMED and case.agent_id == console.contact.agent_by_username("1002").id
    view = wang.get(f"/console/api/cases/{case_id}").json()
    assert [(n["label"], n["agent"], n["text"]) for n in view["notes"]] == [
        ("转接说明", "张丽", "过户材料已收齐，待核对产权证")
    ]
    assert "王强" in events_text(console, conversation) and "产权证" not in events_text(console, conversation)
    assert zhang.get(f"/console/api/cases/{case_id}/notes").status_code == 403  # hers no more


def test_the_deploys_migrate_step_writes_the_team_replies_production_included(tmp_path, monkeypatch):
    from backend.__main__ import main

    monkeypatch.setenv("P95598_MODE", "production")  # no demo logins there; the team's replies are real content
    monkeypatch.setenv("P95598_DEMO_AGENTS", "0")
    monkeypatch.delenv("P95598_DEMO_PASSWORD", raising=False)
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    main(["migrate", "--url", url])
    main(["migrate", "--url", url])  # the next release's migrate adds nothing
    engine, sessions = open_database(url)
    with sessions() as s:
        rows = s.scalars(select(m.CannedReply)).all()
        assert sorted(r.title for r in rows) == sorted(t for t, _ in TEAM_REPLIES)
        assert all(r.agent_id is None for r in rows) and not s.scalars(select(m.Agent)).all()
    engine.dispose()
