"""The supervisor's live view and live-chat supervision: monitor a case, whisper to its agent, take it over.

- GET  /console/api/supervisor/live         the queue by skill, agents by status, today's figures (JSON)
- GET  /console/api/cases/{id}/supervision  the case's owner and the whispers / takeovers on it
- POST /console/api/cases/{id}/monitor      a supervisor opened the live chat (a case note)
- POST /console/api/cases/{id}/whisper      a hint only the handling agent (and supervisors) see
- POST /console/api/cases/{id}/takeover     the supervisor becomes the case's owner

A whisper is a case note pushed to the owner's console sockets: never to the customer, never into Rasa.
A takeover is one guarded update (the owner the supervisor saw must still have the case), then the agent's
console is told and the customer hears, politely, that the duty supervisor (值班主管) continues.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError

from backend.contact_centre import AgentInfo, CaseStatus, Conflict, EscalationInfo, NoteKind, metrics
from backend.contact_centre.notes import NoteError, NoteInfo, NoteStore, note_text
from console import agent_api
from console.auth import agent_of, require_supervisor
from console.config import CONFIG, CONTACT, HUB

log = logging.getLogger(__name__)
MAX_WHISPER = 300
TAKEN_OVER = "您好，我是值班主管{name}，接下来由我继续为您服务，您之前说的情况我都看到了。"
SUPERVISED = (NoteKind.WHISPER, NoteKind.TAKEOVER, NoteKind.MONITOR)
NOT_HANDLED = "这个会话现在没有坐席在处理，无法监听或提示。"


class TrackerStore:
    """Read-only access to Rasa's SQLite tracker store (embedded profile), opened once the file exists: Rasa
    creates it on its first start, which may be after the console's."""

    def __init__(self, path: str):
        self.path = Path(path) if path else None
        self._engine: Engine | None = None
        self.tally = metrics.TrackerTally()  # today's turns so far, read on from the last event id
        self.lock = threading.Lock()  # one reader of the tally at a time (each request reads in a thread)

    def engine(self) -> Engine | None:
        if self._engine is None and self.path is not None and self.path.is_file():
            self._engine = create_engine(f"sqlite:///file:{self.path.resolve()}?mode=ro&uri=true")
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


TRACKER = web.AppKey("tracker_store", TrackerStore)


async def tracker_store(app: web.Application) -> AsyncIterator[None]:
    app[TRACKER] = store = TrackerStore(app[CONFIG].tracker_db)
    yield
    store.close()


def _live(app: web.Application) -> dict[str, Any]:
    store = app[TRACKER]
    tracker = store.engine()
    with app[CONTACT].sessions() as s, store.lock:
        try:
            return metrics.live_view(s, tracker=tracker, tally=store.tally)
        except SQLAlchemyError as e:  # the tracker file is Rasa's: locked or mid-migration, count without it
            if tracker is None:
                raise
            log.warning("tracker store not readable for the supervisor view: %r", e)
            s.rollback()
            return metrics.live_view(s)


async def live(request: web.Request) -> web.Response:
    require_supervisor(request)
    return web.json_response(await asyncio.to_thread(_live, request.app))


def _notes(request: web.Request) -> NoteStore:
    return NoteStore(request.app[CONTACT].sessions)


def _card(note: NoteInfo) -> dict[str, Any]:
    return {**note.card(), "case": note.case_id}


async def supervision(request: web.Request) -> web.Response:
    """For the case page: who handles the case, and the supervisor's whispers and takeovers (the owner sees
    the whispers meant for them; a supervisor sees them all)."""
    case = await agent_api._case(request, act=False)
    me = agent_of(request)
    if not me.supervisor and case.agent_id != me.id:
        raise web.HTTPForbidden(text="这个会话已由其他同事处理。")
    owner = await asyncio.to_thread(request.app[CONTACT].agent, case.agent_id) if case.agent_id else None
    notes = [n for n in await asyncio.to_thread(_notes(request).notes_of, case.id) if n.kind in SUPERVISED]
    if not me.supervisor:
        notes = [n for n in notes if n.kind != NoteKind.MONITOR and n.detail.get("to") in (None, me.id)]
    return web.json_response(
        {
            "case": case.id,
            "status": case.status,
            "owner": {"id": owner.id, "name": owner.display_name, "supervisor": owner.supervisor} if owner else None,
            "me": me.id,
            "supervisor": me.supervisor,
            "mine": case.agent_id == me.id,
            "notes": [_card(n) for n in notes],
        }
    )


async def _handled_case(request: web.Request) -> tuple[AgentInfo, EscalationInfo]:
    """A supervisor and a case another person is handling now (refusals in Chinese otherwise)."""
    me = require_supervisor(request)
    case = await agent_api._case(request, act=False)
    if case.status != CaseStatus.CLAIMED or case.agent_id is None:
        raise web.HTTPConflict(text=NOT_HANDLED)
    if case.agent_id == me.id:
        raise web.HTTPConflict(text="这个会话已经由您本人处理，直接回复客户即可。")
    return me, case


async def monitor(request: web.Request) -> web.Response:
    me, case = await _handled_case(request)
    note = await asyncio.to_thread(_notes(request).add_note, case.id, me.id, NoteKind.MONITOR, "打开了实时会话")
    return web.json_response(_card(note))


async def whisper(request: web.Request) -> web.Response:
    me, case = await _handled_case(request)
    body = await agent_api._body(request)
    try:
        text = note_text(body.get("text"), MAX_WHISPER, "提示")
    except NoteError as e:
        raise web.HTTPBadRequest(text=f"{e}。") from None
    owner = case.agent_id
    assert owner is not None
    note = await asyncio.to_thread(_notes(request).add_note, case.id, me.id, NoteKind.WHISPER, text, {"to": owner})
    await request.app[HUB].to_agent(owner, {"type": "whisper", **_card(note)}, supervisors=True)
    return web.json_response(_card(note))


async def takeover(request: web.Request) -> web.Response:
    me, case = await _handled_case(request)
    body = await agent_api._body(request)
    seen = body.get("from", case.agent_id)
    if isinstance(seen, bool) or not isinstance(seen, int):
        raise web.HTTPBadRequest(text="提交的格式不对，请刷新页面后再试。")
    contact, hub = request.app[CONTACT], request.app[HUB]
    try:
        taken = await asyncio.to_thread(contact.take_over, case.id, me.id, seen)
    except Conflict:
        raise web.HTTPConflict(text="这个会话刚刚有变化（可能已转给别人或已结束），请刷新后再看。") from None
    note = await asyncio.to_thread(
        _notes(request).add_note, case.id, me.id, NoteKind.TAKEOVER, f"{me.display_name}接管了会话", {"from": seen}
    )
    await hub.to_agent(seen, {"type": "takeover", **_card(note), "name": me.display_name}, supervisors=True)
    await hub.agent_says(taken, me.display_name, me.username, TAKEN_OVER.format(name=me.display_name))
    await hub.to_customer(taken.conversation_id, {"type": "handoff", "state": "agent", "name": me.display_name})
    await hub.broadcast({"type": "queue"})
    return web.json_response({**agent_api.case_card(taken, me.display_name), "note": _card(note)})


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(tracker_store)
    r = app.router
    r.add_get("/console/api/supervisor/live", live)
    r.add_get("/console/api/cases/{case_id}/supervision", supervision)
    r.add_post("/console/api/cases/{case_id}/monitor", monitor)
    r.add_post("/console/api/cases/{case_id}/whisper", whisper)
    r.add_post("/console/api/cases/{case_id}/takeover", takeover)
