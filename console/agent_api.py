"""The agents' JSON API: queue, case context, claim, chat, work orders, transfer, release, return to bot, close.
(Transfer with a note, canned replies and internal notes: console/reply_api.py.)

Handlers check who may do what and validate input; the steps of a use case are in console/casework.py."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from backend.case_view import (
    CONTEXT_SLOTS,
    customer_profile,
    knowledge_shown,
    recognised,
    requested,
    requests_for_agent,
    transcript,
)
from backend.contact_centre import AgentInfo, CaseStatus, Conflict, EscalationInfo, NoteKind, Priority
from backend.contact_centre.canned import unfilled
from backend.contact_centre.kinds import CHANNEL_LABELS, DISPOSITION_LABELS, DISPOSITIONS, REASON_LABELS
from backend.contact_centre.skills import skill_groups
from backend.pii import mask, mask_value
from backend.workorders import IllegalTransition
from backend.workorders.states import label as order_label
from channels.phone import masked_phone
from console import case_orders_api, casework, customer_api, routing
from console.auth import agent_of, require_supervisor
from console.config import CATALOG, CIS, CONTACT, HUB, KNOWLEDGE
from console.errors import NOT_YOURS

ORDER_STATUSES = (
    "resolved",
    "closed",
    "withdrawn",
    "reopened",
)  # what an agent may do on the phone; field steps are the field app's
MAX_MESSAGE = 1000
NO_CASE = "没有找到这个会话。"
CHANGED = "这个会话刚刚有变化（可能已由其他同事接入或已结束），请刷新后再看。"


def case_card(case: EscalationInfo, owner: str | None = None) -> dict:
    """What a queue row shows (to any agent): no full phone number before the case is claimed."""
    return {
        "id": case.id,
        "channel": case.channel,
        "channel_name": CHANNEL_LABELS.get(case.channel, case.channel),
        "reason": case.reason,
        "priority": case.priority,
        "status": case.status,
        "summary": mask(case.summary.split("\n")[0]),
        "phone": masked_phone(case.phone),
        "waited": case.waited_seconds(),
        "agent": owner,
        "created_at": case.created_at.isoformat(),
        "skill_name": skill_groups().name(case.skill),  # the desk it waits for (catalog/skills.yml)
        "on_offer": case.offered_to is not None,  # being offered to an agent right now (console/routing.py)
    }


def may_see(agent: AgentInfo, case: EscalationInfo) -> bool:
    waiting = case.status == CaseStatus.WAITING and case.agent_id is None
    return agent.supervisor or case.agent_id == agent.id or waiting


def may_act(agent: AgentInfo, case: EscalationInfo) -> bool:
    return case.status == CaseStatus.CLAIMED and (agent.supervisor or case.agent_id == agent.id)


async def _case(request: web.Request, act: bool = True) -> EscalationInfo:
    try:
        case_id = int(request.match_info["case_id"])
    except ValueError:
        raise web.HTTPNotFound(text=NO_CASE) from None
    if not 0 < case_id < 2**31:
        raise web.HTTPNotFound(text=NO_CASE)
    case = await asyncio.to_thread(request.app[CONTACT].case, case_id)
    agent = agent_of(request)
    if case is None or not may_see(agent, case):
        raise web.HTTPNotFound(text=NO_CASE) if case is None else web.HTTPForbidden(text=NOT_YOURS)
    if act and not may_act(agent, case):
        raise (
            web.HTTPConflict(text="请先接入这个会话。")
            if case.status == CaseStatus.WAITING
            else web.HTTPForbidden(text=NOT_YOURS)
        )
    return case


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="提交的格式不对，请刷新页面后再试。") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="提交的格式不对，请刷新页面后再试。")
    return body


async def queue_view(request: web.Request) -> dict:
    """The waiting queue, and the cases this agent works on (a supervisor: every claimed case)."""
    contact, agent = request.app[CONTACT], agent_of(request)
    waiting = await asyncio.to_thread(contact.queue)
    mine = await asyncio.to_thread(contact.cases_of, None if agent.supervisor else agent.id)
    names = await asyncio.to_thread(contact.agent_names)  # a supervisor's cases too
    return {"waiting": [case_card(c) for c in waiting], "mine": [case_card(c, names.get(c.agent_id)) for c in mine]}


async def queue(request: web.Request) -> web.Response:
    return web.json_response(await queue_view(request))


async def case_detail(request: web.Request) -> web.Response:
    return web.json_response(await case_view(request, await _case(request, act=False)))


async def case_view(request: web.Request, case: EscalationInfo) -> dict:
    """Everything about the case an agent sees: summary, one timeline across channels, slots, profile."""
    tracker = await request.app[HUB].rasa.tracker(case.conversation_id)
    events = tracker.get("events") or case.context.get("events") or []
    # the bound account's record only once proved in this conversation (an agent may bind before verifying)
    proved = bool(case.account_no) and await asyncio.to_thread(
        request.app[customer_api.LOOKUP].verified, case, case.account_no
    )
    profile = await asyncio.to_thread(
        customer_profile,
        request.app[CIS],
        case.account_no if proved else None,
        case.phone,
        request.app[customer_api.INSIGHT],
    )
    contact = request.app[CONTACT]
    history = await asyncio.to_thread(contact.history_of, case.account_no) if case.account_no else []
    slots = {
        k: v
        for k, v in (tracker.get("slots") or case.context.get("slots") or {}).items()
        if k in CONTEXT_SLOTS and v not in (None, "")
    }
    view = {
        "case": case_card(case),
        "summary": case.summary,
        "conversation": case.conversation_id,
        "transcript": transcript(events, limit=300) if events else case.context.get("transcript", []),
        "functions": recognised(events) if events else case.context.get("functions", []),
        "knowledge": knowledge_shown(events) if events else case.context.get("knowledge", []),
        "slots": slots,
        "profile": profile,
        "reason": REASON_LABELS.get(case.reason, case.reason),
        "earlier_cases": [case_card(c) for c in history if c.id != case.id],
        "notes": [  # internal: reply_api; listening in and the router's offers are for supervisors only
            n.card()
            for n in await asyncio.to_thread(contact.notes_of, case.id)
            if agent_of(request).supervisor or n.kind not in (NoteKind.MONITOR, NoteKind.OFFER)
        ],
        "dispositions": DISPOSITIONS,
        # the closing code, once finished
        "disposition": DISPOSITION_LABELS.get(case.disposition or "", case.disposition or ""),
        "requests": requests_for_agent(recognised(events) if events else case.context.get("functions", [])),
        "mine": may_act(agent_of(request), case),
    }
    if not customer_api.handler_of(agent_of(request), case):  # a colleague deciding whether to claim
        for key in ("summary", "transcript", "functions", "slots", "profile", "earlier_cases", "conversation", "notes"):
            view[key] = mask_value(view[key])
    return view


async def export(request: web.Request) -> web.Response:
    """The case's transcript as plain text for records and complaints handling; personal numbers masked."""
    view = await case_view(request, await _case(request, act=False))
    who = {"customer": "客户", "bot": "机器人", "agent": "坐席"}
    lines = [f"会话 #{view['case']['id']}  {view['reason']}", mask(view["summary"]), ""]
    lines += [
        f"[{t.get('at', '')}] {who.get(t['who'], t['who'])}{'·' + t['agent'] if t.get('agent') else ''}: "
        f"{mask(t['text'])}"
        for t in view["transcript"]
    ]
    return web.Response(
        text="\n".join(lines) + "\n",
        content_type="text/plain",
        headers={"Content-Disposition": f"attachment; filename=case-{view['case']['id']}.txt"},
    )


