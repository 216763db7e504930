"""Automatic routing on the console: the router loop, agents' status, offers (accept / decline) and a
supervisor's assignment of a waiting case to a named agent.

The loop (`routing`, one of the app's cleanup contexts) runs a routing round (backend.contact_centre.routing)
about twice a second and pushes each new offer to the chosen agent's console tabs (`offer`), a lapsed one
(`offer_gone`) and a status the system changed (`presence`: 离线 after the heartbeat window, 示忙（未接来单）
after two lapses). Several console processes may run it at once: the guarded updates let one of them win.

Cherry-picking: agents get cases by offer, but may still take a waiting case from the queue (接入) when it is
on offer to nobody else — with nobody 示闲 the queue must not stall, and a case on offer to a colleague is
refused. Supervisors may take or assign any waiting case.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from backend.background import running
from backend.contact_centre import AgentInfo, AgentRole, ContactStore, EscalationInfo, OfferGone
from backend.contact_centre.kinds import CHANNEL_LABELS, REASON_LABELS, CaseStatus
from backend.contact_centre.presence import InvalidStatus, choices
from backend.contact_centre.routing import RoutingRound
from backend.contact_centre.skills import skill_groups
from backend.models import utcnow
from backend.pii import mask
from console.auth import agent_of, require_supervisor
from console.casework import GREETING
from console.config import CONFIG, CONTACT, HUB
from console.hub import Hub

log = logging.getLogger(__name__)
INTERVAL = 0.5  # seconds between routing rounds
KEEP_ONLINE = 20.0  # seconds between an open socket's presence refreshes (the online window is 60 s)
LAPSED = "来单已超时，已转给其他同事。"
ON_OFFER_ELSEWHERE = "这个会话正在推送给其他同事，请等系统分配给您的来单。"


class RoutingLoop:
    """This process's router: a round every INTERVAL, and what it changed pushed to the agents concerned."""

    def __init__(self, contact: ContactStore, hub: Hub, offer_for: dt.timedelta, policy: str):
        self.contact, self.hub, self.offer_for, self.policy = contact, hub, offer_for, policy

    async def run(self, interval: float = INTERVAL) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.round()
            except Exception as e:  # noqa: BLE001 - a database hiccup must not end routing for this process
                log.warning("routing round failed: %r", e)

    async def round(self) -> RoutingRound:
        done = await asyncio.to_thread(self.contact.route, self.offer_for, self.policy)
        for offer in done.offers:
            case = await asyncio.to_thread(self.contact.case, offer.case_id)
            if case is not None:
                await self.hub.to_agent(offer.agent_id, offer_payload(case, offer.offered_at, offer.expires_at))
        for case_id, agent_id in done.lapsed:
            await self.hub.to_agent(agent_id, {"type": "offer_gone", "case": case_id, "text": LAPSED})
        for agent_id in {*done.missed, *done.offline}:
            await self.push_presence(agent_id)
        if done.offers or done.lapsed:  # the queue lists show which cases are being offered
            await self.hub.broadcast({"type": "queue"})
        return done

    async def push_presence(self, agent_id: int) -> None:
        presence = await asyncio.to_thread(self.contact.presence, agent_id)
        if presence is not None:
            await self.hub.to_agent(agent_id, {"type": "presence", **presence.as_json()})


ROUTER = web.AppKey("router", RoutingLoop)


def offer_payload(case: EscalationInfo, offered_at: dt.datetime, expires_at: dt.datetime) -> dict[str, Any]:
    """What the offer pop-up shows: no personal numbers before the case is accepted."""
    return {
        "type": "offer",
        "case": case.id,
        "channel_name": CHANNEL_LABELS.get(case.channel, case.channel),
        "reason": REASON_LABELS.get(case.reason, case.reason),
        "skill_name": skill_groups().name(case.skill),
        "urgent": case.priority == "urgent",
        "summary": mask(case.summary.split("\n")[0])[:120],
        "waited": case.waited_seconds(),
        "offered_at": offered_at.isoformat(),
        "expires_in": max(0, round((expires_at - utcnow()).total_seconds())),
    }


async def routing(app: web.Application) -> AsyncIterator[None]:
    """The app's router loop (after `conversations`, which opens the hub and the bus it pushes on)."""
    cfg = app[CONFIG]
    loop = app[ROUTER] = RoutingLoop(
        app[CONTACT], app[HUB], dt.timedelta(seconds=cfg.offer_seconds), cfg.routing_policy
    )
    async with running(loop.run()):
        yield


async def keep_online(contact: ContactStore, agent_id: int, token: str, ws: web.WebSocketResponse) -> None:
    """While a console socket is open the agent is online, even in a background tab whose timers the browser
    slows to one a minute (aiohttp's own pings close a dead socket). A socket whose login has ended (logged
    out in another tab) is closed: that page then says the login has expired."""
    while not ws.closed:
        await asyncio.sleep(KEEP_ONLINE)
        if await asyncio.to_thread(contact.login, token) is None:
            await ws.close()
            return
        await asyncio.to_thread(contact.heartbeat, agent_id)


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _case_id(request: web.Request) -> int | None:
    try:
        case_id = int(request.match_info["case_id"])
    except ValueError:
        return None
    return case_id if 0 < case_id < 2**31 else None


