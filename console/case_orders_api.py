"""Orders in the case: a new order's draft from the conversation (the service the customer asked for, the details
collected, the account), an order of this customer changed from the list (contact phone, address, note, priority:
an order event with the agent as actor, through backend.workorders.WorkOrders), an earlier order linked to the case.
The order itself is filed by console.agent_api.create_order. Refusals: JSON {"error": "中文说明"}."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from aiohttp import web

from backend.case_view import CONTEXT_SLOTS, NOT_REQUESTS, SLOT_LABELS, recognised
from backend.cis import CIS
from backend.contact_centre import AgentInfo, EscalationInfo, NoteKind
from backend.pii import mask
from backend.workorders import Actor, Conflict, IllegalTransition, OrderView
from backend.workorders.states import label
from console.auth import agent_of
from console.config import CATALOG, ORDERS
from console.config import CIS as CIS_KEY
from console.customer_api import (
    LOOKUP,
    NOT_ORDERS,
    ORDER_FIELDS,
    PRIORITIES,
    body_of,
    order_account,
    refuse,
    text_field,
    the_case,
    tracker_events,
)

GIVING_NUMBERS = re.compile(r"\d|我的|我家|户号|号码|电话|手机|尾号|是|为|的|[，。,.\s]")


def detected_function(events: list[dict[str, Any]], slots: dict[str, Any], functions: Any) -> str:
    """The service the customer last asked for: turns that only give a number ("我的户号是3201000002", read by the
    recogniser as 户号绑定) are not requests; dialogue acts and "转人工" neither."""
    asked = [
        f["function"]
        for f in recognised(events)
        if f["function"] not in NOT_REQUESTS and len(GIVING_NUMBERS.sub("", f["text"])) >= 2
    ]
    for f in [*reversed(asked), str(slots.get("last_function") or "")]:
        if f in functions and f not in NOT_ORDERS:
            return str(f)
    return ""


async def order_draft(request: web.Request) -> web.Response:
    """A new order as the conversation already describes it: the detected request, the collected details,
    the account of the case (or the one the caller proved to the bot)."""
    case = await the_case(request, act=True)
    events, slots = await tracker_events(request, case)
    catalog = request.app[CATALOG]
    function = detected_function(events, slots, catalog.functions)
    details = {
        k: str(v) for k, v in slots.items()
        if k in CONTEXT_SLOTS and k not in ("verified_account", "caller_phone", "last_function", "last_order_no",
                                            "channel", "account_no") and v not in (None, "", True, False)
    }  # fmt: skip
    if "contact_phone" not in details and (slots.get("caller_phone") or case.phone):
        details["contact_phone"] = str(slots.get("caller_phone") or case.phone)
    account = await order_account(request, case)
    proved = bool(account) and await asyncio.to_thread(request.app[LOOKUP].verified, case, account)
    return web.json_response(
        {
            "function_id": function,
            "service": catalog.name(function) if function else "",
            "details": details,
            "labels": {k: SLOT_LABELS.get(k, k) for k in details},
            "account_no": (str(account) if proved else mask(str(account))) if account else "",
        }
    )


def agent_actor(agent: AgentInfo) -> Actor:
    return Actor(f"agent:{agent.username}", "console", agent.display_name)


async def created_by_agent(request: web.Request, case: EscalationInfo, number: str) -> None:
    """An order filed from the console says in its history which agent filed it, in which case (once: a retried
    request returns the same order and adds nothing)."""
    agent, orders = agent_of(request), request.app[ORDERS]
    order = await asyncio.to_thread(orders.get, number)
    note = f"坐席{agent.display_name}在人工会话#{case.id}中新建此工单"
    if order is None or any(e.note == note for e in order.timeline):
        return
    with contextlib.suppress(IllegalTransition, Conflict):
        await asyncio.to_thread(orders.add_note, number, agent_actor(agent), note)


def belongs(cis: CIS, case: EscalationInfo, order: OrderView, linked: list[str], proved: bool) -> bool:
    """The case's own orders, and the account's once the customer proved the account in this conversation."""
    if order.number in linked or (proved and case.account_no is not None and order.account_no == case.account_no):
        return True
    return order.number in [o.number for o in cis.conversation_orders(case.conversation_id)]


async def case_order(request: web.Request, case: EscalationInfo) -> OrderView:
    number = request.match_info["number"].upper()
    valid = number.isascii() and number.isalnum() and len(number) < 24
    order = await asyncio.to_thread(request.app[ORDERS].get, number) if valid else None
    linked = await asyncio.to_thread(request.app[LOOKUP].linked_orders, case.id)
    proved = bool(case.account_no) and await asyncio.to_thread(request.app[LOOKUP].verified, case, case.account_no)
    if order is None or not await asyncio.to_thread(belongs, request.app[CIS_KEY], case, order, linked, proved):
        refuse(web.HTTPNotFound, "没有这张工单，或它不属于当前客户。")
    return order


async def edit_order(request: web.Request) -> web.Response:
    """Correct the contact phone, address, description or note of an open order, or change its priority."""
    case, body = await the_case(request, act=True), await body_of(request)
    order = await case_order(request, case)
    details = {}
    for key in ORDER_FIELDS:
        if key in body:
            value = text_field(body, key, 20 if key == "contact_phone" else 300, SLOT_LABELS.get(key, "备注"))
            if key == "contact_phone" and value and not (value.isdigit() and 7 <= len(value) <= 12):
                refuse(web.HTTPBadRequest, "联系电话应为7到12位数字。")
            details[key] = value
    priority = body.get("priority")
    if priority is not None and priority not in PRIORITIES:
        refuse(web.HTTPBadRequest, "优先级只能是普通或紧急。")
    if not details and priority in (None, order.priority):
        refuse(web.HTTPBadRequest, "没有要修改的内容。")
    changes = [
        f"{SLOT_LABELS.get(k, '备注') if k != 'note' else '备注'}改为“{v}”"
        for k, v in details.items()
        if order.details.get(k) != v
    ]
    if priority and priority != order.priority:
        changes.append(f"优先级改为{PRIORITIES[str(priority)]}")
    agent = agent_of(request)
    try:
        changed = await asyncio.to_thread(
            request.app[ORDERS].amend, order.number, agent_actor(agent), details, priority,
            f"坐席{agent.display_name}：" + ("；".join(changes) or "核对信息，无变化"),
        )  # fmt: skip
    except IllegalTransition:
        refuse(web.HTTPConflict, f"工单已是“{label(order.status)}”，不能再修改。")
    except Conflict:
        refuse(web.HTTPConflict, "工单刚被他人更新，请刷新后再试。")
    return web.json_response(
        {"number": changed.number, "priority": changed.priority, "priority_label": PRIORITIES.get(changed.priority, ""),
         "status_label": changed.status_label, "message": f"工单 {changed.number} 已更新。"}
    )  # fmt: skip


async def link_order(request: web.Request) -> web.Response:
    """An order of this customer from an earlier contact is handled in this case (a note on both)."""
    case = await the_case(request, act=True)
    order = await case_order(request, case)
    lookup, agent = request.app[LOOKUP], agent_of(request)
    if order.number in await asyncio.to_thread(lookup.linked_orders, case.id):
        return web.json_response({"number": order.number, "message": "这张工单已关联到本会话。"})
    await asyncio.to_thread(
        lookup.add_note, case.id, agent.id, NoteKind.NOTE, f"关联工单{order.number}", {"order": order.number}
    )
    with contextlib.suppress(IllegalTransition):  # a closed order is linked for reference, its history as it was
        await asyncio.to_thread(
            request.app[ORDERS].add_note,
            order.number,
            agent_actor(agent),
            f"坐席{agent.display_name}在人工会话#{case.id}中跟进此工单",
        )
    return web.json_response({"number": order.number, "message": f"已将工单 {order.number} 关联到本会话。"})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/api/cases/{case_id}/order-draft", order_draft)
    r.add_post("/console/api/cases/{case_id}/orders/{number}/edit", edit_order)
    r.add_post("/console/api/cases/{case_id}/orders/{number}/link", link_order)
