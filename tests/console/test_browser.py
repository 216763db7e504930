"""A real browser (Debian chromium through Playwright): a customer chats on a phone-sized screen, asks for a
person; an agent logs in, sees the full context, replies; the customer sees it; the agent returns the
customer to the bot, which answers the next question. Screenshots land in tests/artifacts/."""

from __future__ import annotations

import pytest

from backend.contact_centre import ContactStore
from backend.db import make_engine, make_sessionmaker
from tests.conftest import ARTIFACTS, demo_agents_offline
from tests.console.browser_steps import console_login, open_chat, say


@pytest.fixture(autouse=True)
def agents_offline_afterwards(seeded_db_url):
    yield
    demo_agents_offline(ContactStore(make_sessionmaker(make_engine(seeded_db_url))))


def test_chat_to_agent_and_back_to_the_bot(stack, browser):
    base = stack.console_url
    # live socket up: the agent is online
    console = console_login(browser, base, "1001", viewport={"width": 1280, "height": 860}, home=f"{base}/console")

    phone = open_chat(browser, base)
    say(phone, "帮我查一下电费", "户号")
    say(phone, "3201000001", "后四位")
    say(phone, "0001", "哪个月")
    say(phone, "转人工", "转接人工")
    phone.locator("#state.waiting").wait_for()
    phone.screenshot(path=str(ARTIFACTS / "chat-waiting-for-agent.png"))

    row = console.locator("#waiting li[data-case]").first
    row.wait_for(timeout=15_000)
    case_id = row.get_attribute("data-case")
    console.goto(f"{base}/console/cases/{case_id}")
    timeline = console.locator("#timeline").inner_text()
    assert "帮我查一下电费" in timeline and "转人工" in timeline
    assert "王建国" in console.locator("#profile").inner_text()
    assert "******0001" in console.locator("#slots").inner_text()  # not claimed yet: numbers masked
    assert "王建国" in console.locator("#summary").inner_text()
    console.click("button.claim")
    console.wait_for_url(f"{base}/console/cases/{case_id}")
    console.locator("#reply:not(.hidden)").wait_for()
    assert "3201000001" in console.locator("#slots").inner_text()  # the owner sees them whole
    console.locator("#reply:not(.hidden)").wait_for()
    console.locator("#suggestions li").first.wait_for(timeout=15_000)  # knowledge-base replies to pick from
    console.fill("#reply-text", "王先生您好，您的电费情况我已经看到了，请稍等。")
    console.click("#reply button[type=submit]")
    console.screenshot(path=str(ARTIFACTS / "console-case-with-context.png"), full_page=True)

    phone.locator(".msg.agent .bubble", has_text="您的电费情况我已经看到了").wait_for(timeout=15_000)
    phone.locator("#state.agent").wait_for()
    phone.screenshot(path=str(ARTIFACTS / "chat-agent-replied.png"))

    console.click("#return-bot")
    console.wait_for_url(f"{base}/console")
    phone.locator(".msg.bot .bubble", has_text="智能客服继续为您服务").wait_for(timeout=15_000)
    say(phone, "再查一下上个月的电费", "元")
    assert "户号" not in phone.locator(".msg.bot .bubble").last.inner_text()
    phone.screenshot(path=str(ARTIFACTS / "chat-back-with-the-bot.png"))

    phone.reload()  # history is kept across reloads
    phone.locator(".msg.agent .bubble", has_text="您的电费情况我已经看到了").wait_for(timeout=15_000)


def test_the_readme_chat_address_opens_in_stock_chromium(browser, tmp_path):
    """The documented address (README) is on a port browsers allow: Chromium refuses 5060 (SIP) and others."""
    import re
    import socket
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)/chat", readme).group(1))
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            pytest.skip(f"port {port} is in use here (the product is running?)")
    (tmp_path / "chat").mkdir()
    (tmp_path / "chat" / "index.html").write_text("<title>ok</title>", encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page = browser.new_page()
        for _ in range(50):
            try:
                page.goto(f"http://127.0.0.1:{port}/chat")
                break
            except Exception as e:  # noqa: BLE001 - not listening yet; an unsafe port fails the same way every time
                assert "ERR_UNSAFE_PORT" not in str(e), f"Chromium refuses port {port}"
                page.wait_for_timeout(100)
        assert page.title() == "ok"
    finally:
        server.terminate()
        server.wait()
