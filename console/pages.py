"""Server-rendered console pages (login, queue, case, supervisor) and the agents' live socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from pathlib import Path

import jinja2
from aiohttp import WSMsgType, web

from backend.case_view import SLOT_LABELS
from backend.contact_centre import Conflict
from backend.contact_centre.kinds import CHANNEL_LABELS, REASON_LABELS, STATUS_LABELS, AgentRole
from backend.identity import IdentityStore
from backend.spoken import local_time
from console import agent_api, casework, order_api, routing
from console.auth import (
    SESSION_COOKIE,
    LoginThrottle,
    agent_of,
    client_address,
    login_csrf_ok,
    require_supervisor,
    set_login_csrf,
    set_session_cookie,
)
from console.config import CATALOG, CONFIG, CONTACT, HUB, ORDERS

SECURITY_KINDS = {"identity_lockout": "身份核验多次失败，已暂停在线核验"}

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
THROTTLE = web.AppKey("throttle", LoginThrottle)
HEARTBEAT = 20


def render(name: str, status: int = 200, **values) -> web.Response:
    values.setdefault("channels", CHANNEL_LABELS)
    values.setdefault("status_labels", STATUS_LABELS)
    return web.Response(
        text=TEMPLATES.get_template(name).render(**values),
        status=status,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        },
    )


def login_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render("login.html", status=status, csrf=token, error=error)
    set_login_csrf(response, token, request.app[CONFIG].secure_cookies)
    return response


async def login_page(request: web.Request) -> web.Response:
    return login_form(request)


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    cfg, contact, throttle = request.app[CONFIG], request.app[CONTACT], request.app[THROTTLE]
    username, password = str(form.get("username", ""))[:32], str(form.get("password", ""))[:128]
    # per account *from this address*, and per address: a person elsewhere can never lock an agent out
    address = client_address(request)
    keys = (f"user:{username}@{address}", f"ip:{address}")
    error = ""
    if not login_csrf_ok(request, str(form.get("csrf", ""))):
        error = "页面已过期，请重新登录。"
    elif throttle.blocked(*keys):
        error = "尝试次数太多，请五分钟后再试。"
    else:
        agent = await asyncio.to_thread(contact.authenticate, username, password)
        if agent:
            old = request.cookies.get(SESSION_COOKIE)
            if old:  # whatever session id the browser brought is dropped: a fresh one is issued
                await asyncio.to_thread(contact.logout, old)
            token, _ = await asyncio.to_thread(contact.new_login, agent.id, cfg.session_ttl)
            response = web.HTTPFound(home_of(agent.role))
            set_session_cookie(response, token, cfg.session_ttl, cfg.secure_cookies)
            raise response
        throttle.failed(*keys)
        error = "工号或密码不对。"
    return login_form(request, error, status=401)


async def logout(request: web.Request) -> web.Response:
    contact, agent = request.app[CONTACT], agent_of(request)
    await asyncio.to_thread(contact.logout, request.cookies.get(SESSION_COOKIE, ""))
    await asyncio.to_thread(contact.go_offline, agent.id)  # 离线 at once; an offer in hand goes to the next
    for case in await asyncio.to_thread(contact.cases_of, agent.id):  # nobody left to answer: back in the queue
        with contextlib.suppress(Conflict):
            await casework.release(request.app[HUB], case, agent)
    response = web.HTTPFound("/console/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def home_of(role: str) -> str:
    """Where a login lands: supervisors on their view, quality staff (no cases) on the inspection queue."""
    homes = {AgentRole.SUPERVISOR.value: "/console/supervisor", AgentRole.QUALITY.value: "/console/quality"}
    return homes.get(role, "/console")


async def queue_page(request: web.Request) -> web.Response:
    if agent_of(request).role == AgentRole.QUALITY:  # quality staff take no cases
        raise web.HTTPFound("/console/quality")
    return render("queue.html", agent=agent_of(request), csrf=request["csrf"], **await agent_api.queue_view(request))


async def case_page(request: web.Request) -> web.Response:
    case = await agent_api._case(request, act=False)
    view = await agent_api.case_view(request, case)
    agents = await asyncio.to_thread(request.app[CONTACT].agents_online)
    return render(
        "case.html",
        agent=agent_of(request),
        csrf=request["csrf"],
        view=view,
        case=view["case"],
        colleagues=[a for a in agents if a.id != agent_of(request).id],
        functions=request.app[CATALOG].functions,
        catalog=request.app[CATALOG],
        labels=SLOT_LABELS,
        view_json=json.dumps({"case": case.id}, ensure_ascii=False),
    )


async def supervisor_page(request: web.Request) -> web.Response:
    agent = require_supervisor(request)
    stats = await asyncio.to_thread(request.app[CONTACT].stats_today)
    cases = await agent_api.queue_view(request)  # a supervisor's "mine" is every claimed case
    identity = IdentityStore(request.app[CONTACT].sessions)
    security = [
        {"at": local_time(e.at), "kind": e.kind, "subject": e.subject}
        for e in await asyncio.to_thread(identity.security_events, 20)
    ]
    return render(
        "supervisor.html",
        agent=agent,
        csrf=request["csrf"],
        stats=stats,
        reasons=REASON_LABELS,
        waiting=cases["waiting"],
        claimed=cases["mine"],
        security=security,
        security_kinds=SECURITY_KINDS,
        orders=await asyncio.to_thread(order_api.board, request.app[ORDERS], request.app[CATALOG].name),
    )


async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    """Live updates for one console tab; while it is open the agent counts as online."""
    contact, hub, agent = request.app[CONTACT], request.app[HUB], agent_of(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=4096)
    await ws.prepare(request)
    hub.join(agent.id, agent.supervisor, ws)
    await asyncio.to_thread(contact.console_opened, agent.id)  # back from 离线: 示忙 until they choose 示闲
    token = request.cookies.get(SESSION_COOKIE, "")
    keeper = asyncio.create_task(routing.keep_online(contact, agent.id, token, ws))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:  # the page pings; any message keeps the agent online
                await asyncio.to_thread(contact.console_opened, agent.id)
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        keeper.cancel()
        hub.leave(agent.id, ws)
        if agent.id not in hub.agents:
            await asyncio.to_thread(contact.console_left, agent.id)  # 离线 unless a new page connects soon
    return ws


def add_routes(app: web.Application) -> None:
    app[THROTTLE] = LoginThrottle()
    r = app.router
    r.add_get("/console/login", login_page)
    r.add_post("/console/login", login)
    r.add_post("/console/logout", logout)
    r.add_get("/console", queue_page)
    r.add_get("/console/cases/{case_id}", case_page)
    r.add_get("/console/supervisor", supervisor_page)
    r.add_get("/console/ws", agent_socket)
    r.add_static("/console/static", Path(__file__).parent / "static")
