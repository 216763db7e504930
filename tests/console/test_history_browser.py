"""会话记录 and Chinese refusals in a real browser (Debian chromium at 1366×768): an agent searches a phrase,
opens the case read-only and exports it and the results; a colleague's case and a stale tab after logout are
told in Chinese. Screenshots: tests/artifacts/workspace/6-*.png and 9-*.png."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from backend.contact_centre import CaseStatus
from tests.conftest import ARTIFACTS
from tests.console.browser_steps import sign_in
from tests.console.console_app import PASSWORD, running_console

SHOTS = ARTIFACTS / "workspace"
AGENTS = (("1001", "张丽", "agent"), ("1002", "王强", "agent"))


@pytest.fixture
def console(tmp_path):
    with running_console(f"sqlite:///{tmp_path / 'browser.db'}", AGENTS) as running:
        yield running


def closed_case(console, conversation: str, lines: list[tuple[str, str]], by: str, account: str | None = None) -> int:
    start = time.time() - 300
    events = []
    for i, (who, text) in enumerate(lines):
        meta = {"agent": by, "agent_name": "张丽"} if who == "agent" else {}
        kind = "user" if who == "customer" else "bot"
        events.append({"event": kind, "text": text, "timestamp": start + 20 * i, "metadata": meta})
    console.rasa.trackers[conversation] = events
    case, _ = console.contact.escalate(
        conversation, "wechat", "customer_request", summary="客户反映电费异常", context={}, account_no=account
    )
    console.contact.claim(case.id, console.contact.agent_by_username(by).id)
    console.contact.finish(case.id, CaseStatus.CLOSED, "info_given")
    return case.id


def test_an_agent_searches_a_phrase_opens_the_case_and_exports(console, browser, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    hit = closed_case(
        console, "wechat:browser-hit",
        [("customer", "你好，我这个月电费很高，比上个月多了一倍"), ("bot", "请告诉我您的户号。"),
         ("customer", "户号3201000009，手机13912348888"), ("agent", "已为您核对，本月读数正常，多出的是空调用电。")],
        "1001", account="3201000009",
    )  # fmt: skip
    closed_case(console, "wechat:browser-other", [("customer", "电费很少，可是收费很高")], "1001")
    colleague = closed_case(console, "wechat:browser-colleague", [("customer", "我家电费很高")], "1002")
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    sign_in(page, console.url, "1001", PASSWORD)
    page.goto(f"{console.url}/console/history")
    page.click("header a[href='/console/history']")
    page.fill("#history-q", "电费很高")
    page.click("button:has-text('查询')")
    page.wait_for_selector("#history-results mark")
    rows = page.locator("#history-results tbody tr")
    assert rows.count() == 1 and page.locator("#history-total").inner_text() == "1"  # not the scattered one
    assert page.locator("#history-results mark").inner_text() == "电费很高"
    assert f"#{colleague}" not in page.locator("#history-results").inner_text()  # a colleague's case is not listed
    page.screenshot(path=str(SHOTS / "6-history-search.png"))

    with page.expect_download() as csv_download:
        page.click("#history-export")
    data = Path(csv_download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0][0] == "会话编号" and table[1][0] == str(hit) and table[1][5] == "******0009"

    page.click(f"a[href='/console/history/{hit}']")
    page.wait_for_selector("#history-case")
    text = page.locator("#timeline").inner_text()
    assert "电费很高" in text and "139****8888" in text and "13912348888" not in text and "3201000009" not in text
    assert page.locator("textarea, #reply").count() == 0  # read-only: no reply box
    page.screenshot(path=str(SHOTS / "6-history-case.png"), full_page=True)
    with page.expect_download() as transcript:
        page.click("#case-export")
    exported = Path(transcript.value.path()).read_text(encoding="utf-8")
    assert "空调用电" in exported and "13912348888" not in exported

    page.goto(f"{console.url}/console/history/{colleague}")
    assert "这个会话已由其他同事处理" in page.locator("main").inner_text()
    assert "not your case" not in page.content()
    page.screenshot(path=str(SHOTS / "9-colleague-case.png"))
    page.goto(f"{console.url}/console/no-such-page")
    assert "没有找到" in page.locator("main").inner_text()
    page.screenshot(path=str(SHOTS / "9-not-found.png"))
    context.close()


def test_a_stale_tab_after_logout_says_the_login_expired(console, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    case, _ = console.contact.escalate("chat:browser-stale", "chat", "customer_request", summary="转人工", context={})
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, console.url, "1001", PASSWORD)
    page.goto(f"{console.url}/console/history")
    other = context.new_page()  # the agent logs out in another tab
    other.goto(f"{console.url}/console/history")
    other.click("form[action='/console/logout'] button")
    other.wait_for_url(f"{console.url}/console/login")
    result = page.evaluate(  # the stale tab's next call, through the console's own fetch helper
        """async (id) => {
             const r = await fetch(`/console/api/cases/${id}/claim`, {method: "POST"});
             return window.consoleRefusal(r, await r.text());
           }""",
        case.id,
    )
    assert result == "登录已过期，请重新登录"
    bar = page.locator("#session-expired")
    bar.wait_for()
    assert "登录已过期，请重新登录" in bar.inner_text() and bar.locator("a").get_attribute("href") == "/console/login"
    assert console.contact.case(case.id).status == CaseStatus.WAITING  # nothing happened
    page.screenshot(path=str(SHOTS / "9-session-expired.png"))
    other.goto(f"{console.url}/console/api/queue")  # an API address opened by hand: Chinese JSON, not English
    assert "登录已过期" in other.locator("body").inner_text()
    context.close()
