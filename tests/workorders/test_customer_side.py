"""What the customer is told about an order (progress, reconnection) and how a typed survey answer is read."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import cast

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import places
from actions import survey as survey_action
from actions.order_status import asks_progress, state
from actions.survey import ActionRecordSurvey
from backend.cis import OrderInfo, SqlCIS
from backend.survey_scale import score_of, survey_reply
from backend.synthetic import seed
from backend.workorders import Actor, OrderView, WorkOrders
from backend.workorders.commitments import Commitments, Limit, commitments

NOW = dt.datetime(2026, 12, 3, 2, 0)  # naive UTC: 10:00 in Shanghai


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5), ("５", 5), ("5分", 5), ("五分", 5), ("打5分", 5), ("给你们打五分吧", 5), ("只能给2分", 2),
        ("评分：4", 4), ("给个五星", 5), ("非常满意！", 5), ("很满意了", 5), ("满意", 4), ("嗯，满意的", 4),
        ("我觉得挺满意的", 4), ("还行吧", 3), ("一般", 3), ("不满意", 2), ("不太满意", 2), ("很不满意", 1),
        ("非常不满意", 1), ("差评", 1),
        ("6分", None), ("10", None), ("0", None), ("5号楼", None), ("好", None), ("我家停电了", None),
        ("不满意，来了人也没修好", None), ("我那个报修到哪一步了", None), ("", None),
    ],
)  # fmt: skip
def test_a_reply_is_a_score_only_when_it_is_nothing_but_a_score(text, score):
    assert score_of(text) == score


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("5", (5, "")), ("还行吧，就是来得有点慢", (3, "就是来得有点慢")),
        ("不满意，来了人也没修好", (2, "来了人也没修好")),
        ("5号楼，停电了", None), ("好，谢谢", None), ("我家停电了", None),
    ],
)  # fmt: skip
def test_a_survey_answer_may_carry_a_comment(text, reply):
    assert survey_reply(text) == reply


def test_the_survey_delay_can_be_overridden_from_the_environment():
    assert Commitments.from_file(env={}).survey_delay == Limit(30, "m")
    quick = Commitments.from_file(env={"P95598_SURVEY_DELAY": "0m"})
    assert quick.survey_delay == Limit(0, "m") and quick.survey_at(NOW) == NOW
    with pytest.raises(ValueError):
        Commitments.from_file(env={"P95598_SURVEY_DELAY": "soon"})


def order(status: str, **kw) -> OrderInfo:
    fields = {"due_at": None, "due_step": None, "team": "城东区一网格供电服务班", "assignee": "张建国", **kw}
    return OrderInfo("G26120300001", "fault_repair", status, "normal", "chat", None, {}, NOW, **fields)


def chat(channel: str = "chat") -> Tracker:
    return Tracker("c-1", {"channel": channel}, {"text": ""}, [], False, None, {}, "action_listen")


def test_progress_tells_the_status_the_masked_assignee_and_the_next_step():
    due = NOW + dt.timedelta(minutes=40)
    told = state(chat(), order("dispatched", due_at=due, due_step="on_site"), NOW)
    assert told == "已派给城东区一网格供电服务班，由张**负责，预计10:40前到达现场"
    told = state(chat(), order("en_route", due_at=due, due_step="on_site"), NOW)
    assert "张**已经出发" in told and "张建国" not in told
    spoken = state(chat("voice"), order("accepted", due_at=due, due_step="on_site"), NOW)
    assert "上午10点40分前到达现场" in spoken and "10:40" not in spoken
    late = state(chat(), order("accepted", due_at=NOW - dt.timedelta(minutes=1), due_step="on_site"), NOW)
    assert "催办" in late and "预计" not in late


def test_progress_of_finished_waiting_and_stuck_orders():
    done = order("resolved", history=[("resolved", "更换了熔断器", NOW)])
    assert state(chat(), done, NOW) == "已经处理完毕（更换了熔断器）"
    assert state(chat(), order("closed"), NOW) == "已经处理完毕并办结"
    assert "缴清后系统会自动安排复电" in state(chat(), order("awaiting_payment", assignee=None, team=None), NOW)
    stuck = state(chat(), order("cannot_complete", history=[("cannot_complete", "需要停电作业", NOW)]), NOW)
    assert "需要停电作业" in stuck and "重新安排" in stuck
    assert "正在安排工作人员" in state(chat(), order("received", assignee=None, team=None), NOW)


@pytest.fixture
def desk(sessions, monkeypatch):
    seed(sessions, customers=30)
    monkeypatch.setenv("P95598_SURVEY_DELAY", "0m")
    commitments.cache_clear()
    yield sessions
    commitments.cache_clear()


def status(orders: WorkOrders, number: str) -> OrderView:
    found = orders.get(number)
    assert found is not None
    return found


def test_the_survey_action_stores_the_answer_and_clears_the_survey(desk, monkeypatch):
    cis, orders = SqlCIS(desk), WorkOrders(desk)
    monkeypatch.setattr(survey_action, "services", lambda: type("S", (), {"orders": orders, "cis": cis})())
    o = cis.create_work_order("fault_repair", "chat", {"address": "城东区和平路3号"}, conversation_id="c-1")
    member = status(orders, o.number).assignee_id
    for step in ("accepted", "on_site", "resolved"):
        orders.transition(o.number, step, Actor(f"field:{member}", "field_app"), member_id=member)
    orders.transition(o.number, "closed", Actor("agent:1", "console"))

    def answer(text: str, entities: list | None = None) -> tuple[str, list]:
        message = {"text": text, "intent": {"name": "deny"}, "entities": entities or []}
        tracker = Tracker("c-1", {"survey_order": o.number}, message, [], False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        events = asyncio.run(ActionRecordSurvey().run(dispatcher, tracker, cast(DomainDict, {})))
        return dispatcher.messages[0]["text"], events

    text, events = answer("我要评价")
    assert "1到5" in text and SlotSet("survey_order", None) not in events
    text, events = answer("不太满意，等了两个多小时才来")
    assert "意见已经记下" in text and "很抱歉" in text and SlotSet("survey_order", None) in events
    assert status(orders, o.number).details["survey_comment"] == "等了两个多小时才来"
    assert status(orders, o.number).status == "dispatched"  # reopened, and back with the team
    text, _ = answer('/survey_answer{"survey_score": "5"}', [{"entity": "survey_score", "value": "5"}])
    assert "没有需要您评价" in text  # answered once


def test_a_question_about_progress_is_told_from_a_detail_to_add():
    for text in ("现在复电到哪一步了", "师傅出发了没", "什么时候能来电啊", "有人来处理了吗", "还要等多久"):
        assert asks_progress(text), text
    for text in ("电线在冒烟", "我电话13800001111", "就是那个路口旁边", "家里空调也不转了"):
        assert not asks_progress(text), text


def test_an_estate_called_something_xiaoqu_is_not_a_district():
    assert places.address("光明路3号，金色港湾小区2单元601") == "光明路3号"  # was "湾小区光明路3号"
    assert places.address("工业路57号那个小作坊，城北区的") == "城北区工业路57号"
