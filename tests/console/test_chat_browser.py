"""The chat page in a real browser (Debian chromium through Playwright) on phone widths of 320, 375 and 430 px:
timestamps, the start menu, short messages on one line, a failed send resent once, two tabs in sync, a reload
that shows what was shown live, a photo, and the end of the chat with a rating that is stored.
Screenshots: tests/artifacts/workspace/8-*.png (chat page) and 5-*.png (satisfaction)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.conftest import ARTIFACTS
from tests.console.browser_steps import console_login

SHOTS = ARTIFACTS / "workspace"
SHOWN = """() => [...document.querySelectorAll('#messages > li')].map(li =>
    li.classList.contains('day') ? 'day|' + li.textContent
    : (li.className.replace(/ (sending|failed)/g, '') + '|'
       + (li.querySelector('.bubble') || li.querySelector('.ask') || li).textContent
       + '|' + (li.querySelector('img.photo') ? 'photo' : '')))"""


def phone(browser, width: int):
    context = browser.new_context(
        viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    return context, context.new_page()


def say(page, text: str, expect: str) -> None:
    before = page.locator(".msg.bot .bubble").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.locator(".msg.bot .bubble", has_text=expect).last.wait_for(timeout=60_000)
    page.wait_for_function(f"() => document.querySelectorAll('.msg.bot .bubble').length > {before}")


def one_line(page, text: str) -> tuple[float, float]:
    """The bubble's height and the height of one line of text in it (line height plus padding)."""
    return page.locator(".msg.customer .bubble", has_text=text).last.evaluate(
        """e => { const s = getComputedStyle(e);
                  return [e.getBoundingClientRect().height,
                          parseFloat(s.lineHeight) + parseFloat(s.paddingTop) + parseFloat(s.paddingBottom)]; }"""
    )


def small_jpeg() -> bytes:
    img = Image.new("RGB", (640, 480), (40, 90, 160))
    for x in range(0, 640, 40):
        img.paste((250, 250, 250), (x, 200, x + 20, 280))  # something to look at: a meter's digits, say
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


