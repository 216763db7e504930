"""Steps the browser tests share (Playwright's sync API, on the `browser` fixture of tests/conftest.py): an agent
logging in to the console, a customer's phone opening the chat page, a customer saying something and waiting for
the answer, the demo agents put offline after a test."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from backend.contact_centre import ContactStore
from tests.conftest import DEMO_PASSWORD

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
HOME = re.compile(r".*/console(/supervisor)?$")  # where a login lands: the queue, or a supervisor's live view
DEMO_AGENTS = ("1001", "1002", "9001")
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


def demo_agents_offline(store: ContactStore, log_out: bool = False, usernames: Iterable[str] = DEMO_AGENTS) -> None:
    """The demo agents no longer seen online (heartbeat cleared), or with `log_out` logged out (离线, offers
    withdrawn), so the next test's customers are not offered to them."""
    for username in usernames:
        agent = store.agent_by_username(username)
        if agent:
            if log_out:
                store.go_offline(agent.id)
            else:
                store.heartbeat(agent.id, online=False)
