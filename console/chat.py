"""The WeChat-style web chat: the page, its socket (bot replies, agent messages live), continuation links,
photos, ending the chat and rating it.

Every tab of one browser (one cookie identity) shows the same conversation: what the customer sends and what
the bot answers is published to all of them (hub.to_customer), each item with an id so no tab shows it twice.
A message is acknowledged ("sent") by that publication; a resend carries the same client id and is not
processed again. The history sent when a socket opens is built from the stored conversation, so a reload
shows what was shown live (console/chat_view.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from pathlib import Path

from aiohttp import WSMsgType, web

from backend import photos
from backend.contact_centre import CaseStatus, Channel
from backend.photos import PhotoRefused
from backend.ratelimit import SlidingWindow
from channels.rasa import RasaUnavailable, custom_payload
from channels.wording import TOO_FAST, WELCOME
from console import attachments, departures, satisfaction
from console.attachments import PHOTO_TEXT, photo_store
from console.auth import client_address, same_origin
from console.chat_view import RecentIds, chat_history, has_message, now_iso, shown_text, to_browser
from console.config import CATALOG, CONFIG, CONTACT, HUB
from console.pages import render

log = logging.getLogger(__name__)
CHAT_COOKIE = "p95598_chat"
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a client's own id for a message, kept with it in the tracker
PER_SENDER = web.AppKey("chat_rate", SlidingWindow)  # 20 messages in 10 s per browser, over all its tabs
RECENT = web.AppKey("chat_recent", RecentIds)  # message ids taken lately: a resend is not processed twice
START_MENU = ("fault_repair", "outage_query", "bill_query", "payment", "progress_query", "human_agent")
PHOTO_RECEIVED = "照片收到了。请再用文字说一下情况，比如“电表显示屏不亮”或“门口电线断了”，我来帮您办理。"
OPEN_FIRST = "请先打开聊天页面。"


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


def refuse(status: type[web.HTTPException], text: str) -> web.HTTPException:
    """A refused chat-page request: JSON {"error": "中文说明"} with the right status."""
    return status(text=json.dumps({"error": text}, ensure_ascii=False), content_type="application/json")


def start_menu(request: web.Request) -> list[dict[str, str]]:
    functions = request.app[CATALOG].functions
    names = {"human_agent": "转人工"}
    return [{"payload": f"/{f}", "title": names.get(f) or functions[f].name} for f in START_MENU if f in functions]


async def chat_page(request: web.Request) -> web.StreamResponse:
    return with_identity(request, render("chat.html", menu=start_menu(request)))


async def privacy_page(request: web.Request) -> web.StreamResponse:
    return render("chat_privacy.html")


async def continue_link(request: web.Request) -> web.StreamResponse:
    """/c/123456: the link sent to a caller. Opening it changes nothing: the chat page asks the customer, and
    only their click binds the case (POST /chat/continue, same origin)."""
    raise with_identity(request, web.HTTPFound(f"/chat?continue={request.match_info['code']}"))


def _customer(request: web.Request) -> str:
    who = identity(request)
    if who is None or not same_origin(request):
        raise refuse(web.HTTPForbidden, OPEN_FIRST)
    return who


async def _json(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise refuse(web.HTTPBadRequest, "提交的格式不对，请刷新页面后再试。") from None
    if not isinstance(body, dict):
        raise refuse(web.HTTPBadRequest, "提交的格式不对，请刷新页面后再试。")
    return body


async def continue_case(request: web.Request) -> web.Response:
    who = _customer(request)
    body = await _json(request)
    code = str(body.get("code") or "")
    if not (len(code) == 6 and code.isdigit()):
        raise refuse(web.HTTPBadRequest, "续办码是6位数字。")
    replies = await request.app[HUB].customer_says(
        who, Channel.CHAT, f"续办{code}", {"client": client_address(request)}
    )
    return web.json_response(
        {"messages": to_browser(replies, "c", now_iso()), "continued": bool(custom_payload(replies, "continued"))}
    )


async def new_code(request: web.Request) -> web.Response:
    who = _customer(request)
    contact = request.app[CONTACT]
    conversation = await asyncio.to_thread(contact.conversation_of, who)
    code = await asyncio.to_thread(contact.issue_code, conversation)
    return web.json_response({"code": code, "link": f"/c/{code}"})


async def history(request: web.Request, conversation: str) -> dict:
    hub, contact = request.app[HUB], request.app[CONTACT]
    tracker = await hub.rasa.tracker(conversation)
    pending = await asyncio.to_thread(contact.pending, conversation)
    items = chat_history(tracker.get("events") or [], pending.contact_key if pending else None)
    case = await asyncio.to_thread(contact.open_case_state, conversation)
    state: dict = {"state": "bot"}
    if case is not None and case.status == CaseStatus.CLAIMED:
        agent = await asyncio.to_thread(contact.agent, case.agent_id) if case.agent_id else None
        state = {"state": "agent", "name": agent.display_name if agent else ""}
    elif case is not None:
        position = await asyncio.to_thread(contact.position, case)
        minutes = await asyncio.to_thread(contact.wait_minutes, position) if position else 0
        state = {"state": "waiting", "position": position, "wait_minutes": minutes}
    return {"type": "history", "messages": items, **state, "welcome": WELCOME.chat}


async def take_message(request: web.Request, ws: web.WebSocketResponse, conversation: str, data: dict) -> str:
    """One customer message from a socket: acknowledged to every tab, answered to every tab, taken once.
    Returns the conversation the socket is in afterwards (a continuation code moves it)."""
    hub, who = request.app[HUB], identity(request) or ""
    text = str(data.get("text") or "")
    message_id = str(data.get("id") or "")
    if not MESSAGE_ID.fullmatch(message_id):
        message_id = f"s-{secrets.token_hex(8)}"
    shown = shown_text(text, str(data.get("shown") or ""))[:2000]
    sent = {"type": "sent", "id": message_id, "text": shown, "at": now_iso()}
    if not text.strip():
        await ws.send_json({"type": "failed", "id": message_id, "text": "请输入您要咨询的内容。"})
        return conversation
    if not request.app[PER_SENDER].allow(who):
        await ws.send_json({"type": "failed", "id": message_id, "text": TOO_FAST})
        return conversation
    if not request.app[RECENT].take(conversation, message_id) or (
        data.get("resend") and has_message((await hub.rasa.tracker(conversation)).get("events") or [], message_id)
    ):
        await ws.send_json({**sent, "duplicate": True})  # taken before: acknowledged again, not processed
        return conversation
    await hub.to_customer(conversation, sent)
    await hub.to_customer(conversation, {"type": "typing", "on": True})
    meta = {"channel": Channel.CHAT, "client": client_address(request), "client_message_id": message_id}
    if shown != text:
        meta["shown"] = shown
    moved = None
    try:
        replies = await hub.customer_says(who, Channel.CHAT, text, meta)
        moved = custom_payload(replies, "continued")
        for item in to_browser(replies, message_id, now_iso()):
            await hub.to_customer(conversation, item)
    finally:
        await hub.to_customer(conversation, {"type": "typing", "on": False})
    if moved and moved != conversation:  # continued a case from another channel: show its history
        hub.detach(conversation, ws)
        hub.attach(moved, ws)
        await ws.send_json(await history(request, moved))
        return str(moved)
    return conversation


async def chat_socket(request: web.Request) -> web.WebSocketResponse:
    who = identity(request)
    if who is None or not same_origin(request):
        raise web.HTTPForbidden(text=OPEN_FIRST)
    hub, contact = request.app[HUB], request.app[CONTACT]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=32 * 1024)
    await ws.prepare(request)
    conversation = await asyncio.to_thread(contact.conversation_of, who)
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
            except ValueError:
                data = None
            if not isinstance(data, dict):
                await ws.send_json({"type": "error", "text": "消息格式不对。"})
                continue
            conversation = await take_message(request, ws, conversation, data)
    finally:
        hub.detach(conversation, ws)
        departures.page_closed(request.app, conversation)
    return ws


async def upload_photo(request: web.Request) -> web.Response:
    """POST /chat/photo, the photo's bytes as the body: checked, re-encoded and kept with the conversation and
    its open case; every tab shows it, the agent's console is told, the transcript says "[图片]"."""
    who = _customer(request)
    if not request.app[PER_SENDER].allow(who):
        raise refuse(web.HTTPTooManyRequests, TOO_FAST)
    too_big = web.HTTPRequestEntityTooLarge(
        photos.MAX_BYTES,
        request.content_length or 0,
        text=json.dumps({"error": photos.TOO_BIG}, ensure_ascii=False),
        content_type="application/json",
    )
    if (request.content_length or 0) > photos.MAX_BYTES:
        raise too_big
    data = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        data.extend(chunk)
        if len(data) > photos.MAX_BYTES:
            raise too_big
    hub, contact = request.app[HUB], request.app[CONTACT]
    conversation = await asyncio.to_thread(contact.conversation_of, who)
    case = await asyncio.to_thread(contact.open_case, conversation)
    try:
        photo = await asyncio.to_thread(photo_store(request).keep, conversation, case.id if case else None, bytes(data))
    except PhotoRefused as e:
        raise refuse(web.HTTPBadRequest, str(e)) from None
    message_id = request.query.get("id", "")
    if not MESSAGE_ID.fullmatch(message_id):
        message_id = f"p-{photo.id}"
    url, at = f"/chat/photos/{photo.id}", now_iso()
    meta = {"channel": Channel.CHAT, "client_message_id": message_id, "image": url, "attachment": photo.id}
    # a turn written beside the bot, not run through it ("[图片]" is no words to understand): "inform" is the
    # neutral act the domain has for a turn that only gives information
    parse = {"text": PHOTO_TEXT, "intent": {"name": "inform", "confidence": 1.0}, "entities": []}
    events: list[dict] = [{"event": "user", "text": PHOTO_TEXT, "parse_data": parse, "metadata": meta}]
    if case is None:
        events.append({"event": "bot", "text": PHOTO_RECEIVED, "metadata": {"channel": Channel.CHAT}})
    try:
        await hub.rasa.append(conversation, [*events, {"event": "action", "name": "action_listen"}])
    except RasaUnavailable as e:  # the photo is kept and shown live; the transcript misses the turn
        log.warning("photo %s not written into %s: %s", photo.id, conversation, e)
    await hub.to_customer(conversation, {"type": "sent", "id": message_id, "text": PHOTO_TEXT, "image": url, "at": at})
    if case is None:
        reply = {"type": "message", "who": "bot", "text": PHOTO_RECEIVED, "id": f"{message_id}.0", "at": at}
        await hub.to_customer(conversation, reply)
    else:
        photo_url = f"/console/cases/{case.id}/photos/{photo.id}"
        await hub.to_case_agents(
            case, {"type": "customer", "case": case.id, "text": PHOTO_TEXT, "photo": photo_url, "channel": "chat"}
        )
    return web.json_response({"id": message_id, "photo": url, "width": photo.width, "height": photo.height})


