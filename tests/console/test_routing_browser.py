"""Routing in real browsers on the whole product (Rasa, actions, console; Debian chromium): 1001 chooses 示闲, a
customer asks for a person on the chat page, the offer pops up on 1001's console with a beep and a desktop
notice while the queue's wait ticks; 1001 declines, 1002 is offered it and accepts, and the customer is greeted
by 王强. Then, with both agents 示忙, the supervisor assigns the next waiting customer to 张丽 by name.
Screenshots: tests/artifacts/workspace/2-*.png."""

from __future__ import annotations

import re

import pytest

from backend.contact_centre import ContactStore
from backend.db import make_engine, make_sessionmaker
from tests.conftest import ARTIFACTS, demo_agents_offline
from tests.console.browser_steps import console_login, open_chat, say

SHOTS = ARTIFACTS / "workspace"
WAIT = re.compile(r"(\d+)分(\d\d)秒")
TICKED = """(target) => {
  const m = document.querySelector("#waiting .waited").textContent.match(/(\\d+)分(\\d\\d)秒/);
  return m && Number(m[1]) * 60 + Number(m[2]) >= target;
}"""


@pytest.fixture
def contact(seeded_db_url):
    store = ContactStore(make_sessionmaker(make_engine(seeded_db_url)))
    for case in store.queue():  # cases other tests left waiting would be offered first
        store.finish(case.id, "closed", "no_response")
    yield store
    demo_agents_offline(store, log_out=True)
    for case in store.cases_of() + store.queue():
        store.finish(case.id, "closed", "resolved")


def set_status(page, label: str) -> None:
    page.select_option("#presence", label=label)
    status = {"示闲": "available", "示忙": "busy", "小休": "break"}[label[:2]]
    page.locator(f'#presence-box[data-status="{status}"]').wait_for(timeout=5_000)


def seconds(text: str) -> int:
    found = WAIT.search(text)
    assert found, text
    return int(found.group(1)) * 60 + int(found.group(2))


def seconds_left(text: str) -> int:
    """The offer pop-up's countdown (N秒内)."""
    found = re.search(r"(\d+)秒内", text)
    assert found, text
    return int(found.group(1))


