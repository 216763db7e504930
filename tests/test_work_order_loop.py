"""The work-order loop as the customer lives it (issue 16 §7, §8), on the whole product (`stack`: Rasa, actions,
knowledge, and the console whose loop pushes order notices every second).

A customer reports a fault on the console's chat page (its websocket, as the browser uses it); the order is
dispatched to the area's team and a member; the member's field steps (made here through the desk, as the field
app does) reach the page as they happen; the closed order's survey arrives with buttons and is answered. A second
customer answers a survey by typing "不太满意", which reopens the order. A reconnection waits for the payment,
and the payment moves it on and tells the customer. Progress queries tell the real status and the masked
assignee. Afterwards the database holds exactly the orders each customer asked for.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable

import pytest
import requests
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from backend import models as m
from backend.cis import SqlCIS
from backend.db import make_engine, make_sessionmaker
from backend.workorders import Actor, OrderView, WorkOrders
from backend.workorders.commitments import commitments
from backend.workorders.wording import masked_name

ORDER = re.compile(r"G\d{11}")
BUTTON_5 = '/survey_answer{"survey_score": "5"}'


class ChatPage:
    """One customer on the chat page: the page's socket, with the cookie and origin a browser sends."""

    def __init__(self, console_url: str):
        token = secrets.token_urlsafe(18)
        self.conversation = f"chat:{token}"
        self.ws: ClientConnection = connect(
            console_url.replace("http://", "ws://") + "/chat/ws",
            additional_headers={"Origin": console_url, "Cookie": f"p95598_chat={token}"},
        )
        self.log: list[dict] = []  # every bot message the page showed, replies and pushed notices alike
        assert self._next(30)["type"] == "history"

    def _next(self, timeout: float) -> dict:
        item = json.loads(self.ws.recv(timeout=timeout))
        if item.get("type") == "message":
            self.log.append(item)
        return item

    def say(self, text: str) -> str:
        """What the customer types; the bot's replies to it (anything pushed meanwhile shows up too)."""
        self.ws.send(json.dumps({"text": text}))
        start, seen_typing = len(self.log), False
        while True:
            item = self._next(60)
            if item.get("type") == "typing":
                if item["on"]:
                    seen_typing = True
                elif seen_typing:
                    return "\n".join(m["text"] for m in self.log[start:])

    def wait_for(self, words: str, timeout: float = 30) -> dict:
        """The first message (shown already or arriving within `timeout`) containing `words`."""
        deadline = time.monotonic() + timeout
        while True:
            for item in self.log:
                if words in item.get("text", ""):
                    return item
            left = deadline - time.monotonic()
            assert left > 0, f"no message with {words!r}; the page showed: {[x['text'] for x in self.log]}"
            try:
                self._next(left)
            except TimeoutError:
                continue

    def close(self) -> None:
        self.ws.close()


def number_in(reply: str) -> str:
    found = ORDER.search(reply)
    assert found, f"no order number in: {reply}"
    return found.group(0)


def view(orders: WorkOrders, number: str) -> OrderView:
    order = orders.get(number)
    assert order is not None, number
    return order


def tracker(stack, sender: str) -> dict:
    r = requests.get(stack.api(f"/conversations/{sender}/tracker"), timeout=30)
    r.raise_for_status()
    return r.json()


def notices_in(stack, sender: str) -> list[str]:
    """The order notices the console's loop appended to the conversation the bot keeps."""
    events = tracker(stack, sender)["events"]
    return [e["text"] for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("order_notice")]


def actions_since_last_message(stack, sender: str) -> list[str]:
    events = tracker(stack, sender)["events"]
    last = max(i for i, e in enumerate(events) if e["event"] == "user")
    return [e["name"] for e in events[last:] if e["event"] == "action"]


