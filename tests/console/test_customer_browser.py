"""The customer panel and the case's orders in a real browser, on the whole product (issue 17 items 1 and 4): a
customer chats about a charging pile, gives the account and asks for a person; the agent claims, finds the customer
by phone, verifies on the caller's behalf (a wrong answer, then the right one), binds the case, sees the tags, the
insight tags with their reasons and the arrears-risk grade with its tree path (issue 19), the arrears and the
earlier WeChat contact with its transcript and rating; files an order prefilled with the detected request and the
account, raises its priority by clicking it; after "return to bot" the case still shows the order and the closing
code, unmasked for the agent who handled it. Screenshots: tests/artifacts/workspace/1-*, 4-*."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend import models as m
from backend.contact_centre import Channel, ContactStore, EscalationReason
from backend.models_insight import CustomerRisk, CustomerTag, InsightRun
from tests.conftest import ARTIFACTS
from tests.console.browser_steps import console_login, open_chat, say

pytestmark = pytest.mark.usefixtures("nobody_online")  # tests.conftest

SHOTS = ARTIFACTS / "workspace"
ACCOUNT = "3201000002"  # 李秀英, 13912340002: 预付费, overdrawn
RISK_PATH = "近12个月逾期≥3次 且 预付费 → 高风险"
EARLIER_TURNS = [
    {
        "who": "customer",
        "text": "我家预付费表没电了，充了钱还是没电",
        "at": "2026-11-20T02:00:00+00:00",
        "channel": "wechat",
    },
    {"who": "bot", "text": "请问您的户号是多少？", "at": "2026-11-20T02:00:02+00:00", "channel": ""},
]


def earlier_wechat_contact(contact: ContactStore) -> int:
    """Last month the same customer asked for a person on WeChat; the case was closed with an order and rated 4."""
    case, _ = contact.escalate(
        "wechat:browser-panel-earlier", Channel.WECHAT, EscalationReason.CUSTOMER_REQUEST,
        summary="李秀英经微信转人工：预付费表充值后仍没电", context={"transcript": EARLIER_TURNS}, account_no=ACCOUNT,
    )  # fmt: skip
    agent = contact.agent_by_username("1002")
    assert agent is not None
    contact.claim(case.id, agent.id)
    contact.finish(case.id, "closed", "resolved")
    contact.ask("wechat:browser-panel-earlier", "wechat", case_id=case.id, agent_id=agent.id, account_no=ACCOUNT)
    contact.answer(f"case:{case.id}", 4, "处理得挺快")
    return case.id


def insight_of_the_account(contact: ContactStore) -> None:
    """This customer's insight as a run published it (fixed here: the stack's own run decides for the others)."""
    with contact._sessions.begin() as s:
        run = s.scalars(select(InsightRun).where(InsightRun.status == "done")).first()
        assert run is not None and run.counts["customer_risk"] > 0  # the stack's set-up refreshed (scripts/stack.py)
        s.merge(
            CustomerTag(
                account_no=ACCOUNT, tag="欠费风险", grade="高", reason="近12个月逾期缴费4次，最长逾期37天",
                period="2026-10", since_period="2026-05", rule_id="arrears_risk", rule_version=1, run_id=0,
            )
        )  # fmt: skip
        s.merge(
            CustomerRisk(
                account_no=ACCOUNT, period="2026-11", probability=0.82, grade="高", path=RISK_PATH,
                model_version="browser-test", run_id=0,
            )
        )  # fmt: skip


def test_agent_finds_verifies_binds_the_customer_and_files_a_prefilled_order(stack, browser, contact):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = stack.console_url
    insight_of_the_account(contact)
    earlier = earlier_wechat_contact(contact)
    console = console_login(browser, base, "1001", home=f"{base}/console")  # open: the agent counts as online

    phone = open_chat(browser, base)
    say(phone, "我家的充电桩充不进电了", "充电")
    phone.fill("#text", f"我的户号是{ACCOUNT}")
    phone.press("#text", "Enter")
    phone.locator(".msg.bot .bubble").nth(2).wait_for(timeout=60_000)
    say(phone, "转人工", "转接人工")

    console.locator("#waiting li[data-case]").first.wait_for(timeout=15_000)
    with contact._sessions() as s:  # this customer's case: the newest waiting one (earlier tests may leave others)
        case_id = str(max(e.id for e in s.scalars(select(m.Escalation).where(m.Escalation.status == "waiting"))))
    console.locator(f'#waiting li[data-case="{case_id}"]').wait_for(timeout=15_000)
    console.goto(f"{base}/console/cases/{case_id}")
    console.click("button.claim")
    console.wait_for_url(f"{base}/console/cases/{case_id}")
    console.locator("#customer-tools:not(.hidden)").wait_for(timeout=10_000)

    # the requests in Chinese, with how sure the recogniser was in words; no raw names on the screen
    requests = console.locator("#functions").inner_text()
    assert "充电桩业务" in requests and any(w in requests for w in ("很确定", "较确定", "不太确定"))
    aside = console.locator("aside.context").inner_text()
    for raw in ("ev_charging", "nlu_fallback", "greet", "EXTERNAL", "rest", "chat"):
        assert raw not in aside and raw not in console.locator("#timeline").inner_text(), raw

    # search by phone: masked until verified
    console.fill("#customer-q", "13912340002")
    console.click("#customer-search button")
    hit = console.locator(f'#customer-results li[data-account="{ACCOUNT}"]')
    hit.wait_for()
    assert "李**" in hit.inner_text() and "139****0002" in hit.inner_text() and "13912340002" not in hit.inner_text()
    console.screenshot(path=str(SHOTS / "1-search-masked.png"), full_page=True)
    hit.locator("button").click()
    console.fill("#verify-last4", "1234")
    console.click("#verify-go")
    console.locator("#customer-message.error", has_text="尾号不对").wait_for()
    console.screenshot(path=str(SHOTS / "1-verify-wrong.png"), full_page=True)
    console.fill("#verify-last4", "0002")
    console.click("#verify-go")
    console.locator("#customer-message", has_text="已核验").wait_for()
    console.locator("#customer-state", has_text="已核验").wait_for()  # bound at once: no second step
    assert not console.locator("#verify-form").is_visible()

    profile = console.locator("#profile").inner_text()
    assert "李秀英" in profile and "13912340002" in profile and ACCOUNT in profile  # verified: whole
    extra = console.locator("#customer-extra").inner_text()
    assert "预付费" in extra and "欠费" in extra
    tag = console.locator('#insight-tags li[data-tag="欠费风险"]').inner_text()
    assert "欠费风险·高" in tag and "近12个月逾期缴费4次，最长逾期37天" in tag and "2026-05起" in tag
    risk = console.locator("#insight-risk").inner_text()
    assert "欠费风险：高" in risk and RISK_PATH in risk
    contacts = console.locator("#contacts li")
    assert contacts.count() >= 2 and "微信" in console.locator(f'#contacts li[data-contact="{earlier}"]').inner_text()
    assert "问题已解决" in console.locator(f'#contacts li[data-contact="{earlier}"]').inner_text()
    console.locator(f'#contacts li[data-contact="{earlier}"] button').click()
    console.locator("#contact-transcript", has_text="充了钱还是没电").wait_for()
    assert (
        "4分" in console.locator("#ratings").inner_text() and "处理得挺快" in console.locator("#ratings").inner_text()
    )
    with contact._sessions() as s:  # the recorded steps
        kinds = [n.kind for n in s.scalars(select(m.CaseNote).where(m.CaseNote.case_id == int(case_id)))]
        assert kinds.count("verify") == 1 and kinds.count("bind") == 1
        e = s.get(m.Escalation, int(case_id))
        assert e is not None and e.account_no == ACCOUNT
    console.screenshot(path=str(SHOTS / "1-customer-panel-verified.png"), full_page=True)

    # a new order, prefilled with the detected request and the account
    assert console.locator("#order-function").input_value() == "ev_charging"
    console.locator("#order-account", has_text="0002").wait_for()
    assert console.locator("#order-note").input_value()  # a first sentence, to be edited
    console.screenshot(path=str(SHOTS / "4-order-prefilled.png"), full_page=True)
    console.click("#order-form button.primary")
    console.locator("#message", has_text="已新建工单").wait_for()
    number = console.locator("#message").inner_text().split("已新建工单 ")[1].split("（")[0]
    order = console.locator(f'#orders li[data-number="{number}"]')
    order.wait_for()
    assert "充电桩业务" in order.inner_text() and "本次会话" in order.inner_text()
    order.locator(".order-head").click()
    console.locator("#order-edit:not(.hidden)").wait_for()
    assert console.locator("#edit-number").inner_text() == number  # no retyping the number
    console.select_option("#edit-priority", "urgent")
    console.fill("#edit-note", "家中有老人，请尽快")
    console.screenshot(path=str(SHOTS / "4-order-edit.png"), full_page=True)
    console.click("#order-edit button.primary")
    console.locator("#message", has_text="已更新").wait_for()
    console.locator(f'#orders li[data-number="{number}"] .order-priority', has_text="紧急").wait_for()
    console.click(f'#orders li[data-number="{number}"] button.order-progress')
    console.locator(f'#orders li[data-number="{number}"] ol.order-timeline li', has_text="坐席").first.wait_for()
    console.screenshot(path=str(SHOTS / "4-orders-in-case.png"), full_page=True)
    with contact._sessions() as s:
        o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        assert (o.function_id, o.account_no, o.priority) == ("ev_charging", ACCOUNT, "urgent")
        assert o.details["note"] == "家中有老人，请尽快" and o.history[-1].actor == "agent:1001"

    # return to bot: the handler still sees the case whole, with the order and the closing code
    console.select_option("#disposition", "order_created")
    console.click("#return-bot")
    console.wait_for_url(f"{base}/console")
    console.goto(f"{base}/console/cases/{case_id}")
    console.locator("#case-disposition", has_text="已派工单").wait_for()
    console.locator(f'#orders li[data-number="{number}"]', has_text="本次会话").wait_for()
    assert "13912340002" in console.locator("#profile").inner_text()
    assert "我家的充电桩充不进电了" in console.locator("#timeline").inner_text()
    console.screenshot(path=str(SHOTS / "1-case-after-return.png"), full_page=True)
