"""Replying to a customer, the agent's side: canned replies (常用语) with their variables, internal notes on a
case, and transfer with a note to a colleague or a skill group; plus the page where agents keep their canned
replies. Refusals are Chinese sentences (console/errors.py turns them into `{"error": ...}`).

Handlers check who may do what and validate input; the steps of a transfer are in console/casework.py, the
variables are filled in one place (backend.contact_centre.canned.render).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from backend.contact_centre import AgentInfo, Conflict, EscalationInfo, NoteKind
from backend.contact_centre.canned import CannedError, NotAllowed, ReplyValues, render
from backend.contact_centre.notes import MAX_TRANSFER_NOTE, NoteError, note_text
from backend.contact_centre.skills import skill_groups
from backend.pii import mask_value
from console import casework
from console.agent_api import _body, _case, case_card, may_act
from console.auth import agent_of
from console.casework import UnknownAgent, UnknownGroup
from console.config import CIS, CONTACT, HUB
from console.pages import render as render_page

CHANGED = "这个会话刚刚有变化（可能已转走或已结束），请刷新后再看。"
NO_REPLY = "没有找到这条常用语，可能已被删除。"


def _reply_id(request: web.Request) -> int:
    try:
        reply_id = int(request.match_info["reply_id"])
    except ValueError:
        raise web.HTTPNotFound(text=NO_REPLY) from None
    if not 0 < reply_id < 2**31:
        raise web.HTTPNotFound(text=NO_REPLY)
    return reply_id


# ---- canned replies ----


async def list_canned(request: web.Request) -> web.Response:
    """The team's replies and the agent's own, filtered by ?q= (title or text)."""
    agent = agent_of(request)
    query = request.query.get("q", "")
    replies = await asyncio.to_thread(request.app[CONTACT].canned_for, agent, query)
    return web.json_response({"replies": [r.card(agent) for r in replies]})


async def add_canned(request: web.Request) -> web.Response:
    body, agent = await _body(request), agent_of(request)
    try:
        reply = await asyncio.to_thread(
            request.app[CONTACT].add_canned, agent, body.get("title"), body.get("text"), team=body.get("team") is True
        )
    except NotAllowed as e:
        raise web.HTTPForbidden(text=str(e)) from None
    except CannedError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    return web.json_response(reply.card(agent), status=201)


async def edit_canned(request: web.Request) -> web.Response:
    reply_id, body, agent = _reply_id(request), await _body(request), agent_of(request)
    try:
        reply = await asyncio.to_thread(
            request.app[CONTACT].edit_canned, reply_id, agent, body.get("title"), body.get("text")
        )
    except NotAllowed as e:
        raise web.HTTPForbidden(text=str(e)) from None
    except CannedError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    if reply is None:
        raise web.HTTPNotFound(text=NO_REPLY)
    return web.json_response(reply.card(agent))


async def delete_canned(request: web.Request) -> web.Response:
    reply_id, agent = _reply_id(request), agent_of(request)
    try:
        deleted = await asyncio.to_thread(request.app[CONTACT].delete_canned, reply_id, agent)
    except NotAllowed as e:
        raise web.HTTPForbidden(text=str(e)) from None
    if not deleted:
        raise web.HTTPNotFound(text=NO_REPLY)
    return web.json_response({"ok": True})


def reply_values(request: web.Request, case: EscalationInfo, agent: AgentInfo, gender: str) -> ReplyValues:
    """What this case knows for the variables: the bound account's holder, its latest order, the agent."""
    cis = request.app[CIS]
    customer = cis.get_customer(case.account_no) if case.account_no else None
    orders = sorted(cis.conversation_orders(case.conversation_id), key=lambda o: o.created_at)
    return ReplyValues(
        agent_name=agent.display_name,
        customer_name=customer.name if customer else None,
        order_no=orders[-1].number if orders else None,
        account_no=case.account_no,
        gender=gender or None,
    )


