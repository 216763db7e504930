"""Steps the browser tests share (Playwright's sync API, on the `browser` fixture of tests/conftest.py): an agent
logging in to the console, a customer's phone opening the chat page, a customer saying something and waiting for
the answer (the demo agents are put offline by tests.conftest.demo_agents_offline)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.conftest import DEMO_PASSWORD

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
HOME = re.compile(r".*/console(/supervisor)?$")  # where a login lands: the queue, or a supervisor's live view
ANY_REPLY = ".msg.bot .bubble, .msg.agent .bubble"
BOT_REPLY = ".msg.bot .bubble"

Landing = str | re.Pattern[str] | Callable[[str], bool]


def sign_in(page: Any, base: str, username: str, password: str = DEMO_PASSWORD, home: Landing = HOME) -> None:
    """The console's login form filled in on this page; waits until the page lands on `home`."""
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(home)


def console_login(
    browser: Any,
    base: str,
    username: str,
    password: str = DEMO_PASSWORD,
    *,
    viewport: dict[str, int] = DESKTOP,
    home: Landing = HOME,
    online: bool = True,
    notifications: bool = False,
) -> Any:
    """A new desktop browser (zh-CN) with the agent logged in: its page, on `home`; with `online`, once the live
    socket is up (the agent counts as online); with `notifications`, desktop notices allowed for the console."""
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    if notifications:
        context.grant_permissions(["notifications"], origin=base)
    page = context.new_page()
    sign_in(page, base, username, password, home)
    if online:
        page.locator("#online:not(.off)").wait_for(timeout=10_000)
    return page


def phone(browser: Any) -> Any:
    """A new phone-sized touch browser (390×844, zh-CN): its page."""
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN").new_page()


def open_chat(browser: Any, base: str) -> Any:
    """A customer's phone on the chat page, once the bot's welcome is shown."""
    page = phone(browser)
    page.goto(f"{base}/chat")
    page.locator(".msg.bot .bubble").first.wait_for()
    return page


def say(page: Any, text: str, expect: str, replies: str = ANY_REPLY) -> None:
    """The customer sends `text` and waits for a reply (by the bot or an agent) containing `expect`."""
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.locator(replies, has_text=expect).last.wait_for(timeout=60_000)