async def claim(request: web.Request) -> web.Response:
    case = await _case(request, act=False)
    agent = agent_of(request)
    if routing.may_pick(agent, case):  # on offer to a colleague (console/routing.py)
        raise web.HTTPConflict(text=routing.may_pick(agent, case))
    try:
        case = await casework.claim(request.app[HUB], case, agent)
    except Conflict:
        raise web.HTTPConflict(text=CHANGED) from None
    return web.json_response(case_card(case, agent.display_name))


async def send_message(request: web.Request) -> web.Response:
    case = await _case(request)
    text = str((await _body(request)).get("text") or "").strip()
    if not text or len(text) > MAX_MESSAGE:
        raise web.HTTPBadRequest(text=f"请输入回复内容（不超过{MAX_MESSAGE}字）。")
    if unfilled(text):  # a canned reply's {变量} left without a value never reaches the customer
        raise web.HTTPBadRequest(text=f"回复里还有没填的{{{unfilled(text)[0]}}}，请改成实际内容后再发送。")
    agent = agent_of(request)
    await request.app[HUB].agent_says(case, agent.display_name, agent.username, text)
    return web.json_response({"ok": True})


async def suggestions(request: web.Request) -> web.Response:
    """Knowledge-base answers for the customer's latest words (the agent may send or edit them)."""
    case = await _case(request, act=False)
    tracker = await request.app[HUB].rasa.tracker(case.conversation_id)
    events = tracker.get("events") or []
    # what the customer described (not digits, not "转人工"), and the service they were last asking about
    said = [
        e["text"]
        for e in events
        if e.get("event") == "user"
        and len(re.sub(r"[\d\s]", "", e.get("text") or "")) >= 4
        and not (e.get("text") or "").startswith("EXTERNAL:")
    ]
    wanted = requested(events)
    query = " ".join(said[-2:])[-300:]
    if not query:
        return web.json_response({"hits": []})
    hits = await asyncio.to_thread(request.app[KNOWLEDGE].search, query, wanted[-1] if wanted else None, 3)
    return web.json_response({"hits": [{"title": h.title, "text": h.spoken} for h in hits]})


