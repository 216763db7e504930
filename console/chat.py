"""The WeChat-style web chat: the page, its socket (bot replies, agent messages live), continuation links."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path

from aiohttp import WSMsgType, web

from backend.case_view import transcript
from backend.contact_centre import CaseStatus, Channel
from backend.ratelimit import SlidingWindow
from channels.rasa import custom_payload, handoff_of
from channels.wording import TOO_FAST, WELCOME
from console.auth import client_address, same_origin
from console.config import CONFIG, CONTACT, HUB
from console.pages import render

CHAT_COOKIE = "p95598_chat"
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a client's own id for a message, kept with it in the tracker
PER_SENDER = web.AppKey("chat_rate", SlidingWindow)  # 20 messages in 10 s per browser, over all its tabs


def identity(request: web.Request) -> str | None:
    token = request.cookies.get(CHAT_COOKIE, "")
    return f"chat:{token}" if 16 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum() else None


def with_identity(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    if identity(request) is None:
        response.set_cookie(
            CHAT_COOKIE,
            secrets.token_urlsafe(18),
            max_age=30 * 86400,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=request.app[CONFIG].secure_cookies,
        )
    return response


async def chat_page(request: web.Request) -> web.StreamResponse:
    return with_identity(request, render("chat.html"))


async def continue_link(request: web.Request) -> web.StreamResponse:
    """/c/123456: the link sent to a caller. Opening it changes nothing: the chat page asks the customer, and
    only their click binds the case (POST /chat/continue, same origin)."""
    raise with_identity(request, web.HTTPFound(f"/chat?continue={request.match_info['code']}"))


async def continue_case(request: web.Request) -> web.Response:
    who = identity(request)
    if who is None or not same_origin(request):
        raise web.HTTPForbidden(text="open the chat page first")
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="JSON body expected") from None
    code = str(body.get("code") or "") if isinstance(body, dict) else ""
    if not (len(code) == 6 and code.isdigit()):
        raise web.HTTPBadRequest(text="a 6-digit code expected")
    replies = await request.app[HUB].customer_says(
        who, Channel.CHAT, f"续办{code}", {"client": client_address(request)}
    )
    return web.json_response({"messages": to_browser(replies), "continued": bool(custom_payload(replies, "continued"))})


async def new_code(request: web.Request) -> web.Response:
    who = identity(request)
    if who is None or not same_origin(request):
        raise web.HTTPForbidden(text="open the chat page first")
    contact = request.app[CONTACT]
    conversation = await asyncio.to_thread(contact.conversation_of, who)
    code = await asyncio.to_thread(contact.issue_code, conversation)
    return web.json_response({"code": code, "link": f"/c/{code}"})


def to_browser(messages: list[dict]) -> list[dict]:
    out = []
    for m in messages:
        handoff = handoff_of([m])
        if handoff:
            out.append({"type": "handoff", "state": "waiting", **handoff})
        elif m.get("text"):
            out.append({"type": "message", "who": "bot", "text": m["text"], "buttons": m.get("buttons") or []})
    return out


async def history(request: web.Request, conversation: str) -> dict:
    hub = request.app[HUB]
    tracker = await hub.rasa.tracker(conversation)
    turns = [
        {"who": t["who"], "text": t["text"], "name": t.get("agent") or ""}
        for t in transcript(tracker.get("events") or [], limit=200)
        if t["text"]
    ]
    case = await asyncio.to_thread(request.app[CONTACT].open_case, conversation)
    state = "bot" if case is None else ("agent" if case.status == CaseStatus.CLAIMED else "waiting")
    return {"type": "history", "messages": turns, "state": state, "welcome": WELCOME.chat}


async def chat_socket(request: web.Request) -> web.WebSocketResponse:
    who = identity(request)
    if who is None or not same_origin(request):
        raise web.HTTPForbidden(text="open the chat page first")
    hub, contact = request.app[HUB], request.app[CONTACT]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=32 * 1024)
    await ws.prepare(request)
    conversation = await asyncio.to_thread(contact.conversation_of, who)
    client = client_address(request)  # one socket, one client: worked out once
    hub.attach(conversation, ws)
    try:
        await ws.send_json(await history(request, conversation))
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = msg.json()
                text = str(data.get("text") or "") if isinstance(data, dict) else ""
                message_id = str(data.get("id") or "") if isinstance(data, dict) else ""
            except ValueError:
                await ws.send_json({"type": "error", "text": "消息格式不对。"})
                continue
            if not request.app[PER_SENDER].allow(who):
                await ws.send_json({"type": "message", "who": "bot", "text": TOO_FAST})
                continue
            if not text.strip():
                await ws.send_json({"type": "message", "who": "bot", "text": "请输入您要咨询的内容。"})
                continue
            await ws.send_json({"type": "typing", "on": True})
            meta = {"channel": Channel.CHAT, "client": client}
            if MESSAGE_ID.fullmatch(message_id):
                meta["client_message_id"] = message_id
            replies = await hub.customer_says(who, Channel.CHAT, text, meta)
            moved = custom_payload(replies, "continued")
            for item in to_browser(replies):
                await ws.send_json(item)
            await ws.send_json({"type": "typing", "on": False})
            if moved and moved != conversation:  # continued a case from another channel: show its history
                hub.detach(conversation, ws)
                conversation = moved
                hub.attach(conversation, ws)
                await ws.send_json(await history(request, conversation))
    finally:
        hub.detach(conversation, ws)
    return ws


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/chat")


def add_routes(app: web.Application) -> None:
    app[PER_SENDER] = SlidingWindow(limit=20, window=10.0)
    r = app.router
    r.add_get("/", home)
    r.add_get("/chat", chat_page)
    r.add_get("/chat/ws", chat_socket)
    r.add_post("/chat/code", new_code)
    r.add_post("/chat/continue", continue_case)
    r.add_get(r"/c/{code:\d{6}}", continue_link)
    r.add_static("/chat/static", Path(__file__).parent / "static")