def test_offer_decline_reoffer_accept_and_a_supervisors_assignment(stack, browser, contact):
    base = stack.console_url
    SHOTS.mkdir(parents=True, exist_ok=True)
    zhang = console_login(browser, base, "1001", notifications=True)
    wang = console_login(browser, base, "1002")
    boss = console_login(browser, base, "9001")
    boss.goto(f"{base}/console")

    # opening the console is 示忙 until the agent chooses 示闲; the time in status counts up
    zhang.locator('#presence-box[data-status="busy"]').wait_for(timeout=5_000)
    assert zhang.locator("#presence option:checked").inner_text() == "示忙"
    assert zhang.locator("#notify-on").is_hidden()  # notices already allowed in this browser
    assert wang.locator("#notify-on").is_visible()  # asked once, by a button
    set_status(zhang, "示闲")
    zhang.wait_for_function("document.getElementById('presence-since').textContent.startsWith('已0分0')")
    zhang.evaluate("window.__notReloaded = true")
    zhang.screenshot(path=str(SHOTS / "2-status-selector.png"))

    phone = open_chat(browser, base)
    say(phone, "我想查一下电费，上个月怎么这么多", "户号")
    say(phone, "转人工", "转接人工")

    offer = zhang.locator("#offer:not(.hidden)")
    offer.wait_for(timeout=15_000)
    assert "电费业务" in offer.inner_text() and "网页聊天" in offer.inner_text()
    assert re.search(r"\d+秒内", zhang.locator("#offer-left").inner_text())
    alerts = zhang.evaluate("window.p95598Alerts")
    assert alerts["offers"] == 1 and alerts["beeps"] == 1 and alerts["notices"] == 1, alerts
    # the live wait on the queue page ticks on this clock, and the queue's refresh leaves the pop-up alone
    wait = zhang.locator("#waiting .waited").first
    first = seconds(wait.inner_text())
    zhang.wait_for_function(TICKED, arg=first + 2, timeout=5_000)  # counted on, no reload, no new data
    zhang.evaluate("window.p95598Queue.refresh()")
    zhang.wait_for_timeout(300)
    assert seconds(wait.inner_text()) >= first + 2  # a redraw from the server's figures never sets it back
    assert offer.is_visible() and zhang.evaluate("window.__notReloaded === true")
    left_before = seconds_left(zhang.locator("#offer-left").inner_text())
    zhang.wait_for_timeout(1_100)
    assert seconds_left(zhang.locator("#offer-left").inner_text()) < left_before
    zhang.screenshot(path=str(SHOTS / "2-offer-popup.png"))
    boss.locator("#waiting li[data-case] .assign-to").first.wait_for(timeout=10_000)
    boss.locator("#waiting li[data-case] .tag.offering", has_text="推送中").wait_for(timeout=10_000)
    assert "电费业务" in boss.locator("#waiting li[data-case]").first.inner_text()
    boss.screenshot(path=str(SHOTS / "2-queue-live-wait.png"))

    # 1001 declines: 1002 (示闲 now) gets it, accepts, and the customer is greeted by 王强
    set_status(wang, "示闲")
    zhang.click("#offer-decline")
    zhang.locator("#offer-note", has_text="已拒绝").wait_for(timeout=5_000)  # the agent is told what happens next
    zhang.locator("#offer").wait_for(state="hidden", timeout=8_000)
    wang.locator("#offer:not(.hidden)").wait_for(timeout=10_000)
    assert wang.evaluate("window.p95598Alerts")["beeps"] == 1
    wang.screenshot(path=str(SHOTS / "2-reoffered-to-colleague.png"))
    wang.click("#offer-accept")
    wang.wait_for_url(re.compile(r".*/console/cases/\d+$"), timeout=15_000)
    case_id = int(wang.url.rsplit("/", 1)[1])
    phone.locator(".msg.agent .bubble", has_text="我是人工客服王强").wait_for(timeout=15_000)
    phone.screenshot(path=str(SHOTS / "2-customer-greeted.png"))
    case = contact.case(case_id)
    assert case.agent_id == contact.agent_by_username("1002").id and case.skill == "billing"
    assert case.declined_by == (contact.agent_by_username("1001").id,)

    # both agents 示忙: the next customer waits, and the supervisor gives the case to 张丽 by name
    set_status(zhang, "示忙·会议")
    set_status(wang, "示忙·话后处理")
    zhang.goto(f"{base}/console")
    second = open_chat(browser, base)
    say(second, "家里停电了，转人工", "转接人工")
    row = boss.locator("#waiting li[data-case]").first
    row.wait_for(timeout=15_000)
    boss.locator("#waiting li[data-case] .assign-to").first.wait_for()
    row.locator(".assign-to").select_option("1001")
    boss.evaluate("window.p95598Queue.refresh()")  # the list is redrawn while the supervisor chooses
    boss.wait_for_timeout(300)
    assert row.locator(".assign-to").input_value() == "1001"
    boss.screenshot(path=str(SHOTS / "2-supervisor-assign.png"))
    row.locator(".assign-go").click()
    boss.locator("#queue-note", has_text="指派给张丽").wait_for(timeout=10_000)
    zhang.wait_for_url(re.compile(r".*/console/cases/\d+$"), timeout=15_000)
    second.locator(".msg.agent .bubble", has_text="我是人工客服张丽").wait_for(timeout=15_000)
    zhang.screenshot(path=str(SHOTS / "2-assigned-case.png"))

    # a case on offer that the supervisor takes from the queue meanwhile: the agent's pop-up says so at once
    set_status(zhang, "示闲")
    third = open_chat(browser, base)
    before = third.locator(".msg.bot .bubble").count()
    third.fill("#text", "家里停电了")  # a repair: 张丽's group ("…，转人工" in one sentence is the complaints desk's)
    third.press("#text", "Enter")
    third.locator(".msg.bot .bubble").nth(before).wait_for(timeout=60_000)
    say(third, "转人工", "转接人工")
    zhang.locator("#offer:not(.hidden)").wait_for(timeout=15_000)
    boss.locator("#waiting li[data-case] .tag.offering").wait_for(timeout=10_000)
    boss.locator("#waiting li[data-case] button.claim").first.click()
    boss.wait_for_url(re.compile(r".*/console/cases/\d+$"), timeout=15_000)
    zhang.locator("#offer-note", has_text="这个会话已被其他同事接起").wait_for(timeout=10_000)
    assert zhang.locator("#offer-accept").is_disabled()
    zhang.screenshot(path=str(SHOTS / "2-offer-taken-by-colleague.png"))
    # the supervisor is not an online agent
    assert [a.username for a in contact.agents_online()] == ["1001", "1002"]
