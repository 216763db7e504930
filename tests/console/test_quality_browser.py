"""The inspection queue in a real browser (Debian chromium, 1366×768): a quality login (质检员) lands on the queue,
opens the top flagged contact, sees the evidence words highlighted in the transcript, confirms one flag and dismisses
the other with a note; the database holds both verdicts with the reviewer. Screenshots:
tests/artifacts/workspace/quality-queue.png, quality-contact.png and quality-scores.png."""

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
    with running_console(url, AGENTS) as running:
        running.rasa.trackers[rows.conversation_a] = rows.events_a
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
    assert page.locator("#transcript .turn.system", has_text="转人工坐席").count() == 1

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
    assert "服务礼仪与文明用语" not in page.locator("#scores-agents").inner_text()  # greeting dismissed once: not weak
    page.screenshot(path=str(SHOTS / "quality-scores.png"), full_page=True)

    with running.contact.sessions() as s:
        verdicts = {
            f.id: (f.review, f.reviewer, f.note) for f in s.query(Flag).filter(Flag.inspection_id == rows.ids["a"])
        }
    assert verdicts == {
        rows.flags["a:impolite_words"]: ("confirmed", "9101", None),
        rows.flags["a:greeting"]: ("dismissed", "9101", "坐席接入前机器人已问候"),
    }
