"""Issue 16's whole ring in real browsers on the whole product: a customer reports a repair on the chat page (a
phone screen), the order is dispatched to the area's grid member, who accepts, sets out, arrives and resolves it
in the field app on another phone; the customer's chat shows each change as it happens; the order is archived by
the supervision sweep, the survey arrives in the chat with buttons, and the customer's tap is stored.
Screenshots: tests/artifacts/loop-*.png."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from backend import models as m
from backend.contact_centre.agents import hash_password
from backend.db import make_engine, make_sessionmaker
from backend.workorders.commitments import commitments
from backend.workorders.supervision import sweep
from tests.conftest import ARTIFACTS
from tests.console.browser_steps import BOT_REPLY, phone, say

ADDRESS = "城东区和平路18号2单元302室"
PASSWORD = "loop-field-pass"


def bot_says(page, text: str, timeout: float = 20_000) -> None:
    page.locator(".msg.bot .bubble", has_text=text).last.wait_for(timeout=timeout)


def test_a_chat_repair_goes_round_the_ring_in_real_browsers(stack, browser, seeded_db_url, monkeypatch):
    sessions = make_sessionmaker(make_engine(seeded_db_url))
    base = stack.console_url
    customer = phone(browser)
    errors: list[str] = []
    customer.on("pageerror", lambda e: errors.append(str(e)))
    customer.goto(f"{base}/chat")
    customer.locator(".msg.bot .bubble").first.wait_for()
    say(customer, "师傅，我家突然没电了，邻居家好像有电", "地址", BOT_REPLY)
    say(customer, ADDRESS, "电话", BOT_REPLY)
    say(customer, "13912348888", "核对", BOT_REPLY)
    say(customer, "对，没问题", "工单", BOT_REPLY)

    with sessions() as s:
        order = s.scalars(select(m.WorkOrder).where(m.WorkOrder.details["address"].as_string() == ADDRESS)).one()
        number, assignee = order.number, order.assignee
        assert order.function_id == "fault_repair" and order.status == "dispatched" and order.area_code == "A01"
        assert assignee is not None and assignee.team_id == 1
        assignee.password_hash = hash_password(PASSWORD, n=2**10)
        s.commit()
        member_id, surname = assignee.id, assignee.display_name[0]
    bot_says(customer, "已派给城东区一网格供电服务班")
    assert f"{surname}*" in customer.locator(".msg.bot .bubble", has_text="已派给").last.inner_text()
    customer.screenshot(path=str(ARTIFACTS / "loop-chat-dispatched.png"))

    staff = phone(browser)
    staff.goto(f"{base}/field")
    staff.fill("input[name=username]", f"g{member_id}")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("#login-form button[type=submit]")
    staff.locator(f"#orders li[data-number={number}] a").click()
    for to, label in (("accepted", "已接单"), ("en_route", "已出发"), ("on_site", "已到现场")):
        staff.locator(f"button[data-to={to}]").tap()
        staff.locator("#card .tag.status", has_text=label).wait_for(timeout=10_000)
        if to == "en_route":
            bot_says(customer, "已经出发")  # the customer sees it while the crew is on the way
    staff.locator("button[data-to=resolved]").tap()
    staff.locator("#resolve-form textarea[name=note]").fill("表箱内空开烧坏，已更换，恢复供电。")
    staff.locator("#resolve-form button[type=submit]").tap()
    staff.locator("#card .tag.status", has_text="已处理").wait_for(timeout=10_000)
    staff.screenshot(path=str(ARTIFACTS / "loop-field-resolved.png"), full_page=True)
    bot_says(customer, "已处理完毕")
    assert "空开烧坏" in customer.locator(".msg.bot .bubble", has_text="已处理完毕").last.inner_text()

    # the sweep archives the resolved order once close_after has passed (here: its check time is moved to now,
    # and the survey goes out at once), and the console's loop brings the survey to the chat
    monkeypatch.setenv("P95598_SURVEY_DELAY", "0m")
    commitments.cache_clear()
    with sessions.begin() as s:
        done_order = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        assert done_order.status == "resolved" and done_order.next_check_at is not None
        done_order.next_check_at = m.utcnow() - dt.timedelta(seconds=1)
    sweep(sessions)
    commitments.cache_clear()
    bot_says(customer, "打个分")
    customer.locator("#quick button", has_text="5").first.wait_for(timeout=10_000)
    customer.screenshot(path=str(ARTIFACTS / "loop-chat-survey.png"))
    customer.locator("#quick button", has_text="非常满意").first.click()
    bot_says(customer, "谢谢")
    customer.screenshot(path=str(ARTIFACTS / "loop-chat-rated.png"))
    assert not errors

    with sessions() as s:
        rows = list(s.scalars(select(m.WorkOrder).where(m.WorkOrder.conversation_id == order.conversation_id)))
        assert [o.number for o in rows] == [number]  # exactly the one order the customer asked for
        done = rows[0]
        moves = [(e.from_status, e.status, e.source) for e in done.history if e.kind == "status" and e.from_status]
        survey = s.scalars(select(m.Survey).where(m.Survey.order_id == done.id)).one()
    assert done.status == "closed"
    assert moves == [
        ("dispatched", "accepted", "field_app"),
        ("accepted", "en_route", "field_app"),
        ("en_route", "on_site", "field_app"),
        ("on_site", "resolved", "field_app"),
        ("resolved", "closed", "system"),
    ]
    assert survey.score == 5 and survey.outcome == "satisfied" and survey.member_id == member_id