async def _json(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def announce_claim(hub: Hub, case: EscalationInfo, agent: AgentInfo) -> None:
    """As console.casework.claim after its guarded step: the customer is greeted by the agent's name."""
    await hub.agent_says(case, agent.display_name, agent.username, GREETING.format(name=agent.display_name))
    await hub.to_customer(case.conversation_id, {"type": "handoff", "state": "agent", "name": agent.display_name})
    await hub.broadcast({"type": "queue"})


# ---- handlers ----
async def my_presence(request: web.Request) -> web.Response:
    """The header's status, the selector's choices, and an offer in hand (a page opened mid-offer)."""
    contact, agent = request.app[CONTACT], agent_of(request)
    presence = await asyncio.to_thread(contact.console_opened, agent.id)  # a page asking is a console open
    offered = await asyncio.to_thread(contact.offer_of, agent.id)
    offer = None
    if offered is not None and offered.offer_expires_at is not None:
        offer = offer_payload(offered, utcnow(), offered.offer_expires_at)
    return web.json_response({"me": presence.as_json() if presence else None, "choices": choices(), "offer": offer})


async def set_presence(request: web.Request) -> web.Response:
    body = await _json(request)
    if body is None:
        return _refuse(400, "请从列表中选择状态。")
    status, _, reason = str(body.get("status") or "").partition(":")
    reason = reason or str(body.get("reason") or "")
    agent = agent_of(request)
    try:
        presence = await asyncio.to_thread(request.app[CONTACT].set_status, agent.id, status[:16], reason[:32])
    except InvalidStatus as e:
        return _refuse(400, e.message)
    return web.json_response({"me": presence.as_json()})


async def accept(request: web.Request) -> web.Response:
    case_id, agent, hub = _case_id(request), agent_of(request), request.app[HUB]
    if case_id is None:
        return _refuse(404, "没有找到这个会话。")
    try:
        case = await asyncio.to_thread(request.app[CONTACT].accept_offer, case_id, agent.id)
    except OfferGone as e:
        return _refuse(409, e.message)
    await announce_claim(hub, case, agent)
    return web.json_response({"case": case.id, "url": f"/console/cases/{case.id}"})


async def decline(request: web.Request) -> web.Response:
    case_id, agent = _case_id(request), agent_of(request)
    if case_id is None:
        return _refuse(404, "没有找到这个会话。")
    try:
        await asyncio.to_thread(request.app[CONTACT].decline_offer, case_id, agent.id)
    except OfferGone as e:
        return _refuse(409, e.message)
    await request.app[ROUTER].round()  # the next agent hears of it now, not at the next tick
    return web.json_response({"ok": True})


async def assign(request: web.Request) -> web.Response:
    """A supervisor gives a waiting case to a named agent (online, not a supervisor); it is theirs at once."""
    boss, contact, hub = require_supervisor(request), request.app[CONTACT], request.app[HUB]
    case_id, body = _case_id(request), await _json(request)
    if case_id is None:
        return _refuse(404, "没有找到这个会话。")
    to = str((body or {}).get("to") or "")[:32]
    target = await asyncio.to_thread(contact.agent_by_username, to) if to else None
    online = {a.id for a in await asyncio.to_thread(contact.agents_online)}
    if target is None or target.role != AgentRole.AGENT:
        return _refuse(400, "请从列表中选择一位坐席。")
    if target.id not in online:
        return _refuse(409, f"{target.display_name}现在不在线，请选择其他坐席。")
    try:
        case = await asyncio.to_thread(contact.assign, case_id, target.id, boss.id)
    except OfferGone as e:
        return _refuse(409, e.message)
    await announce_claim(hub, case, target)
    await hub.to_agent(target.id, {"type": "assigned", "case": case.id, "by": boss.display_name})
    return web.json_response({"case": case.id, "agent": target.display_name})


async def team(request: web.Request) -> web.Response:
    """Agents (not supervisors) with their status, skills and load: the supervisor's assign list."""
    require_supervisor(request)
    everyone = await asyncio.to_thread(request.app[CONTACT].presences)
    return web.json_response({"agents": [p.as_json() for p in everyone if p.role == AgentRole.AGENT]})


def may_pick(agent: AgentInfo, case: EscalationInfo) -> str:
    """'' when the agent may take this waiting case from the queue, else why not (in Chinese)."""
    if agent.supervisor or case.status != CaseStatus.WAITING or case.offered_to in (None, agent.id):
        return ""
    return ON_OFFER_ELSEWHERE


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/api/presence", my_presence)
    r.add_post("/console/api/presence", set_presence)
    r.add_get("/console/api/team", team)
    r.add_post("/console/api/offers/{case_id}/accept", accept)
    r.add_post("/console/api/offers/{case_id}/decline", decline)
    r.add_post("/console/api/cases/{case_id}/assign", assign)
