"""Suspected outages (疑似停电) for supervisors: the open incidents the surge detector found, and the decision.

- GET  /console/api/incidents                 open incidents: areas, counts against expected, sample utterances
- POST /console/api/incidents/{id}/confirm    {"note", "hours", "reason"}: a fault outage is recorded for its areas,
                                              with the supervisor's cause and restoration (both required: customers
                                              are told exactly these, nothing is made up)
- POST /console/api/incidents/{id}/dismiss    {"note"}: not an outage

Supervisors only. Each incident is decided once: a second decision (another supervisor was quicker) gets 409.
The alert when one opens reaches the consoles through the notification interface (notices.console_alerts).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from analytics import incidents
from backend.models_incidents import IncidentStatus
from backend.spoken import local_time
from console import agent_api
from console.auth import require_supervisor
from console.config import ORDERS

DECIDED = "这条疑似停电刚刚已由其他班长处理，请刷新后再看。"
BAD_HOURS = f"预计恢复时间请填1到{incidents.MAX_HOURS}小时。"
NO_REASON = "请填写停电原因，客户会听到这句话。"
LONG_REASON = f"停电原因请控制在{incidents.MAX_REASON}字以内。"


def card(i: incidents.IncidentInfo) -> dict[str, Any]:
    return {
        "id": i.id,
        "title": i.title,
        "status": i.status,
        "status_label": i.status_label,
        "areas": [
            {
                "code": a["code"],
                "name": a["name"],
                "count": a.get("count", 0),
                "expected": a.get("expected", 0.0),
                "peak": a.get("peak", 0),
            }
            for a in i.areas
        ],  # fmt: skip
        "window_minutes": i.window_minutes,
        "opened_at": local_time(i.opened_at).strftime("%m-%d %H:%M"),
        "last_surge_at": local_time(i.last_surge_at).strftime("%H:%M"),
        "contacts": i.contacts,
        "expected": round(i.expected, 1),
        "samples": i.samples,
        "decided_by": i.decided_by,
        "note": i.note,
    }


def _id(request: web.Request) -> int:
    try:
        return int(request.match_info["incident_id"])
    except ValueError:
        raise web.HTTPNotFound(text="没有这条疑似停电记录。") from None


async def list_open(request: web.Request) -> web.Response:
    require_supervisor(request)
    found = await asyncio.to_thread(incidents.list_incidents, request.app[ORDERS].sessions)
    return web.json_response({"incidents": [card(i) for i in found]})


async def _decide(request: web.Request, decision: IncidentStatus) -> web.Response:
    me = require_supervisor(request)
    incident_id = _id(request)
    body = await agent_api._body(request)
    note = str(body.get("note") or "").strip()
    if len(note) > incidents.MAX_NOTE:
        raise web.HTTPBadRequest(text=f"备注请控制在{incidents.MAX_NOTE}字以内。")
    hours: float = incidents.MAX_HOURS  # a dismissal records no outage: neither is asked
    reason = ""
    if decision == IncidentStatus.CONFIRMED:
        given = body.get("hours")
        if isinstance(given, bool) or not isinstance(given, int | float) or not 0 < given <= incidents.MAX_HOURS:
            raise web.HTTPBadRequest(text=BAD_HOURS)
        hours = float(given)
        reason = str(body.get("reason") or "").strip()
        if not reason:
            raise web.HTTPBadRequest(text=NO_REASON)
        if len(reason) > incidents.MAX_REASON:
            raise web.HTTPBadRequest(text=LONG_REASON)
    sessions = request.app[ORDERS].sessions
    if await asyncio.to_thread(incidents.get, sessions, incident_id) is None:
        raise web.HTTPNotFound(text="没有这条疑似停电记录。")
    try:
        decided = await asyncio.to_thread(
            incidents.decide, sessions, incident_id, decision, f"agent:{me.id}", note, hours=hours, reason=reason
        )
    except incidents.IncidentConflict:
        raise web.HTTPConflict(text=DECIDED) from None
    return web.json_response(card(decided))


async def confirm(request: web.Request) -> web.Response:
    return await _decide(request, IncidentStatus.CONFIRMED)


async def dismiss(request: web.Request) -> web.Response:
    return await _decide(request, IncidentStatus.DISMISSED)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/api/incidents", list_open)
    r.add_post("/console/api/incidents/{incident_id}/confirm", confirm)
    r.add_post("/console/api/incidents/{incident_id}/dismiss", dismiss)