async def create_order(request: web.Request) -> web.Response:
    case = await _case(request)
    body = await _body(request)
    agent = agent_of(request)
    function_id = str(body.get("function_id") or "")
    note = str(body.get("note") or "").strip()[:500]
    request_id = re.sub(r"[^A-Za-z0-9_-]", "", str(body.get("request_id") or ""))[:40]
    if function_id not in request.app[CATALOG].functions or not note or not request_id:
        raise web.HTTPBadRequest(text="请选择业务类型并填写工单说明。")
    details = customer_api.order_details(body)  # the prefilled fields (address, fault description, phone...)
    account = await customer_api.order_account(request, case)  # the case's, else the one proved to the bot
    order = await asyncio.to_thread(
        request.app[CIS].create_work_order,
        function_id,
        case.channel,
        {**details, "note": note, "agent": agent.username},
        account_no=account,
        conversation_id=case.conversation_id,
        priority=Priority.URGENT if body.get("urgent") else Priority.NORMAL,
        idempotency_key=f"console:{case.id}:{request_id}",
    )
    await case_orders_api.created_by_agent(request, case, order.number)  # the agent in the order's history
    return web.json_response({"number": order.number, "status": order.status_label})


async def update_order(request: web.Request) -> web.Response:
    case = await _case(request)
    body = await _body(request)
    cis = request.app[CIS]
    order = await asyncio.to_thread(cis.get_work_order, request.match_info["number"])
    ours = order is not None and (
        order.conversation_id == case.conversation_id
        or (case.account_no is not None and order.account_no == case.account_no)
    )
    if not ours:
        raise web.HTTPNotFound(text="这位客户没有这张工单，请核对工单号。")
    status = str(body.get("status") or "")
    if status not in ORDER_STATUSES:
        raise web.HTTPBadRequest(text="请选择要改成的工单状态。")
    note = f"{agent_of(request).display_name}: {str(body.get('note') or '')[:300]}"
    try:
        order = await asyncio.to_thread(
            cis.update_work_order, order.number, status, note, f"agent:{agent_of(request).username}", "console"
        )
    except IllegalTransition as e:
        now, wanted = order_label(e.current), order_label(e.wanted)
        raise web.HTTPConflict(text=f"这张工单现在是“{now}”，不能改为“{wanted}”。") from None
    return web.json_response({"number": order.number, "status": order.status_label})


async def release(request: web.Request) -> web.Response:
    """Back to the queue, for a colleague to claim (the customer waits on, the bot stays paused)."""
    case = await _case(request)
    try:
        case = await casework.release(request.app[HUB], case, agent_of(request))
    except Conflict:
        raise web.HTTPConflict(text=CHANGED) from None
    return web.json_response(case_card(case))


async def finish(request: web.Request) -> web.Response:
    """Return to bot (the customer keeps talking to the bot, slots intact) or close with a disposition."""
    case = await _case(request)
    body = await _body(request)
    disposition = str(body.get("disposition") or "")
    if disposition not in DISPOSITIONS:
        raise web.HTTPBadRequest(text="请选择处理结果。")
    ending = CaseStatus.RETURNED if request.match_info["how"] == "return" else CaseStatus.CLOSED
    try:
        case = await casework.finish(request.app[HUB], case, ending, disposition)
    except Conflict:
        raise web.HTTPConflict(text=CHANGED) from None
    return web.json_response(case_card(case))


async def continuation_code(request: web.Request) -> web.Response:
    case = await _case(request)
    code = await asyncio.to_thread(request.app[CONTACT].issue_code, case.conversation_id)
    return web.json_response({"code": code, "link": f"/c/{code}"})


async def stats(request: web.Request) -> web.Response:
    require_supervisor(request)
    data = await asyncio.to_thread(request.app[CONTACT].stats_today)
    data["by_reason"] = {REASON_LABELS.get(k, k): v for k, v in data["by_reason"].items()}
    return web.json_response(data)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/api/queue", queue)
    r.add_get("/console/api/stats", stats)
    r.add_get("/console/api/cases/{case_id}", case_detail)
    r.add_get("/console/api/cases/{case_id}/suggestions", suggestions)
    r.add_get("/console/api/cases/{case_id}/export", export)
    r.add_post("/console/api/cases/{case_id}/claim", claim)
    r.add_post("/console/api/cases/{case_id}/messages", send_message)
    r.add_post("/console/api/cases/{case_id}/orders", create_order)
    r.add_post("/console/api/cases/{case_id}/orders/{number}", update_order)
    r.add_post("/console/api/cases/{case_id}/code", continuation_code)
    r.add_post("/console/api/cases/{case_id}/release", release)
    r.add_post("/console/api/cases/{case_id}/{how:return|close}", finish)
