"""The inspection queue in a real browser (Debian chromium, 1366×768): a quality login (质检员) lands on the queue,
opens the top flagged contact, reads the whole (long) transcript by scrolling the page, sees the evidence words
highlighted and the system events in words, confirms one flag and dismisses the other with a note (the database holds
both verdicts with the reviewer); the scores page suggests the severe rule's course, readable; 抽取样本 draws the
unflagged contact into the sample. Screenshots: tests/artifacts/workspace/quality-queue.png, quality-contact.png,
quality-scores.png and quality-sample.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from backend.db import open_database
from backend.models_quality import Flag
from tests.conftest import ARTIFACTS
from tests.console.browser_steps import console_login
from tests.console.console_app import PASSWORD, RunningConsole, running_console
from tests.console.test_quality_api import Rows, add_rows

SHOTS = ARTIFACTS / "workspace"
AGENTS = (("1001", "张丽", "agent"), ("9101", "质检员", "quality"))


@pytest.fixture
def console(tmp_path: Any) -> Iterator[tuple[RunningConsole, Rows]]:
    url = f"sqlite:///{tmp_path / 'quality.db'}"
    engine, sessions = open_database(url)
    rows = add_rows(sessions)
    engine.dispose()
    start = rows.events_a[0]["timestamp"] - 1
    chat = [{"event": "user" if n % 2 else "bot", "text": f"第{n + 1}句：关于电费明细的说明和追问。",
             "timestamp": start + 3 + n} for n in range(40)]  # fmt: skip
    with running_console(url, AGENTS) as running:
        running.rasa.trackers[rows.conversation_a] = sorted(rows.events_a + chat, key=lambda e: e["timestamp"])
        yield running, rows


def test_a_quality_reviewer_confirms_one_flag_and_dismisses_another(
    browser: Any, console: tuple[RunningConsole, Rows]
) -> None:
    running, rows = console
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = console_login(browser, running.url, "9101", PASSWORD, home=re.compile(r".*/console/quality$"), online=False)
    first = page.locator("#quality-queue tbody tr").first
    assert first.get_attribute("data-inspection") == str(rows.ids["a"])
    assert "张丽" in first.inner_text() and "服务方第一句话没有问候语" in first.inner_text()  # rules in words
    page.screenshot(path=str(SHOTS / "quality-queue.png"), full_page=True)

    first.locator("a.open-contact").click()
    page.wait_for_url(re.compile(rf".*/console/quality/contacts/{rows.ids['a']}$"))
    marks = page.locator("#transcript mark.evidence")
    assert marks.all_inner_texts() == ["不知道", "你自己去查"]
    assert marks.first.evaluate("m => getComputedStyle(m).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert page.locator("#transcript .turn.system", has_text="转人工").count() == 1
    assert page.locator("#transcript .turn.system", has_text="坐席接入").count() == 1
    # the whole contact is read by scrolling the page: no inner scroll box cuts it off
    sizes = page.locator("#transcript").evaluate("t => [t.scrollHeight, t.clientHeight, document.body.scrollHeight]")
    assert sizes[0] <= sizes[1] + 1 and sizes[2] > 768, sizes
    last = page.locator("#transcript li").last
    last.scroll_into_view_if_needed()
    assert "你自己去查" in last.inner_text() and last.is_visible()
    box = last.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768

    rude = page.locator(f"#flag-{rows.flags['a:impolite_words']}")
    rude.locator("button.confirm").click()
    rude.locator(".verdict", has_text="确认有问题").wait_for(timeout=10_000)
    greet = page.locator(f"#flag-{rows.flags['a:greeting']}")
    greet.locator(".review-note").fill("坐席接入前机器人已问候")
    greet.locator("button.dismiss").click()
    greet.locator(".verdict", has_text="误报").wait_for(timeout=10_000)
    assert "平静、生气" in page.locator("#quality-contact").inner_text()  # the customer's emotions in words
    page.screenshot(path=str(SHOTS / "quality-contact.png"), full_page=True)

    page.click("#q-scores-link")
    page.wait_for_url(re.compile(r".*/console/quality/scores$"))
    page.wait_for_function("() => document.querySelector('img.quality-chart').naturalWidth > 100", timeout=30_000)
    zhang = page.locator('#scores-agents tr[data-agent="1001"]').inner_text()
    assert "文明用语与服务禁语" in zhang  # the severe rule's course, readable: what it trains and for which rule
    assert "服务禁语" in zhang.split("文明用语与服务禁语")[1] and "针对：坐席使用了服务禁语或不礼貌用语" in zhang
    assert "服务礼仪" not in zhang  # greeting dismissed once: not weak
    page.screenshot(path=str(SHOTS / "quality-scores.png"), full_page=True)

    page.click("#q-sample-link")
    page.wait_for_url(re.compile(r".*/console/quality/sample$"))
    assert page.locator(f'#quality-sample tr[data-inspection="{rows.ids["h"]}"]').count() == 0
    page.click("#draw-button")
    page.wait_for_url(re.compile(r".*/console/quality/sample\?review=pending$"))
    page.locator(f'#quality-sample tr[data-inspection="{rows.ids["h"]}"]').wait_for(timeout=10_000)
    page.screenshot(path=str(SHOTS / "quality-sample.png"), full_page=True)

    with running.contact.sessions() as s:
        verdicts = {
            f.id: (f.review, f.reviewer, f.note) for f in s.query(Flag).filter(Flag.inspection_id == rows.ids["a"])
        }
    assert verdicts == {
        rows.flags["a:impolite_words"]: ("confirmed", "9101", None),
        rows.flags["a:greeting"]: ("dismissed", "9101", "坐席接入前机器人已问候"),
    }