@pytest.mark.parametrize("width", [320, 375, 430])
def test_layout_timestamps_and_start_menu_on_phone_widths(stack, browser, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = phone(browser, width)
    page.goto(f"{stack.console_url}/chat")
    page.locator(".msg.bot.welcome .bubble").wait_for()
    notice = page.locator("#notice").inner_text()
    assert "24小时" in notice and "8:00–20:00" in notice and "隐私说明" in notice
    menu = page.locator("#services button").all_inner_texts()
    assert menu[:4] == ["故障报修", "停电信息查询", "电费查询", "电费缴纳"] and "转人工" in menu
    page.locator("#services button", has_text="电费查询").click()
    page.locator(".msg.bot .bubble", has_text="户号").last.wait_for(timeout=60_000)
    assert page.locator(".msg.customer .bubble").last.inner_text() == "电费查询"
    say(page, "没了", "")
    height, line = one_line(page, "没了")
    assert abs(height - line) < 2, f"'没了' broke over lines at {width}px: {height} vs one line {line}"
    times = page.locator(".msg.customer .time").all_inner_texts()
    assert times and all(len(t) == 5 and t[2] == ":" for t in times)  # HH:MM under every message
    assert page.locator("#messages li.day").first.inner_text() == "今天"
    page.locator(".msg.customer:has-text('没了') + .msg.bot").wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelector('#typing').classList.contains('hidden')")
    page.evaluate("document.activeElement.blur()")
    page.screenshot(path=str(SHOTS / f"8-chat-{width}px.png"))
    long = "我家电表显示屏一直在闪，数字跳来跳去看不清楚，是不是电表坏了？" * 2
    page.fill("#text", long)
    page.press("#text", "Enter")
    bubble = page.locator(".msg.customer .bubble", has_text="电表显示屏").last
    bubble.wait_for()
    box, list_box = bubble.bounding_box(), page.locator("#messages").bounding_box()
    assert box["x"] >= list_box["x"] and box["x"] + box["width"] <= list_box["x"] + list_box["width"]  # no overflow
    page.locator(".msg.customer:has-text('电表显示屏') + .msg.bot").wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelector('#typing').classList.contains('hidden')")
    shown = page.locator("#messages > li").count()
    page.click("#continue-elsewhere")  # the code is a note for this page, not a chat message
    note = page.locator("#code-note:not(.hidden) .text", has_text="续办码")
    note.wait_for(timeout=10_000)
    assert re.search(r"续办码 \d{6}：", note.inner_text())
    assert page.locator("#messages > li").count() == shown
    page.click("#code-note .close")
    assert not page.locator("#code-note").is_visible()
    context.close()


def test_failed_send_tabs_reload_photo_and_rating(stack, browser, contact):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = phone(browser, 375)
    page.goto(f"{stack.console_url}/chat")
    page.locator(".msg.bot.welcome .bubble").wait_for()
    tab2 = context.new_page()  # the same browser: the same conversation
    tab2.set_viewport_size({"width": 375, "height": 740})
    tab2.goto(f"{stack.console_url}/chat")
    tab2.locator(".msg.bot.welcome .bubble").wait_for()

    # a message the server never got: the socket dies as it is sent -> red "!" and 重发; resent once
    page.evaluate(
        """() => { const send = WebSocket.prototype.send;
                   WebSocket.prototype.send = function () { WebSocket.prototype.send = send; this.close(); }; }"""
    )
    page.fill("#text", "电费怎么交")
    page.press("#text", "Enter")
    failed = page.locator(".msg.customer.failed", has_text="电费怎么交")
    failed.locator(".resend .bang").wait_for(timeout=10_000)
    assert failed.locator(".resend").inner_text().replace("\n", "") == "!重发"
    page.wait_for_timeout(2500)  # the page has reconnected (history came); the failed message is still there
    assert page.locator(".msg.customer.failed", has_text="电费怎么交").count() == 1
    page.screenshot(path=str(SHOTS / "8-failed-send.png"))
    assert tab2.locator(".msg.customer", has_text="电费怎么交").count() == 0  # the server never had it
    failed.locator(".resend").click()
    page.locator(".msg.bot:not(.welcome) .bubble", has_text="缴").last.wait_for(timeout=60_000)
    assert page.locator(".msg.customer.failed").count() == 0
    assert page.locator(".msg.customer", has_text="电费怎么交").count() == 1

    # the other tab got the customer's message and the bot's answer live, each once
    tab2.locator(".msg.customer .bubble", has_text="电费怎么交").wait_for(timeout=15_000)
    tab2.locator(".msg.bot:not(.welcome) .bubble", has_text="缴").last.wait_for(timeout=15_000)
    assert tab2.locator(".msg.customer", has_text="电费怎么交").count() == 1
    tab2.fill("#text", "没了")
    tab2.press("#text", "Enter")
    page.locator(".msg.customer .bubble", has_text="没了").wait_for(timeout=15_000)
    page.locator(".msg.customer:has-text('没了') + .msg.bot").wait_for(timeout=60_000)
    tab2.wait_for_function("() => document.querySelector('#typing').classList.contains('hidden')")
    page.wait_for_function("() => document.querySelector('#typing').classList.contains('hidden')")
    page.wait_for_timeout(500)
    assert page.evaluate(SHOWN) == tab2.evaluate(SHOWN)
    tab2.screenshot(path=str(SHOTS / "8-second-tab-in-sync.png"))

    # a photo: a real small JPEG, shown in both tabs, answered by the bot
    page.set_input_files("#photo", files=[{"name": "meter.jpg", "mimeType": "image/jpeg", "buffer": small_jpeg()}])
    photo = page.locator(".msg.customer img.photo").last
    photo.wait_for(timeout=15_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.photo')].every(i => i.complete && i.naturalWidth > 0)"
    )
    page.locator(".msg.bot .bubble", has_text="照片收到了").wait_for(timeout=15_000)
    tab2.locator(".msg.customer img.photo").wait_for(timeout=15_000)
    page.screenshot(path=str(SHOTS / "8-photo.png"))
    page.set_input_files("#photo", files=[{"name": "note.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo"}])
    page.locator(".msg.system .bubble", has_text="JPG").wait_for(timeout=15_000)
    assert page.locator(".msg.customer img.photo").count() == 1  # nothing kept of the bad one

    # a reload shows what was shown live (the refused photo's note was only for this page, not stored)
    page.locator(".msg.system", has_text="JPG").evaluate("e => e.remove()")
    live = page.evaluate(SHOWN)
    page.reload()
    page.locator(".msg.bot.welcome .bubble").wait_for()
    page.locator(".msg.customer img.photo").wait_for(timeout=15_000)
    reloaded = page.evaluate(SHOWN)
    assert reloaded == live, "\n".join(f"{a}  ||  {b}" for a, b in zip(live, reloaded))

    # 结束会话: the divider, the rating card; the answer is stored once and thanked in both tabs
    page.click("#menu-button")
    page.click("#end-chat")
    page.locator("#end-confirm", has_text="确定结束本次会话吗").wait_for(timeout=5_000)
    page.click("#end-no")  # a tap by mistake ends nothing
    assert page.locator(".msg.divider").count() == 0 and not page.locator("#end-confirm").is_visible()
    page.click("#menu-button")
    page.click("#end-chat")
    page.click("#end-yes")
    page.locator(".msg.divider", has_text="本次会话已结束").wait_for(timeout=15_000)
    card = page.locator(".rating-card")
    card.wait_for(timeout=15_000)
    tab2.locator(".rating-card").wait_for(timeout=15_000)
    card.locator(".submit").click()
    assert card.locator(".error").inner_text() == "请先点星星打个分。"
    card.locator(".star[data-score='4']").click()
    assert not card.locator(".error").is_visible() and card.locator(".star.on").count() == 4
    card.locator("textarea").fill("回复很快，谢谢")
    page.screenshot(path=str(SHOTS / "5-rating-card.png"))
    card.locator(".submit").click()
    page.locator(".msg.system .bubble", has_text="感谢您的评价").wait_for(timeout=15_000)
    assert page.locator(".rating-card").count() == 0
    tab2.locator(".msg.system .bubble", has_text="感谢您的评价").wait_for(timeout=15_000)
    assert tab2.locator(".rating-card").count() == 0
    page.screenshot(path=str(SHOTS / "5-rated.png"))
    cookie = next(c["value"] for c in context.cookies() if c["name"] == "p95598_chat")
    rating = contact.rating(f"bot:chat:{cookie}:1")
    assert rating is not None and (rating.score, rating.comment, rating.channel) == (4, "回复很快，谢谢", "chat")
    assert contact.pending(f"chat:{cookie}") is None
    live = page.evaluate(SHOWN)
    page.reload()
    page.locator(".msg.divider").wait_for(timeout=15_000)
    assert page.evaluate(SHOWN) == live
    context.close()


def test_agent_sees_the_photo_and_the_customer_rates_the_agent(stack, browser, contact):
    """The photo reaches the case page as a thumbnail; returning the case to the bot asks the customer for a
    rating of that agent's service on the chat page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = phone(browser, 375)
    page.goto(f"{stack.console_url}/chat")
    page.locator(".msg.bot.welcome .bubble").wait_for()
    cookie = next(c["value"] for c in context.cookies() if c["name"] == "p95598_chat")
    conversation = f"chat:{cookie}"
    page.set_input_files("#photo", files=[{"name": "line.jpg", "mimeType": "image/jpeg", "buffer": small_jpeg()}])
    page.locator(".msg.bot .bubble", has_text="照片收到了").wait_for(timeout=15_000)
    case, _ = contact.escalate(conversation, "chat", "customer_request", summary="客户发来断线照片", context={})

    console = console_login(  # the supervisor may claim by hand whatever routing does
        browser, stack.console_url, "9001", viewport={"width": 1366, "height": 900},
        home=f"{stack.console_url}/console**", online=False,
    )  # fmt: skip
    console.goto(f"{stack.console_url}/console/cases/{case.id}")
    thumb = console.locator("#case-photos img")
    thumb.wait_for(timeout=15_000)
    console.wait_for_function("() => document.querySelector('#case-photos img').naturalWidth > 0")
    assert console.locator("#timeline").inner_text().count("[图片]") == 1
    console.click("button.claim")
    console.locator("#reply:not(.hidden)").wait_for(timeout=15_000)
    console.locator("#case-photos img").wait_for(timeout=15_000)
    console.screenshot(path=str(SHOTS / "8-agent-case-photo.png"), full_page=True)
    page.locator(".msg.agent .bubble").last.wait_for(timeout=15_000)
    console.click("#return-bot")
    console.wait_for_url(f"{stack.console_url}/console", timeout=15_000)

    card = page.locator(".rating-card")
    card.wait_for(timeout=15_000)
    page.screenshot(path=str(SHOTS / "5-rating-after-agent.png"))
    card.locator(".star[data-score='5']").click()
    card.locator(".submit").click()
    page.locator(".msg.system .bubble", has_text="感谢您的评价").wait_for(timeout=15_000)
    rating = contact.rating(f"case:{case.id}")
    supervisor = contact.agent_by_username("9001")
    assert rating is not None and rating.score == 5 and rating.agent_id == supervisor.id
    contact.heartbeat(supervisor.id, online=False)
    console.context.close()
    context.close()
