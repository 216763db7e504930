"""The supervisor's live view and live-chat supervision in real browsers on the whole product (Rasa, actions,
console; Debian chromium): the supervisor sees the queue by skill group with the wait ticking and the agents by
status (not themselves), assigns the waiting customer to 张丽, opens the chat to monitor it live, whispers to
张丽 (her console shows it highlighted; the customer's chat page never does), then takes the chat over: 张丽 is
told, and the customer hears that the 值班主管 continues and gets the supervisor's reply.
Screenshots: tests/artifacts/workspace/7-*.png."""

from __future__ import annotations

import re

import pytest

from backend.contact_centre import ContactStore, NoteKind
from backend.db import make_engine, make_sessionmaker
from tests.conftest import ARTIFACTS, demo_agents_offline
from tests.console.browser_steps import console_login, open_chat, say

SHOTS = ARTIFACTS / "workspace"
CLOCK = re.compile(r"(?:(\d+)分)?(\d+)秒")
HINT = "先向客户致歉，再帮他核对上月的电量"


@pytest.fixture
def contact(seeded_db_url):
    store = ContactStore(make_sessionmaker(make_engine(seeded_db_url)))
    for case in store.queue() + store.cases_of():  # cases other tests left open would fill the views
        store.finish(case.id, "closed", "no_response")
    demo_agents_offline(store, log_out=True)  # and an agent left 示闲 would be offered our customer
    yield store
    demo_agents_offline(store, log_out=True)
    for case in store.cases_of() + store.queue():
        store.finish(case.id, "closed", "resolved")


def seconds(text: str) -> int:
    found = CLOCK.search(text)
    assert found, text
    return int(found.group(1) or 0) * 60 + int(found.group(2))