async def customer_photo(request: web.Request) -> web.Response:
    """A photo the customer sent, for their own page only."""
    who = identity(request)
    if who is None:
        raise web.HTTPNotFound(text="没有找到这张照片。")
    store = photo_store(request)
    photo = await asyncio.to_thread(store.photo, int(request.match_info["photo_id"]))
    conversation = await asyncio.to_thread(request.app[CONTACT].conversation_of, who)
    data = await asyncio.to_thread(store.read, photo) if photo and photo.conversation_id == conversation else None
    if data is None:
        raise web.HTTPNotFound(text="没有找到这张照片。")
    return attachments.image_response(data)


async def end_chat(request: web.Request) -> web.Response:
    """结束会话: the divider, then the rating card (in every tab)."""
    who = _customer(request)
    conversation = await asyncio.to_thread(request.app[CONTACT].conversation_of, who)
    key = await satisfaction.end_chat(request.app[HUB], conversation)
    return web.json_response({"ended": True, "key": key})


async def rate(request: web.Request) -> web.Response:
    """The rating card's answer: 1-5 and an optional comment, for a contact of this browser's conversation."""
    who = _customer(request)
    body = await _json(request)
    conversation = await asyncio.to_thread(request.app[CONTACT].conversation_of, who)
    try:
        answered = await satisfaction.submit(request.app[HUB], conversation, body)
    except satisfaction.RatingRefused as e:
        raise refuse(web.HTTPBadRequest, str(e)) from None
    return web.json_response(answered)


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/chat")


def add_routes(app: web.Application) -> None:
    app[PER_SENDER] = SlidingWindow(limit=20, window=10.0)
    app[RECENT] = RecentIds()
    app.cleanup_ctx.append(departures.watches)
    r = app.router
    r.add_get("/", home)
    r.add_get("/chat", chat_page)
    r.add_get("/chat/privacy", privacy_page)
    r.add_get("/chat/ws", chat_socket)
    r.add_post("/chat/code", new_code)
    r.add_post("/chat/continue", continue_case)
    r.add_post("/chat/photo", upload_photo)
    r.add_get(r"/chat/photos/{photo_id:\d{1,9}}", customer_photo)
    r.add_post("/chat/end", end_chat)
    r.add_post("/chat/rating", rate)
    r.add_get(r"/c/{code:\d{6}}", continue_link)
    r.add_static("/chat/static", Path(__file__).parent / "static")
    attachments.add_routes(app)
