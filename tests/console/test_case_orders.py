"""Orders in the case (issue 17 item 4): a new order prefilled from the conversation (the detected request, the
collected details, the account: the bug was an agent's order saved without it), the customer's orders with status
and timeline, a field or the priority changed by the order's number from the list (an order event with the agent as
actor), an earlier order linked to the case. Real app, real seeded SQLite, Rasa's tracker played by a stub."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.cis import SqlCIS
from backend.identity import IdentityStore
from backend.workorders import SYSTEM, WorkOrders
from console.clients import ConsoleAgent
from tests.console.test_customer_panel import ACCOUNT, OTHER, Trackers, db, jget, jpost, open_case, run

__all__ = ["db"]  # the fixture, shared with the customer panel's tests

EV_CHAT: list[dict[str, Any]] = [
    {"event": "user", "text": "我家的充电桩充不进电了", "metadata": {"channel": "chat"},
     "parse_data": {"intent": {"name": "ev_charging", "confidence": 0.88}}},
    {"event": "bot", "text": "我也可以帮您登记。"},
    {"event": "user", "text": "我的户号是3201000001",  # only gives the number: read as 户号绑定, not a request
     "parse_data": {"intent": {"name": "account_binding", "confidence": 0.91}}},
    {"event": "user", "text": "转人工", "parse_data": {"intent": {"name": "human_agent", "confidence": 0.99}}},
]  # fmt: skip
EV_SLOTS = {
    "verified_account": ACCOUNT,
    "address": "城东区和平路12号3单元501室",
    "fault_desc": "充电桩充不进电",
    "caller_phone": "13912340001",
    "last_function": "ev_charging",
    "safety_risk": False,
}


def order_row(sessions: sessionmaker[Session], number: str) -> m.WorkOrder:
    with sessions() as s:
        o = s.scalars(select(m.WorkOrder).where(m.WorkOrder.number == number)).one()
        o.history  # noqa: B018 - loaded before the session closes
        s.expunge_all()
        return o


def repair(sessions: sessionmaker[Session], account: str, conversation: str, key: str) -> str:
    return SqlCIS(sessions).create_work_order(
        "fault_repair", "chat",
        {"fault_desc": "家里没电", "address": "城东区和平路12号", "contact_phone": "13912340001"},
        account_no=account, conversation_id=conversation, idempotency_key=key,
    ).number  # fmt: skip


def test_a_new_order_is_prefilled_from_the_conversation_and_filed_under_the_proved_account(db) -> None:
    url, sessions = db
    conversation = "chat:orders-prefill"
    case = open_case(sessions, conversation)  # the case itself is bound to no account
    IdentityStore(sessions).record(conversation, ACCOUNT, "last4")  # the caller proved it to the bot
    unproved = open_case(sessions, "chat:orders-unproved")
    trackers: Trackers = {
        conversation: {"events": EV_CHAT, "slots": EV_SLOTS},
        "chat:orders-unproved": {"events": EV_CHAT, "slots": EV_SLOTS},  # the slot alone is no proof
    }

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        agent = a["1001"]
        status, draft = await jget(agent, f"/console/api/cases/{case}/order-draft")
        assert status == 200 and isinstance(draft, dict)
        assert draft["function_id"] == "ev_charging" and draft["service"] == "充电桩业务"  # not 故障报修
        assert draft["details"] == {
            "address": "城东区和平路12号3单元501室", "fault_desc": "充电桩充不进电", "contact_phone": "13912340001",
        }  # fmt: skip
        assert draft["labels"]["address"] == "地址" and draft["account_no"] == ACCOUNT  # proved: whole
        status, made = await jpost(agent,
            f"/console/api/cases/{case}/orders",
            {"function_id": draft["function_id"], "note": "充电桩充不进电，请上门查看", "details": draft["details"],
             "request_id": "p1"},
        )  # fmt: skip
        assert status == 200
        o = order_row(sessions, made["number"])
        assert (o.function_id, o.account_no, o.conversation_id) == ("ev_charging", ACCOUNT, conversation)
        assert o.details["address"] == "城东区和平路12号3单元501室" and o.details["agent"] == "1001"
        assert o.details["contact_phone"] == "13912340001" and o.details["note"] == "充电桩充不进电，请上门查看"
        filed = [e for e in o.history if e.actor == "agent:1001"]
        assert [e.note for e in filed] == [f"坐席张丽在人工会话#{case}中新建此工单"] and filed[0].source == "console"
        retry = {"function_id": "ev_charging", "note": "重复提交", "request_id": "p1"}
        status, again = await jpost(agent, f"/console/api/cases/{case}/orders", retry)
        assert again["number"] == made["number"] and len(order_row(sessions, made["number"]).history) == len(o.history)

        status, got = await jpost(
            agent,
            f"/console/api/cases/{case}/orders",
            {"function_id": "ev_charging", "note": "x", "details": {"address": "😀"}, "request_id": "p2"},
        )
        assert status == 400 and "表情" in got["error"]

        status, draft = await jget(agent, f"/console/api/cases/{unproved}/order-draft")
        assert draft["account_no"] == ""
        status, made = await jpost(
            agent,
            f"/console/api/cases/{unproved}/orders",
            {"function_id": "ev_charging", "note": "登记", "request_id": "u1"},
        )
        assert status == 200 and order_row(sessions, made["number"]).account_no is None

        status, got = await jpost(agent, f"/console/api/cases/{case}/bind", {"account_no": ACCOUNT})
        status, panel = await jget(agent, f"/console/api/cases/{case}/customer")
        [mine] = [o for o in panel["orders"] if o["in_case"]]
        assert mine["service"] == "充电桩业务" and mine["status_label"] and mine["timeline"]

    run(url, scenario, trackers)


def test_an_order_is_changed_by_clicking_it_fields_and_priority_recorded_with_the_agent(db) -> None:
    url, sessions = db
    number = repair(sessions, ACCOUNT, "chat:orders-earlier", "co-1")
    stranger = repair(sessions, OTHER, "chat:orders-stranger", "co-2")
    case = open_case(sessions, "chat:orders-edit", account=ACCOUNT)
    before = order_row(sessions, number)
    assert before.priority == "normal" and before.due_at is not None

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        agent = a["1001"]
        path = f"/console/api/cases/{case}/orders/{number}/edit"
        status, got = await jpost(agent, path, {"priority": "urgent"})  # the account's order, account not proved
        assert status == 404 and "不属于当前客户" in got["error"]
        status, panel = await jget(agent, f"/console/api/cases/{case}/customer")
        assert number not in [o["number"] for o in panel["orders"]]
        assert (await jpost(agent, f"/console/api/cases/{case}/verify", {"last4": "0001"}))[0] == 200
        for body, why in (
            ({"contact_phone": "abc"}, "联系电话"),
            ({"note": "师傅快来😀"}, "表情"),
            ({"priority": "high"}, "优先级"),
            ({"address": "路" * 301}, "太长"),
            ({}, "没有要修改"),
            ({"note": 5}, "文字"),
        ):
            status, got = await jpost(agent, path, body)
            assert status == 400 and why in got["error"], (body, got)
        assert len(order_row(sessions, number).history) == len(before.history)  # nothing stored

        status, got = await jpost(
            agent, path, {"contact_phone": "13800001111", "priority": "urgent", "note": "老人独居"}
        )
        assert status == 200 and got["priority_label"] == "紧急" and got["message"] == f"工单 {number} 已更新。"
        after = order_row(sessions, number)
        assert after.priority == "urgent" and after.details["contact_phone"] == "13800001111"
        assert after.details["note"] == "老人独居" and after.details["address"] == "城东区和平路12号"  # kept
        assert (
            after.due_at is not None and before.due_at is not None and after.due_at <= before.due_at
        )  # held to the urgent limit now
        last = after.history[-1]
        assert (last.kind, last.actor, last.source) == ("note", "agent:1001", "console")
        assert "优先级改为紧急" in last.note and "13800001111" in last.note and last.detail["priority"] == "urgent"

        status, panel = await jget(agent, f"/console/api/cases/{case}/customer")
        [o] = [o for o in panel["orders"] if o["number"] == number]
        assert o["priority_label"] == "紧急" and o["details"]["contact_phone"] == "13800001111"  # proved: whole
        assert o["timeline"][-1]["who"] == "坐席 1001"

        status, got = await jpost(agent, f"/console/api/cases/{case}/orders/{stranger}/edit", {"priority": "urgent"})
        assert status == 404 and "不属于当前客户" in got["error"]
        status, got = await jpost(a["1002"], path, {"priority": "normal"})
        assert status == 403
        WorkOrders(sessions).transition(number, "withdrawn", SYSTEM)
        status, got = await jpost(agent, path, {"priority": "normal"})
        assert status == 409 and "不能再修改" in got["error"]

    run(url, scenario)


def test_an_earlier_order_of_the_customer_is_linked_to_the_case(db) -> None:
    url, sessions = db
    number = repair(sessions, ACCOUNT, "chat:orders-old", "co-3")
    stranger = repair(sessions, OTHER, "chat:orders-other", "co-4")
    case = open_case(sessions, "chat:orders-link", account=ACCOUNT)
    IdentityStore(sessions).record("chat:orders-link", ACCOUNT, "last4")  # proved to the bot before the handoff

    async def scenario(base: str, a: dict[str, ConsoleAgent]) -> None:
        agent = a["1001"]
        status, panel = await jget(agent, f"/console/api/cases/{case}/customer")
        assert [o["in_case"] for o in panel["orders"] if o["number"] == number] == [False]
        status, got = await jpost(agent, f"/console/api/cases/{case}/orders/{number}/link")
        assert status == 200 and got["message"] == f"已将工单 {number} 关联到本会话。"
        status, got = await jpost(agent, f"/console/api/cases/{case}/orders/{number}/link")
        assert status == 200 and got["message"] == "这张工单已关联到本会话。"
        status, panel = await jget(agent, f"/console/api/cases/{case}/customer")
        assert [o["in_case"] for o in panel["orders"] if o["number"] == number] == [True]
        last = order_row(sessions, number).history[-1]
        assert last.actor == "agent:1001" and f"#{case}" in last.note
        status, got = await jpost(agent, f"/console/api/cases/{case}/orders/{stranger}/link")
        assert status == 404

    run(url, scenario)