def test_supervisor_sees_the_floor_monitors_whispers_and_takes_over(stack, browser, contact):
    base = stack.console_url
    SHOTS.mkdir(parents=True, exist_ok=True)
    boss = console_login(browser, base, "9001")
    assert boss.url.endswith("/console/supervisor")
    zhang = console_login(browser, base, "1001")  # 示忙: no automatic offer, the supervisor assigns
    zhang.select_option("#presence", label="示忙·会议")
    zhang.locator('#presence-box[data-status="busy"]').wait_for(timeout=5_000)
    wang = console_login(browser, base, "1002")
    wang.select_option("#presence", label="小休·用餐")
    wang.locator('#presence-box[data-status="break"]').wait_for(timeout=5_000)

    phone = open_chat(browser, base)
    say(phone, "我想查一下电费，上个月怎么这么多", "户号")
    say(phone, "转人工", "转接人工")

    # the queue by skill group: the billing desk has one customer waiting, and the wait ticks on
    billing = boss.locator('#queue-by-skill tr[data-skill="billing"]')
    billing.locator("td.num", has_text=re.compile(r"^1$")).wait_for(timeout=15_000)
    assert "电费业务" in billing.inner_text()
    first = seconds(billing.locator("td.wait").inner_text())
    boss.wait_for_timeout(2_500)  # redrawn meanwhile or not, the wait goes on counting
    assert seconds(billing.locator("td.wait").inner_text()) >= first + 1
    assert boss.locator('#queue-by-skill tr[data-skill="repair"] td.wait').inner_text() == "—"
    # agents by status: 张丽 示忙, 王强 小休（用餐）; the supervisor is not listed among the agents
    boss.locator('#agents tr[data-agent="1002"]', has_text="小休（用餐）").wait_for(timeout=10_000)
    boss.locator('#agents tr[data-agent="1001"]', has_text="示忙（会议）").wait_for(timeout=10_000)
    assert boss.locator('#agents tr[data-agent="9001"]').count() == 0
    assert re.search(r"小休 [1-9]", boss.locator("#status-counts").inner_text())
    assert "5.0" not in boss.locator("#service-tiles").inner_text()
    tip = boss.locator("#m-fallback-tile").get_attribute("title") or ""
    assert "对话存储" in tip or "分析库" in tip  # says where the bot's figures come from
    assert re.search(r"\d+(\.\d)?%", boss.locator("#m-containment").inner_text())  # today has conversations
    boss.locator('#reasons tr[data-reason="customer_request"]', has_text="客户要求转人工").wait_for(timeout=10_000)
    boss.screenshot(path=str(SHOTS / "7-supervisor-live-view.png"), full_page=True)

    # the supervisor assigns the customer to 张丽 by name; 张丽's console opens the case
    row = boss.locator("#waiting li[data-case]").first
    row.locator(".assign-to option[value='1001']").wait_for(state="attached", timeout=10_000)
    case_id = int(row.get_attribute("data-case") or 0)
    row.locator(".assign-to").select_option("1001")
    row.locator(".assign-go").click()
    zhang.wait_for_url(re.compile(rf".*/console/cases/{case_id}$"), timeout=15_000)
    phone.locator(".msg.agent .bubble", has_text="我是人工客服张丽").wait_for(timeout=15_000)

    # from the agents table the supervisor opens 张丽's chat: monitor mode, the transcript updates live
    link = boss.locator(f'#agents tr[data-agent="1001"] a.monitor[href="/console/cases/{case_id}"]')
    link.wait_for(timeout=15_000)
    link.click()
    boss.wait_for_url(re.compile(rf".*/console/cases/{case_id}$"))
    boss.locator("#monitor-banner", has_text="监听中：张丽").wait_for(timeout=10_000)
    assert boss.locator("#reply-panel").is_hidden()  # the supervisor listens; 张丽 answers
    phone.fill("#text", "我家这个月电费比上个月多了两百块")
    phone.press("#text", "Enter")
    boss.locator("#timeline .turn.customer", has_text="多了两百块").wait_for(timeout=15_000)
    zhang.locator("#timeline .turn.customer", has_text="多了两百块").wait_for(timeout=15_000)
    boss.screenshot(path=str(SHOTS / "7-monitor-live-chat.png"), full_page=True)

    # a whisper: 张丽 sees it highlighted in her timeline; the customer's chat page never shows it
    boss.fill("#whisper-text", HINT)
    boss.click("#whisper-send")
    boss.locator("#supervise-message.ok", has_text="客户看不到").wait_for(timeout=10_000)
    whisper = zhang.locator("#timeline .turn.note.whisper", has_text=HINT)
    whisper.wait_for(timeout=10_000)
    assert "班长提示" in whisper.inner_text() and "刘主管" in whisper.inner_text()
    zhang.locator("#monitor-banner", has_text=HINT).wait_for()
    zhang.screenshot(path=str(SHOTS / "7-whisper-on-agent-console.png"), full_page=True)
    phone.wait_for_timeout(1_500)
    assert HINT not in phone.locator("body").inner_text()
    phone.screenshot(path=str(SHOTS / "7-customer-never-sees-the-whisper.png"))
    zhang.reload()  # the whisper is kept with the case
    zhang.locator("#timeline .turn.note.whisper", has_text=HINT).wait_for(timeout=10_000)
    assert zhang.locator("#timeline .turn.note.monitor").count() == 0  # listening in is silent

    # the takeover: 张丽 is told and stops answering; the customer hears the duty supervisor and gets replies
    boss.click("#takeover")
    boss.click("#takeover-yes")
    boss.locator("#supervise-message.ok", has_text="已接管").wait_for(timeout=10_000)
    zhang.locator("#monitor-banner.taken", has_text="值班主管刘主管已接管").wait_for(timeout=10_000)
    assert zhang.locator("#reply-panel").is_hidden()
    zhang.screenshot(path=str(SHOTS / "7-agent-told-of-takeover.png"), full_page=True)
    phone.locator(".msg.agent .bubble", has_text="值班主管刘主管").wait_for(timeout=15_000)
    boss.locator("#reply-panel:not(.hidden)").wait_for(timeout=10_000)
    boss.fill("#reply-text", "您好，我来继续为您核对电费，请稍等一下。")
    boss.press("#reply-text", "Enter")
    phone.locator(".msg.agent .bubble", has_text="我来继续为您核对电费").wait_for(timeout=15_000)
    phone.screenshot(path=str(SHOTS / "7-customer-hears-the-supervisor.png"))
    boss.screenshot(path=str(SHOTS / "7-supervisor-took-over.png"), full_page=True)

    case = contact.case(case_id)
    assert case.agent_id == contact.agent_by_username("9001").id
    kinds = [n.kind for n in contact.notes_of(case_id)]
    assert NoteKind.WHISPER in kinds and NoteKind.TAKEOVER in kinds and NoteKind.MONITOR in kinds

    # back on the live view: 张丽 no longer holds the case, and today's service level is a real figure
    boss.goto(f"{base}/console/supervisor")
    boss.locator('#agents tr[data-agent="1001"] td', has_text="无").wait_for(timeout=10_000)
    assert re.search(r"\d+(\.\d)?%", boss.locator("#m-service-level").inner_text())
    boss.screenshot(path=str(SHOTS / "7-supervisor-live-view-after.png"), full_page=True)
