"""Replying in a real browser (issue 17 item 3; Debian chromium through Playwright): an agent at 1366×768 claims
a chat, sends with Enter, starts a new line with Shift+Enter (and an input method's Enter sends nothing), picks
常用语 with variables (one without a value is named and never sent), inserts a knowledge-base suggestion, adds an
internal note the customer's chat page never shows, and transfers the case to a skill group with a note.

The real console app and database; Rasa is the stand-in of tests/console/console_app.py, the knowledge service a
stand-in answering with the real articles of knowledge/kb. Screenshots: tests/artifacts/workspace/3-*.png."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend import models as m
from backend.contact_centre.canned import ensure_team_replies
from backend.db import open_database
from backend.identity import IdentityStore
from backend.synthetic import seed
from console.config import KNOWLEDGE
from knowledge.kb import load_articles
from tests.conftest import ARTIFACTS
from tests.console.browser_steps import console_login
from tests.console.console_app import PASSWORD, running_console

SHOTS = ARTIFACTS / "workspace"
AGENTS = (("1001", "张丽", "agent"), ("1002", "王强", "agent"), ("9001", "刘主管", "supervisor"))
NOTE = "客户说家里只有老人在，上门前请先打电话"


@pytest.fixture
def knowledge() -> Iterator[str]:
    """/kb/search over the real articles, ranked by the words of the question they share (no embeddings)."""
    articles = load_articles()

    class Search(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            query = str(body.get("query") or "")
            scored = sorted(
                ((sum(w in query for w in (a.title, *a.keywords)), a) for a in articles), key=lambda x: -x[0]
            )
            hits = [a.hit(float(n)) for n, a in scored[: int(body.get("top_k") or 3)] if n]
            data = json.dumps({"hits": hits}, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Search)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def console(tmp_path, knowledge):
    url = f"sqlite:///{tmp_path / 'reply.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=20)
    ensure_team_replies(sessions)
    engine.dispose()
    with running_console(url, AGENTS) as running:
        running.app[KNOWLEDGE].base_url = knowledge  # the stand-in above, for this app's suggestions
        yield running


def bubbles(phone) -> str:
    return phone.locator("#messages").inner_text()


def test_an_agent_replies_with_enter_canned_replies_suggestions_notes_and_a_transfer(console, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = console.url
    phone_context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    phone = phone_context.new_page()
    phone.goto(f"{base}/chat")
    phone.fill("#text", "我家电表显示屏不亮了，是不是欠费停电了")
    phone.press("#text", "Enter")
    phone.locator(".msg.bot .bubble", has_text="还有什么可以帮您").last.wait_for(timeout=15_000)
    token = next(c["value"] for c in phone_context.cookies() if c["name"] == "p95598_chat")
    conversation = f"chat:{token}"
    case, _ = console.contact.escalate(
        conversation,
        "chat",
        "customer_request",
        summary="客户要求转人工：电表不亮",
        context={},
        account_no="3201000001",
    )
    IdentityStore(console.contact.sessions).record(conversation, "3201000001", "last4")  # proved to the bot first

    agent = console_login(browser, base, "1001", PASSWORD, online=False)
    agent.goto(f"{base}/console/cases/{case.id}")
    agent.click("button.claim")
    agent.locator("#reply:not(.hidden)").wait_for()
    box = agent.locator("#reply-text")

    # Enter sends; the box empties and the customer sees it
    box.fill("王先生您好，我是客服张丽。")
    box.press("Enter")
    phone.locator(".msg.agent .bubble", has_text="我是客服张丽").wait_for(timeout=15_000)
    assert box.input_value() == ""
    # Shift+Enter starts a new line and sends nothing; an input method's Enter (composing) sends nothing either
    box.type("请问电表")
    box.press("Shift+Enter")
    box.type("是哪一块屏不亮？")
    assert box.input_value() == "请问电表\n是哪一块屏不亮？"
    agent.evaluate(
        """() => document.getElementById('reply-text').dispatchEvent(new KeyboardEvent('keydown',
            {key: 'Enter', keyCode: 229, isComposing: true, bubbles: true, cancelable: true}))"""
    )
    agent.wait_for_timeout(500)
    assert box.input_value() == "请问电表\n是哪一块屏不亮？" and "请问电表" not in bubbles(phone)
    box.press("Enter")
    phone.locator(".msg.agent .bubble", has_text="是哪一块屏不亮").wait_for(timeout=15_000)
    assert "请问电表\n是哪一块屏不亮" in phone.locator(".msg.agent .bubble").last.inner_text()

    # 常用语 by "/": the account's tail filled in from the bound account
    box.type("/户号")
    agent.locator("#canned-list li", has_text="户号确认").wait_for()
    agent.screenshot(path=str(SHOTS / "3-canned-picker.png"))
    box.press("Enter")
    expect(box).to_have_value("跟您确认一下，您办理的是尾号0001的户号，对吗？")
    box.press("Enter")
    phone.locator(".msg.agent .bubble", has_text="尾号0001").wait_for(timeout=15_000)
    # from the button, with the salutation the agent chose
    agent.select_option("#reply-gender", "male")
    agent.click("#canned-open")
    agent.fill("#canned-search", "问候")
    agent.locator("#canned-list li", has_text="问候").click()
    expect(box).to_have_value(re.compile(r"^王先生好，我是95598人工客服张丽"))
    box.fill("")
    # a variable with no value: named, left in the box for editing, never sent
    agent.click("#canned-open")
    agent.fill("#canned-search", "已建工单")
    agent.locator("#canned-list li", has_text="已建工单").click()
    error = agent.locator("#reply-error")
    expect(error).to_contain_text("这个会话还没有工单号，请先建单或手动填写")
    assert "{工单号}" in box.input_value() and box.input_value().startswith("已为王先生登记工单")
    agent.screenshot(path=str(SHOTS / "3-canned-missing-value.png"))
    box.press("Enter")
    expect(error).to_contain_text("还有没填的{工单号}")
    assert "{工单号}" in box.input_value()
    agent.wait_for_timeout(500)
    assert "登记工单" not in bubbles(phone)
    box.fill("")

    # a knowledge-base suggestion, inserted for editing
    insert = agent.locator("#suggestions li button.insert").first
    insert.wait_for(timeout=15_000)
    title = agent.locator("#suggestions li .title").first.inner_text()
    insert.click()
    expect(error).to_contain_text("已插入知识库答复")
    assert len(box.input_value()) > 10
    agent.screenshot(path=str(SHOTS / "3-kb-suggestion-inserted.png"))
    assert title and title not in bubbles(phone)  # inserted, not sent
    box.fill("")

    # an internal note: in the agent's timeline, never on the customer's page
    agent.check("#note-mode")
    box.fill(NOTE)
    box.press("Enter")
    agent.locator("#timeline li.turn.note", has_text=NOTE).wait_for()
    expect(error).to_contain_text("已添加内部备注")
    agent.screenshot(path=str(SHOTS / "3-internal-note.png"))
    agent.uncheck("#note-mode")
    phone.wait_for_timeout(1000)
    assert NOTE not in phone.content()
    phone.reload()
    phone.locator(".msg.agent .bubble", has_text="尾号0001").wait_for(timeout=15_000)
    assert NOTE not in phone.content()
    assert NOTE not in json.dumps(console.rasa.trackers[conversation], ensure_ascii=False)

    # transfer to a skill group with a note: back in the queue for that group, the customer told politely
    agent.click("#transfer-open")
    agent.select_option("#transfer-group", "billing")
    agent.click("#transfer-send")
    expect(error).to_contain_text("转接说明")  # the note is required
    agent.fill("#transfer-note", "客户问峰谷电价，户号已核实")
    agent.screenshot(path=str(SHOTS / "3-transfer-to-group.png"))
    agent.click("#transfer-send")
    agent.wait_for_url(f"{base}/console", timeout=10_000)
    phone.locator(".msg .bubble", has_text="电费业务").wait_for(timeout=15_000)
    phone.screenshot(path=str(SHOTS / "3-customer-chat-after-transfer.png"))
    assert NOTE not in phone.content() and "峰谷电价，户号已核实" not in phone.content()
    with console.contact.sessions() as s:
        row = s.get(m.Escalation, case.id)
        assert (row.status, row.agent_id, row.skill) == ("waiting", None, "billing")
        kinds = s.scalars(select(m.CaseNote.kind).where(m.CaseNote.case_id == case.id).order_by(m.CaseNote.id)).all()
        assert kinds == ["note", "transfer"]

    # the supervisor sees the note and the transfer in the timeline of the waiting case
    boss = console_login(browser, base, "9001", PASSWORD, online=False)
    boss.goto(f"{base}/console/cases/{case.id}")
    timeline = boss.locator("#timeline").inner_text()
    assert NOTE in timeline and "转接说明 · 张丽" in timeline and "客户问峰谷电价" in timeline
    boss.evaluate("() => { const t = document.getElementById('timeline'); t.scrollTop = t.scrollHeight; }")
    boss.screenshot(path=str(SHOTS / "3-timeline-notes-supervisor.png"))


def test_an_agent_keeps_personal_canned_replies_on_the_canned_page(console, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = console_login(browser, console.url, "1002", PASSWORD, online=False)
    page.goto(f"{console.url}/console/canned")
    page.locator("#canned-rows tr", has_text="稍等查询").wait_for()
    assert page.locator("#canned-rows tr", has_text="稍等查询").locator("button.edit").count() == 0  # team's
    page.fill("#canned-title", "复电时间")
    page.fill("#canned-text", "缴费后一般30分钟内自动复电，{客户称呼}如超时未复电请再联系我们。")
    page.click("#canned-save")
    row = page.locator("#canned-rows tr", has_text="复电时间")
    row.wait_for()
    assert "个人" in row.inner_text()
    page.fill("#canned-title", "笑脸")
    page.fill("#canned-text", "好的😊")
    page.click("#canned-save")
    page.locator("#canned-message", has_text="表情符号").wait_for()
    assert page.input_value("#canned-text") == "好的😊"  # kept for editing
    page.screenshot(path=str(SHOTS / "3-canned-page.png"), full_page=True)
    page.once("dialog", lambda d: d.accept())
    row.locator("button.delete").click()
    row.wait_for(state="detached")
    with console.contact.sessions() as s:
        assert s.scalars(select(m.CannedReply).where(m.CannedReply.title == "复电时间")).first() is None


def test_a_colleague_receiving_a_transfer_is_told_why_at_once(console, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    case, _ = console.contact.escalate(
        "chat:to-wang", "chat", "customer_request", summary="客户要求转人工", context={}, account_no="3201000002"
    )
    console.contact.claim(case.id, console.contact.agent_by_username("1001").id)
    wang = console_login(browser, console.url, "1002", PASSWORD, online=False)
    wang.goto(f"{console.url}/console")
    wang.locator("#online:not(.off)").wait_for(timeout=10_000)  # online: a colleague one can transfer to
    zhang = console_login(browser, console.url, "1001", PASSWORD, online=False)
    zhang.goto(f"{console.url}/console/cases/{case.id}")
    zhang.click("#transfer-open")
    zhang.check("input[name=transfer-kind][value=agent]")
    zhang.select_option("#transfer-to", "1002")
    zhang.fill("#transfer-note", "过户材料已收齐，待核对产权证")
    zhang.click("#transfer-send")
    pop = wang.locator("#pop", has_text="张丽转给您会话")
    pop.wait_for(timeout=10_000)
    assert "过户材料已收齐，待核对产权证" in pop.inner_text()
    wang.screenshot(path=str(SHOTS / "3-transfer-received.png"))
    pop.click()
    wang.wait_for_url(f"{console.url}/console/cases/{case.id}")
    wang.locator("#timeline li.turn.note.transfer", has_text="待核对产权证").wait_for()
    wang.locator("#reply:not(.hidden)").wait_for()  # his case now