async def use_canned(request: web.Request) -> web.Response:
    """A canned reply with this case's values filled in. A variable with no value is left as {变量} and the
    reply is 422 with a Chinese sentence naming it: the page puts the text in the box for editing, unsent."""
    case = await _case(request)
    agent = agent_of(request)
    reply = await asyncio.to_thread(request.app[CONTACT].canned, _reply_id(request), agent)
    if reply is None:
        raise web.HTTPNotFound(text=NO_REPLY)
    gender = str((await _body(request)).get("gender") or "")
    values = await asyncio.to_thread(reply_values, request, case, agent, gender)
    rendered = render(reply.text, values)
    body: dict[str, Any] = {"text": rendered.text, "missing": list(rendered.missing), "title": reply.title}
    if rendered.missing:
        return web.json_response({**body, "error": rendered.message}, status=422)
    return web.json_response(body)


# ---- internal notes ----


async def list_notes(request: web.Request) -> web.Response:
    """The case's notes for the console (the owner and supervisors in full, a colleague masked)."""
    case = await _case(request, act=False)
    agent = agent_of(request)
    notes = [n.card() for n in await asyncio.to_thread(request.app[CONTACT].notes_of, case.id)]
    full = agent.supervisor or may_act(agent, case)
    return web.json_response({"notes": notes if full else mask_value(notes)})


async def add_note(request: web.Request) -> web.Response:
    """An internal note: stored on the case and shown to the case's agents; the customer never gets it."""
    case = await _case(request)
    agent = agent_of(request)
    try:
        text = note_text((await _body(request)).get("text"))
    except NoteError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    note = await asyncio.to_thread(request.app[CONTACT].add_note, case.id, agent.id, NoteKind.NOTE, text)
    card = note.card()
    await request.app[HUB].to_case_agents(case, {"type": "note", "case": case.id, **card})
    return web.json_response(card, status=201)


# ---- transfer with a note ----


async def transfer_targets(request: web.Request) -> web.Response:
    """Whom the case may go to: colleagues online now, and the skill groups."""
    await _case(request)
    agent = agent_of(request)
    online = await asyncio.to_thread(request.app[CONTACT].agents_online)
    groups = skill_groups()
    return web.json_response(
        {
            "agents": [
                {"username": a.username, "name": a.display_name}
                for a in online
                if a.id != agent.id and not a.supervisor
            ],
            "groups": [{"id": g.id, "name": g.name} for g in groups.groups.values()],
        }
    )


async def transfer(request: web.Request) -> web.Response:
    """To a colleague ({"to": user name}) or to a skill group ({"group": id}), always with a short note."""
    case = await _case(request)
    body, agent, hub = await _body(request), agent_of(request), request.app[HUB]
    to, group = body.get("to"), body.get("group")
    if not (isinstance(to, str) and to) and not (isinstance(group, str) and group):
        raise web.HTTPBadRequest(text="请选择要转给的同事或技能组。")
    try:
        note = note_text(body.get("note"), MAX_TRANSFER_NOTE, "转接说明")
    except NoteError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    try:
        if isinstance(group, str) and group:
            waiting = await casework.transfer_to_group(hub, case, agent, group, note)
            return web.json_response({**case_card(waiting), "group": skill_groups().name(group)})
        moved, target = await casework.transfer(hub, case, agent, str(to), note)
    except UnknownAgent:
        raise web.HTTPBadRequest(text="没有这位同事（不能转给自己），请从列表中选择。") from None
    except UnknownGroup:
        raise web.HTTPBadRequest(text="没有这个技能组，请从列表中选择。") from None
    except Conflict:
        raise web.HTTPConflict(text=CHANGED) from None
    return web.json_response(case_card(moved, target.display_name))


# ---- the canned-reply page ----


async def canned_page(request: web.Request) -> web.Response:
    return render_page("canned.html", agent=agent_of(request), csrf=request["csrf"])


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/canned", canned_page)
    r.add_get("/console/api/canned", list_canned)
    r.add_post("/console/api/canned", add_canned)
    r.add_post("/console/api/canned/{reply_id}", edit_canned)
    r.add_delete("/console/api/canned/{reply_id}", delete_canned)
    r.add_post("/console/api/cases/{case_id}/canned/{reply_id}", use_canned)
    r.add_get("/console/api/cases/{case_id}/notes", list_notes)
    r.add_post("/console/api/cases/{case_id}/notes", add_note)
    r.add_get("/console/api/cases/{case_id}/transfer-targets", transfer_targets)
    r.add_post("/console/api/cases/{case_id}/transfer", transfer)