def wait_until(check: Callable[[], object], timeout: float = 30, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.fixture
def desk(seeded_db_url):
    sessions = make_sessionmaker(make_engine(seeded_db_url))
    return SqlCIS(sessions), WorkOrders(sessions), sessions


@pytest.fixture
def quick_survey(monkeypatch):
    """The survey goes out right after closure (P95598_SURVEY_DELAY; orders are closed in this process)."""
    monkeypatch.setenv("P95598_SURVEY_DELAY", "0m")
    commitments.cache_clear()
    yield
    monkeypatch.delenv("P95598_SURVEY_DELAY")
    commitments.cache_clear()


def field_steps(orders: WorkOrders, number: str, steps: list[tuple[str, str]]) -> int:
    member = view(orders, number).assignee_id
    assert member is not None
    for step, note in steps:
        orders.transition(number, step, Actor(f"field:{member}", "field_app", "网格员"), note=note, member_id=member)
    return member


def test_a_repair_in_chat_is_dispatched_followed_closed_and_rated(stack, desk, quick_survey):
    cis, orders, sessions = desk
    page = ChatPage(stack.console_url)
    try:
        assert "地址" in page.say("你好，我家突然没电了，邻居家都有电，就我家没有")
        assert "电话" in page.say("城东区和平路12号3单元501")
        assert "核对" in page.say("13912340001")
        number = number_in(page.say("对的"))

        order = view(orders, number)
        assert order.status == "dispatched" and order.function_id == "fault_repair" and order.assignee_id
        with sessions() as s:
            team = s.scalars(select(m.GridTeam).where(m.GridTeam.area_code == order.area_code)).one()
            member = s.get(m.TeamMember, order.assignee_id)
            assert order.team_id == team.id and member.team_id == team.id and "fault_repair" in member.skills
        who = masked_name(member.display_name)
        dispatched = page.wait_for("已派给")
        assert number in dispatched["text"] and team.name in dispatched["text"] and who in dispatched["text"]
        assert member.display_name not in dispatched["text"]  # the name is masked

        progress = page.say("我那个报修到哪一步了")
        assert number in progress and "已派给" in progress and who in progress and "预计" in progress
        assert member.display_name not in progress

        field_steps(orders, number, [("accepted", ""), ("en_route", "")])
        assert who in page.wait_for("已经出发")["text"]
        progress = page.say("我那个报修师傅出发了没有")
        assert "已经出发" in progress and who in progress and "到达现场" in progress  # the next step's time

        field_steps(orders, number, [("on_site", ""), ("resolved", "更换了烧坏的空开，已恢复供电")])
        assert "更换了烧坏的空开" in page.wait_for("处理完毕")["text"]
        assert view(orders, number).status == "resolved"

        orders.transition(number, "closed", Actor("agent:1001", "console", "坐席"))
        survey = page.wait_for("打个分")
        assert number in survey["text"] and BUTTON_5 in [b["payload"] for b in survey["buttons"]]
        assert "户号" in page.say("对了，顺便帮我查下这个月电费")  # a form runs when the customer taps the button
        thanks = page.say(BUTTON_5)  # the button sends its payload: answered, then the form's question again
        assert "谢谢您的评价" in thanks and "接着办刚才的事" in thanks and "户号" in thanks
        assert "后四位" in page.say("3201000001")  # the form goes on with the next answer
        page.say("算了，不查了")
    finally:
        page.close()

    with sessions() as s:
        answered = s.scalars(select(m.Survey).join(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        assert (answered.score, answered.outcome, answered.channel) == (5, "satisfied", "chat")
        assert answered.recipient == page.conversation and answered.member_id == member.id
    assert view(orders, number).status == "closed"
    told = notices_in(stack, page.conversation)
    assert [any(w in t for t in told) for w in ("已派给", "已经出发", "处理完毕", "打个分")] == [True] * 4
    assert tracker(stack, page.conversation)["slots"]["survey_order"] is None  # answered: nothing waits
    assert [o.number for o in cis.conversation_orders(page.conversation)] == [number]  # exactly what was asked for


def test_a_typed_unsatisfied_answer_reopens_the_order(stack, desk, conversation, quick_survey):
    cis, orders, sessions = desk
    c = conversation()
    c.say("家里停电了，空开推上去又跳")
    c.say("城西区光明路3号")
    c.say("13800138000")
    number = number_in(c.say("对"))
    field_steps(orders, number, [("accepted", ""), ("en_route", ""), ("on_site", ""), ("resolved", "已处理")])
    orders.transition(number, "closed", Actor("agent:1001", "console", "坐席"))
    wait_until(lambda: any("打个分" in t for t in notices_in(stack, c.sender)), what="the survey")
    assert tracker(stack, c.sender)["slots"]["survey_order"] == number

    assert "很抱歉" not in c.say("你好")  # any other message: answered as usual, the survey still waits
    assert tracker(stack, c.sender)["slots"]["survey_order"] == number
    reply = c.say("不太满意")
    assert "很抱歉" in reply and "复核" in reply

    with sessions() as s:
        answered = s.scalars(select(m.Survey).join(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        assert (answered.score, answered.outcome) == (2, "reopened")
    again = view(orders, number)
    assert again.status == "dispatched" and any(e.status == "reopened" for e in again.timeline)  # back to the team
    wait_until(lambda: any("重新安排" in t for t in notices_in(stack, c.sender)), what="the reopening notice")
    assert tracker(stack, c.sender)["slots"]["survey_order"] is None
    c.say("满意")  # no survey waits now: an ordinary message again, not a second answer
    assert "action_record_survey" not in actions_since_last_message(stack, c.sender)
    with sessions() as s:
        assert len(s.scalars(select(m.Survey).join(m.WorkOrder).where(m.WorkOrder.number == number)).all()) == 1
    assert [o.number for o in cis.conversation_orders(c.sender)] == [number]


def test_a_reconnection_moves_on_when_the_payment_arrives(stack, desk, conversation):
    cis, orders, sessions = desk
    c = conversation()
    assert "户号" in c.say("我家欠费停电了，想申请复电")
    assert "后四位" in c.say("3201000002")
    assert "核对" in c.say("0002")
    reply = c.say("对")
    number = number_in(reply)
    assert "缴清后" in reply and "自动安排复电" in reply and "在这里通知您" in reply
    assert view(orders, number).status == "awaiting_payment"
    asked = c.say("现在复电到哪一步了")  # right after filing: a question about that order, not a detail to add
    assert "等您缴费" in asked and number in asked and "补充" not in asked

    released = orders.payment_received("3201000002", "ALI-TEST-1")  # what POST /payments/notify does
    assert number in [o.number for o in released] and view(orders, number).status == "dispatched"
    wait_until(lambda: any("已收到您的缴费" in t for t in notices_in(stack, c.sender)), what="the payment notice")
    progress = c.say(f"查一下工单{number}的进度")
    assert "已派给" in progress and masked_name(view(orders, number).assignee or "") in progress
    assert [o.number for o in cis.conversation_orders(c.sender)] == [number]
