"""A real browser (Debian chromium through Playwright) on a 390x844 phone screen: a repair reported in chat
is dispatched to a grid member, who logs in to the field app, accepts it, sets out, arrives, and resolves it
with a note and a photo. The history in the database says who did each step, from where. Screenshots land in
tests/artifacts/field-*.png."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web
from sqlalchemy import select

from backend import models as m
from tests.conftest import ARTIFACTS
from tests.field.conftest import ADDRESS, PASSWORD, World, assert_reencoded, png


@pytest.fixture
def served(world: World) -> Iterator[str]:
    """The field app alone on a free port, its event loop in a thread (the browser is driven from this one)."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(world.app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    host, port = runner.addresses[0][:2]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def status_is(page, label: str) -> None:
    page.locator("#card .tag.status", has_text=label).wait_for(timeout=10_000)


def test_a_chat_repair_is_accepted_and_resolved_with_a_photo_on_a_phone(world: World, served: str, browser) -> None:
    number, assignee = world.new_order()
    photo = png(32, 24)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    ).new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda e: errors.append(str(e)))

    phone.goto(f"{served}/field")
    phone.fill("input[name=username]", f"g{assignee}")
    phone.fill("input[name=password]", "not the password")
    phone.click("#login-form button[type=submit]")
    phone.locator("#msg.error", has_text="工号或密码不对").wait_for(timeout=10_000)
    phone.fill("input[name=username]", f"g{assignee}")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("#login-form button[type=submit]")

    row = phone.locator(f"#orders li[data-number={number}]")
    row.wait_for(timeout=10_000)
    assert "故障报修" in row.inner_text() and ADDRESS in row.inner_text() and "已派单" in row.inner_text()
    assert "时限" in row.inner_text()
    phone.screenshot(path=str(ARTIFACTS / "field-my-orders.png"))

    row.locator("a").click()
    phone.locator("button[data-to=accepted]").wait_for(timeout=10_000)
    assert phone.locator("#moves button").all_inner_texts() == ["接单", "无法处理"]
    map_link = phone.locator("#card a.map")
    assert map_link.get_attribute("href").startswith("https://uri.amap.com/search?keyword=")
    assert "家里整栋楼停电了" in phone.locator("#card").inner_text()
    phone.screenshot(path=str(ARTIFACTS / "field-order.png"), full_page=True)

    phone.tap("button[data-to=accepted]")
    status_is(phone, "已接单")
    phone.tap("button[data-to=en_route]")
    status_is(phone, "已出发")
    phone.tap("button[data-to=on_site]")
    status_is(phone, "已到现场")
    assert phone.locator("#moves button").all_inner_texts() == ["处理完成", "无法处理"]

    phone.tap("button[data-to=resolved]")
    form = phone.locator("#resolve-form")
    form.wait_for()
    form.locator("textarea[name=note]").fill("进户线接头烧断，已更换，恢复供电。")
    form.locator("input[name=photo]").set_input_files({"name": "site.png", "mimeType": "image/png", "buffer": photo})
    phone.locator("#preview:not(.hidden)").wait_for()
    phone.screenshot(path=str(ARTIFACTS / "field-resolve-form.png"), full_page=True)
    form.locator("button[type=submit]").tap()
    status_is(phone, "已处理")
    phone.locator("#msg", has_text="处理结果已提交").wait_for()
    shown = phone.locator("#timeline img.photo").first
    shown.wait_for()
    phone.wait_for_function("document.querySelector('#timeline img.photo').naturalWidth === 32")
    assert phone.locator("#moves button").count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    phone.screenshot(path=str(ARTIFACTS / "field-resolved.png"), full_page=True)

    phone.click("#back")  # done: off the to-do list
    phone.locator(f"#orders li[data-number={number}]").wait_for(state="detached", timeout=10_000)
    phone.locator("#empty:not(.hidden)").wait_for()
    assert not errors

    with world.sessions() as s:
        order = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        assert order.status == "resolved" and order.resolved_at is not None
        moves = [e for e in order.history if e.kind == "status" and e.from_status is not None]
    assert [(e.from_status, e.status) for e in moves] == [
        ("dispatched", "accepted"), ("accepted", "en_route"), ("en_route", "on_site"), ("on_site", "resolved"),
    ]  # fmt: skip
    assert {(e.actor, e.source) for e in moves} == {(f"field:{assignee}", "field_app")}
    assert moves[-1].note == "进户线接头烧断，已更换，恢复供电。"
    (stored,) = moves[-1].detail["photos"]
    assert_reencoded((world.uploads / stored).read_bytes(), photo)
