"""The customer panel of a case: search by 户号, phone or name, verify on the caller's behalf, bind the case, the
profile (tags, the insight tags with their reasons and the arrears-risk grade with its tree path, arrears, outages
in the area) and the history across channels (earlier contacts with their
transcripts, orders with their timelines, satisfaction), and the case's orders: prefilled draft, edit, link.

Personal numbers go out whole only to the agent who holds or held the case (and supervisors), and only once the
caller has proved who they are in this conversation; otherwise masked (backend.pii). Every refusal is JSON
{"error": "中文说明"} with its 4xx status.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, NoReturn

from aiohttp import web

from backend.case_view import CONTEXT_SLOTS, SLOT_LABELS, transcript
from backend.cis import CustomerInfo
from backend.contact_centre import AgentInfo, CaseStatus, EscalationInfo, NoteKind
from backend.contact_centre.kinds import CHANNEL_LABELS, DISPOSITION_LABELS, REASON_LABELS, STATUS_LABELS
from backend.customer_insight import CustomerInsight
from backend.customer_lookup import BadQuery, CustomerLookup, Verdict
from backend.identity import CHANGE
from backend.pii import mask, mask_value
from backend.spoken import local_time
from backend.workorders import OrderView, WorkOrders, roster
from channels.phone import masked_phone
from console.auth import agent_of
from console.config import CATALOG, CIS, CONTACT, HUB, ORDERS
from console.order_api import local, order_json

LOOKUP = web.AppKey("customer_lookup", CustomerLookup)
INSIGHT = web.AppKey("customer_insight", CustomerInsight)  # published tags and arrears risk (insight/publish.py)
NOT_ORDERS = ("out_of_scope", "human_agent")
ORDER_FIELDS = ("address", "contact_phone", "fault_desc", "note")  # what an agent may correct on an order
PRIORITIES = {"normal": "普通", "urgent": "紧急"}
NOTE_KINDS: dict[str, str] = {NoteKind.VERIFY: "核验", NoteKind.BIND: "关联客户", NoteKind.NOTE: "备注"}
WRONG = {
    Verdict.WRONG_PHONE: "手机尾号不对，请再向客户核对一次。",
    Verdict.WRONG_NAME: "手机尾号正确，但户主姓名不符；可查看信息，不能办理变更类业务。",
    Verdict.LOCKED: "核验错误次数过多，已暂停核验，请稍后再试或请客户到营业厅办理。",
}


def refuse(status: type[web.HTTPException], text: str) -> NoReturn:
    raise status(text=json.dumps({"error": text}, ensure_ascii=False), content_type="application/json")


def handler_of(agent: AgentInfo, case: EscalationInfo) -> bool:
    """The agent who holds or held the case, or a supervisor: sees it whole after it is claimed."""
    return agent.supervisor or (case.agent_id == agent.id and case.status != CaseStatus.WAITING)


async def the_case(request: web.Request, act: bool = False) -> EscalationInfo:
    text = request.match_info["case_id"]
    case_id = int(text) if text.isdigit() and len(text) < 10 else 0
    case = await asyncio.to_thread(request.app[CONTACT].case, case_id) if case_id else None
    if case is None:
        refuse(web.HTTPNotFound, "没有这个会话。")
    agent = agent_of(request)
    waiting = case.status == CaseStatus.WAITING and case.agent_id is None
    if not (agent.supervisor or case.agent_id == agent.id or waiting):
        refuse(web.HTTPForbidden, "这个会话由其他同事处理，您不能查看。")
    if act and not (case.status == CaseStatus.CLAIMED and (agent.supervisor or case.agent_id == agent.id)):
        refuse(web.HTTPConflict, "请先接入这个会话。" if waiting else "这个会话已结束或不在您名下，不能再操作。")
    return case


async def body_of(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        refuse(web.HTTPBadRequest, "请求格式不对（需要 JSON）。")
    if not isinstance(body, dict):
        refuse(web.HTTPBadRequest, "请求格式不对（需要 JSON 对象）。")
    return body


def text_field(body: dict[str, Any], key: str, limit: int, name: str) -> str:
    value = body.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        refuse(web.HTTPBadRequest, f"{name}应为文字。")
    value = value.strip()
    if len(value) > limit:
        refuse(web.HTTPBadRequest, f"{name}太长了（最多{limit}个字）。")
    if any(ord(ch) > 0xFFFF for ch in value):
        refuse(web.HTTPBadRequest, f"{name}里有表情或特殊符号，请只输入文字。")
    return value


def customer_json(c: CustomerInfo, whole: bool) -> dict[str, Any]:
    return {
        "account_no": c.account_no,  # what binding and verifying name; shown masked until verified
        "account_label": c.account_no if whole else mask(c.account_no),
        "name": c.name if whole else c.name[:1] + "*" * (len(c.name) - 1),
        "phone": c.phone if whole else masked_phone(c.phone),
        "address": c.address if whole else f"{c.area_name}（详细地址核验后显示）",
        "area": c.area_name,
    }


async def tracker_events(request: web.Request, case: EscalationInfo) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tracker = await request.app[HUB].rasa.tracker(case.conversation_id)
    return tracker.get("events") or [], tracker.get("slots") or case.context.get("slots") or {}


# --- search, verify, bind ------------------------------------------------------------------------------
async def search(request: web.Request) -> web.Response:
    case = await the_case(request, act=True)
    lookup = request.app[LOOKUP]
    try:
        found = await asyncio.to_thread(lookup.search, request.query.get("q", ""), 10)
    except BadQuery as e:
        refuse(web.HTTPBadRequest, str(e))
    results = []
    for c in found:
        whole = await asyncio.to_thread(lookup.verified, case, c.account_no)
        results.append({**customer_json(c, whole), "verified": whole, "bound": c.account_no == case.account_no})
    return web.json_response({"results": results, "note": "" if results else "没有找到符合条件的客户。"})


async def verify(request: web.Request) -> web.Response:
    case, body = await the_case(request, act=True), await body_of(request)
    account = text_field(body, "account_no", 10, "户号") or (case.account_no or "")
    last4 = text_field(body, "last4", 4, "手机尾号")
    name = text_field(body, "name", 20, "户主姓名")
    try:
        verdict, strength = await asyncio.to_thread(
            request.app[LOOKUP].verify, case, agent_of(request).id, account, last4, name
        )
    except BadQuery as e:
        refuse(web.HTTPBadRequest, str(e))
    if verdict is Verdict.OK:
        # a customer proved to be the holder is this case's customer: the case is bound at once (no second step)
        if case.account_no != account:
            await asyncio.to_thread(request.app[LOOKUP].bind, case.id, agent_of(request).id, account)
        said = (
            "已核验（手机尾号、户主姓名）并关联到本会话，可办理变更类业务。"
            if strength == CHANGE
            else "已核验手机尾号并关联到本会话，可查看客户信息。"
        )
        return web.json_response({"ok": True, "strength": strength, "message": said, "bound": True})
    status = web.HTTPTooManyRequests if verdict is Verdict.LOCKED else web.HTTPUnprocessableEntity
    if verdict is Verdict.WRONG_NAME:
        return web.json_response({"ok": True, "strength": strength, "message": WRONG[verdict]})
    refuse(status, WRONG[verdict])


async def bind(request: web.Request) -> web.Response:
    case, body = await the_case(request, act=True), await body_of(request)
    account = text_field(body, "account_no", 10, "户号")
    try:
        bound = await asyncio.to_thread(request.app[LOOKUP].bind, case.id, agent_of(request).id, account)
    except LookupError:
        refuse(web.HTTPBadRequest, "没有这个户号的客户，请核对后再试。")
    return web.json_response({"ok": True, "account_no": mask(bound.account_no or ""), "message": "已关联到该客户。"})


# --- the panel ---------------------------------------------------------------------------------------
def contact_json(c: EscalationInfo, current: int, whole: bool) -> dict[str, Any]:
    summary = c.summary.split("\n")[0]
    return {
        "id": c.id,
        "current": c.id == current,
        "channel": CHANNEL_LABELS.get(c.channel, "其他渠道"),
        "at": local_time(c.created_at).strftime("%Y-%m-%d %H:%M"),
        "reason": REASON_LABELS.get(c.reason, "转人工"),
        "status": STATUS_LABELS.get(c.status, ""),
        "disposition": DISPOSITION_LABELS.get(c.disposition or "", c.disposition or ""),
        "summary": summary if whole else mask(summary),
    }


def orders_json(
    orders: WorkOrders, found: list[OrderView], in_case: list[str], service: Callable[[str], str], whole: bool
) -> list[dict[str, Any]]:
    out = []
    for o in found:
        item = order_json(o, with_names(orders, o), service(o.function_id))
        item["priority_label"] = PRIORITIES.get(o.priority, o.priority)
        item["open"] = o.status not in ("closed", "withdrawn")
        item["in_case"] = o.number in in_case
        item["details"] = {k: str(o.details.get(k) or "") for k in ORDER_FIELDS}
        item["account"] = (o.account_no if whole else mask(o.account_no)) if o.account_no else ""
        out.append(item if whole else mask_value(item))
    return out


def with_names(orders: WorkOrders, o: OrderView) -> dict[int, str]:
    ids = {int(e.actor[6:]) for e in o.timeline if e.actor.startswith("field:") and e.actor[6:].isdigit()}
    return roster.member_names(orders.sessions, ids)


def panel(request: web.Request, case: EscalationInfo) -> dict[str, Any]:
    """Everything the panel shows (run in a worker thread: several short reads)."""
    app, agent = request.app, agent_of(request)
    lookup, cis = app[LOOKUP], app[CIS]
    customer = cis.get_customer(case.account_no) if case.account_no else None
    verified = bool(customer) and lookup.verified(case, case.account_no)
    strength = CHANGE if verified and lookup.verified(case, case.account_no, CHANGE) else (1 if verified else 0)
    whole = verified and handler_of(agent, case)
    linked = lookup.linked_orders(case.id)
    conversations = [case.conversation_id]
    out: dict[str, Any] = {"bound": customer is not None, "verified": verified, "strength": strength, "whole": whole}
    if customer is None or not verified:  # the account's data only once the customer proved it is theirs
        if customer is not None:
            out["profile"] = {**customer_json(customer, False), "name": customer.name, "locked": True}
        orders = lookup.orders(None, conversations, linked)
        out["orders"] = orders_json(app[ORDERS], orders, [o.number for o in orders], app[CATALOG].name, False)
        out["contacts"], out["ratings"] = [], []
        return out
    contacts = lookup.contacts(customer.account_no, customer.phone)
    mine = [o.number for o in lookup.orders(None, conversations, linked)]
    orders = lookup.orders(customer.account_no, conversations, linked)
    arrears = lookup.arrears(customer.account_no)
    out["profile"] = {
        **customer_json(customer, whole),
        "name": customer.name,  # as the case page has always shown it; the numbers are what is masked
        "tags": list(customer.tags),
        "insight": app[INSIGHT].profile(customer.account_no),
        "channels": [CHANNEL_LABELS.get(ch, app[CATALOG].channel_name(ch)) for ch in customer.channels],
        "arrears": {
            "owes": arrears.owes,
            "balance": arrears.balance,
            "unpaid_months": arrears.unpaid_months,
            "unpaid_amount": arrears.unpaid_amount,
        },
        "outages": [
            {
                "kind": "计划停电" if o.kind == "planned" else "故障停电",
                "reason": o.reason,
                "until": local_time(o.expected_end).strftime("%m-%d %H:%M"),
            }
            for o in cis.active_outages(customer.area_code)
        ],  # fmt: skip
    }
    out["contacts"] = [contact_json(c, case.id, whole) for c in contacts]
    out["orders"] = orders_json(app[ORDERS], orders, mine, app[CATALOG].name, whole)
    out["ratings"] = [
        {"at": local(r.answered_at or r.asked_at, "%Y-%m-%d %H:%M"), "score": r.score, "comment": r.comment,
         "channel": CHANNEL_LABELS.get(r.channel, "其他渠道"), "case": r.case_id}
        for r in lookup.ratings(customer.account_no, [c.id for c in contacts])
    ]  # fmt: skip
    out["notes"] = [
        {"kind": NOTE_KINDS.get(n.kind, "记录"), "text": n.text, "at": local(n.at, "%H:%M")}
        for n in lookup.notes(case.id, (NoteKind.VERIFY, NoteKind.BIND))
    ]
    return out


async def customer_panel(request: web.Request) -> web.Response:
    case = await the_case(request)
    return web.json_response(await asyncio.to_thread(panel, request, case))


async def contact_transcript(request: web.Request) -> web.Response:
    """An earlier contact of the same customer: its turns (from the conversation, else as stored with the case)."""
    case = await the_case(request)
    text = request.match_info["other"]
    other = await asyncio.to_thread(request.app[CONTACT].case, int(text)) if text.isdigit() and len(text) < 10 else None
    same = other is not None and (
        other.id == case.id or (case.account_no is not None and other.account_no == case.account_no)
    )
    if other is None or not same:
        refuse(web.HTTPNotFound, "没有这次联系记录，或它不属于当前客户。")
    events, _ = await tracker_events(request, other)
    turns = transcript(events, limit=300) or other.context.get("transcript", [])  # else as stored with the case
    whole = handler_of(agent_of(request), case) and await asyncio.to_thread(
        request.app[LOOKUP].verified, case, case.account_no
    )
    who = {"customer": "客户", "bot": "机器人", "agent": "坐席"}
    lines = [
        {"who": t.get("agent") or who.get(t["who"], ""), "text": t["text"] if whole else mask(t["text"]),
         "at": local_time_iso(t.get("at", "")), "channel": CHANNEL_LABELS.get(t.get("channel") or "", "")}
        for t in turns
    ]  # fmt: skip
    return web.json_response({"id": other.id, "turns": lines})


def local_time_iso(text: str) -> str:
    try:
        return local_time(dt.datetime.fromisoformat(text).replace(tzinfo=None)).strftime("%m-%d %H:%M")
    except ValueError:
        return ""


# --- what a new order of the case is filed with (console.agent_api.create_order) ---------------------------
DRAFT_SKIP = ("verified_account", "caller_phone", "last_function", "last_order_no", "channel", "account_no")


def order_details(body: dict[str, Any]) -> dict[str, str]:
    """The fields of a new order the agent kept from the draft: collected slot names only, short plain text."""
    given = body.get("details") or {}
    if not isinstance(given, dict):
        refuse(web.HTTPBadRequest, "工单信息格式不对。")
    out = {}
    for key, value in given.items():
        if key not in CONTEXT_SLOTS or key in DRAFT_SKIP or value in (None, ""):
            continue
        out[key] = text_field(
            {key: value if isinstance(value, str) else str(value)}, key, 300, SLOT_LABELS.get(key, "工单信息")
        )
    return {k: v for k, v in out.items() if v}


async def order_account(request: web.Request, case: EscalationInfo) -> str | None:
    """The account a new order of this case is filed under: the one the case is bound to, else the one the
    caller proved to the bot, each only once proved in this conversation (a typed or bound but unproved 户号 is
    not enough)."""
    bound = case.account_no
    proved: bool = bound is not None and await asyncio.to_thread(request.app[LOOKUP].verified, case, bound)
    if proved:
        return bound
    _, slots = await tracker_events(request, case)
    hint = slots.get("verified_account")
    if isinstance(hint, str) and await asyncio.to_thread(request.app[LOOKUP].verified, case, hint):
        return hint
    return None


def add_routes(app: web.Application) -> None:
    async def open_lookup(app: web.Application) -> AsyncIterator[None]:
        app[LOOKUP] = CustomerLookup(app[CONTACT].sessions, app[CIS])
        app[INSIGHT] = CustomerInsight(app[CONTACT].sessions)
        yield

    app.cleanup_ctx.append(open_lookup)
    r = app.router
    r.add_get("/console/api/cases/{case_id}/customer", customer_panel)
    r.add_get("/console/api/cases/{case_id}/customers", search)
    r.add_post("/console/api/cases/{case_id}/verify", verify)
    r.add_post("/console/api/cases/{case_id}/bind", bind)
    r.add_get("/console/api/cases/{case_id}/contacts/{other}", contact_transcript)
