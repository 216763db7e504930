"""The agents' JSON API: queue, case context, claim, chat, work orders, transfer, release, return to bot, close.

Handlers check who may do what and validate input; the steps of a use case are in console/casework.py."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from backend.case_view import CONTEXT_SLOTS, customer_profile, knowledge_shown, recognised, requested, transcript
from backend.contact_centre import AgentInfo, CaseStatus, Conflict, EscalationInfo, Priority
from backend.contact_centre.kinds import CHANNEL_LABELS, REASON_LABELS
from backend.pii import mask, mask_value
from backend.workorders import IllegalTransition
from channels.phone import masked_phone
from console import casework
from console.auth import agent_of, require_supervisor
from console.casework import UnknownAgent
from console.config import CATALOG, CIS, CONTACT, HUB, KNOWLEDGE

DISPOSITIONS = {
    "resolved": "问题已解决",
    "order_created": "已派工单",
    "info_given": "已答复咨询",
    "callback": "需要回访",
    "no_response": "客户无应答",
    "offline": "转线下处理",
}
ORDER_STATUSES = (
    "resolved",
    "closed",
    "withdrawn",
    "reopened",
)  # what an agent may do on the phone; field steps are the field app's
MAX_MESSAGE = 1000


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
        raise web.HTTPNotFound(text="no such case") from None
    if not 0 < case_id < 2**31:
        raise web.HTTPNotFound(text="no such case")
    case = await asyncio.to_thread(request.app[CONTACT].case, case_id)
    agent = agent_of(request)
    if case is None or not may_see(agent, case):
        raise web.HTTPNotFound(text="no such case") if case is None else web.HTTPForbidden(text="not your case")
    if act and not may_act(agent, case):
        raise (
            web.HTTPConflict(text="claim the case first")
            if case.status == CaseStatus.WAITING
            else web.HTTPForbidden(text="not your case")
        )
    return case


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="JSON body expected") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return body


async def queue_view(request: web.Request) -> dict:
    """The waiting queue, and the cases this agent works on (a supervisor: every claimed case)."""
    contact, agent = request.app[CONTACT], agent_of(request)
    waiting = await asyncio.to_thread(contact.queue)
    mine = await asyncio.to_thread(contact.cases_of, None if agent.supervisor else agent.id)
    names = {a.id: a.display_name for a in await asyncio.to_thread(contact.agents_online)}
    return {"waiting": [case_card(c) for c in waiting], "mine": [case_card(c, names.get(c.agent_id)) for c in mine]}


async def queue(request: web.Request) -> web.Response:
    return web.json_response(await queue_view(request))


async def case_detail(request: web.Request) -> web.Response:
    return web.json_response(await case_view(request, await _case(request, act=False)))


async def case_view(request: web.Request, case: EscalationInfo) -> dict:
    """Everything about the case an agent sees: summary, one timeline across channels, slots, profile."""
    tracker = await request.app[HUB].rasa.tracker(case.conversation_id)
    events = tracker.get("events") or case.context.get("events") or []
    profile = await asyncio.to_thread(customer_profile, request.app[CIS], case.account_no, case.phone)
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
        "dispositions": DISPOSITIONS,
        "mine": may_act(agent_of(request), case),
    }
    if not view["mine"] and not agent_of(request).supervisor:  # a colleague deciding whether to claim
        for key in ("summary", "transcript", "functions", "slots", "profile", "earlier_cases", "conversation"):
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
    try:
        case = await casework.claim(request.app[HUB], case, agent)
    except Conflict as e:
        raise web.HTTPConflict(text=str(e)) from None
    return web.json_response(case_card(case, agent.display_name))


async def send_message(request: web.Request) -> web.Response:
    case = await _case(request)
    text = str((await _body(request)).get("text") or "").strip()
    if not text or len(text) > MAX_MESSAGE:
        raise web.HTTPBadRequest(text=f"message must be 1–{MAX_MESSAGE} characters")
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
        raise web.HTTPBadRequest(text="function_id (a catalog id), note and request_id are required")
    order = await asyncio.to_thread(
        request.app[CIS].create_work_order,
        function_id,
        case.channel,
        {"note": note, "agent": agent.username},
        account_no=case.account_no,
        conversation_id=case.conversation_id,
        priority=Priority.URGENT if body.get("urgent") else Priority.NORMAL,
        idempotency_key=f"console:{case.id}:{request_id}",
    )
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
        raise web.HTTPNotFound(text="no such order for this customer")
    status = str(body.get("status") or "")
    if status not in ORDER_STATUSES:
        raise web.HTTPBadRequest(text=f"status must be one of {', '.join(ORDER_STATUSES)}")
    note = f"{agent_of(request).display_name}: {str(body.get('note') or '')[:300]}"
    try:
        order = await asyncio.to_thread(
            cis.update_work_order, order.number, status, note, f"agent:{agent_of(request).username}", "console"
        )
    except IllegalTransition as e:
        raise web.HTTPConflict(text=str(e)) from None
    return web.json_response({"number": order.number, "status": order.status_label})


async def transfer(request: web.Request) -> web.Response:
    case = await _case(request)
    to = str((await _body(request)).get("to") or "")
    try:
        case, target = await casework.transfer(request.app[HUB], case, agent_of(request), to)
    except UnknownAgent:
        raise web.HTTPBadRequest(text="no such agent") from None
    except Conflict as e:
        raise web.HTTPConflict(text=str(e)) from None
    return web.json_response(case_card(case, target.display_name))


async def release(request: web.Request) -> web.Response:
    """Back to the queue, for a colleague to claim (the customer waits on, the bot stays paused)."""
    case = await _case(request)
    try:
        case = await casework.release(request.app[HUB], case, agent_of(request))
    except Conflict as e:
        raise web.HTTPConflict(text=str(e)) from None
    return web.json_response(case_card(case))


async def finish(request: web.Request) -> web.Response:
    """Return to bot (the customer keeps talking to the bot, slots intact) or close with a disposition."""
    case = await _case(request)
    body = await _body(request)
    disposition = str(body.get("disposition") or "")
    if disposition not in DISPOSITIONS:
        raise web.HTTPBadRequest(text=f"disposition must be one of {', '.join(DISPOSITIONS)}")
    ending = CaseStatus.RETURNED if request.match_info["how"] == "return" else CaseStatus.CLOSED
    try:
        case = await casework.finish(request.app[HUB], case, ending, disposition)
    except Conflict as e:
        raise web.HTTPConflict(text=str(e)) from None
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
    r.add_post("/console/api/cases/{case_id}/transfer", transfer)
    r.add_post("/console/api/cases/{case_id}/code", continuation_code)
    r.add_post("/console/api/cases/{case_id}/release", release)
    r.add_post("/console/api/cases/{case_id}/{how:return|close}", finish)
