"""The contact-centre web app: chat page, WeChat webhook, agent console, all on one aiohttp server.

Everything the handlers share is opened in the app's cleanup contexts and closed there, in reverse order:
`database` (engine, contact-centre store, CIS adapter) and then `conversations` (HTTP session, hub, bus,
WeChat webhook, queue watcher). Handlers find them under the typed keys of console/config.py.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

import aiohttp
from aiohttp import web

from backend.background import running
from backend.cis import SqlCIS
from backend.contact_centre import ContactStore
from backend.db import make_engine, make_sessionmaker
from backend.workorders import WorkOrders
from channels.knowledge import KnowledgeClient
from channels.rasa import RasaClient
from channels.wechat_api import WeChatApiSender
from console import (
    agent_api,
    case_orders_api,
    chat,
    customer_api,
    history_api,
    incidents_api,
    insight_api,
    kpi_api,
    order_api,
    order_updates,
    pages,
    profile_api,
    quality_api,
    quality_pages,
    recordings_api,
    reply_api,
    reports_api,
    routing,
    supervise_api,
)
from console.auth import make_auth_middleware
from console.bus import make_bus
from console.config import CATALOG, CIS, CONFIG, CONTACT, HTTP, HUB, KNOWLEDGE, ORDERS, WECHAT, ConsoleConfig
from console.errors import chinese_errors
from console.hub import Hub
from console.wechat import CustomerServiceSender, RecordingSender, WeChatWebhook
from console.wechat_rating import WeChatRatings
from field import routes as field_app
from knowledge.catalog import catalog
from notices import console_alerts as notice_alerts

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


async def database(app: web.Application) -> AsyncIterator[None]:
    engine = make_engine(app[CONFIG].db_url)
    sessions = make_sessionmaker(engine)
    app[CONTACT], app[CIS], app[ORDERS] = ContactStore(sessions), SqlCIS(sessions), WorkOrders(sessions)
    yield
    engine.dispose()


async def conversations(app: web.Application, wechat_sender: CustomerServiceSender | None) -> AsyncIterator[None]:
    cfg = app[CONFIG]
    async with aiohttp.ClientSession() as http:
        app[HTTP] = http
        sender = wechat_sender or (
            WeChatApiSender(http, cfg.wechat_appid, cfg.wechat_secret) if cfg.wechat_appid else RecordingSender()
        )
        bus = make_bus(cfg.redis_url, cfg.redis_prefix)
        hub = app[HUB] = Hub(RasaClient(http, cfg.rasa_url, token=cfg.rasa_token), app[CONTACT], sender, bus)
        webhook = app[WECHAT] = WeChatWebhook(
            token=cfg.wechat_token, account=cfg.wechat_account, hub=hub, sender=sender, ratings=WeChatRatings(hub)
        )
        await bus.start(hub.on_bus)
        try:
            async with running(hub.watch_queue()):
                yield
        finally:
            await webhook.finish_deliveries(app)  # late WeChat answers go out before the session closes
            await bus.close()


async def wechat_verify(request: web.Request) -> web.Response:
    return await request.app[WECHAT].verify_url(request)


async def wechat_receive(request: web.Request) -> web.Response:
    return await request.app[WECHAT].receive(request)


def create_app(cfg: ConsoleConfig, wechat_sender: CustomerServiceSender | None = None) -> web.Application:
    app = web.Application(  # refusals in Chinese (console/errors.py) for every route, the auth's included
        middlewares=[security_headers, chinese_errors, make_auth_middleware()], client_max_size=256 * 1024
    )
    app[CONFIG] = cfg
    app[CATALOG] = catalog()
    app[KNOWLEDGE] = KnowledgeClient(cfg.knowledge_url, timeout=5.0)
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(partial(conversations, wechat_sender=wechat_sender))
    app.cleanup_ctx.append(routing.routing)  # automatic routing: offers pushed over the hub
    chat.add_routes(app)
    pages.add_routes(app)
    agent_api.add_routes(app)
    supervise_api.add_routes(app)  # supervisor live view: monitor, whisper, take over
    incidents_api.add_routes(app)  # suspected outages (surge incidents): list, confirm, dismiss
    customer_api.add_routes(app)  # the customer panel: search, verify, bind, history
    case_orders_api.add_routes(app)  # the case's orders: draft from the request, edit, link
    reply_api.add_routes(app)  # canned replies, internal notes, transfer with a note
    field_app.add_routes(app)  # grid staff's phone page under /field, with its own logins
    order_api.add_routes(app)
    order_updates.add_routes(app)
    notice_alerts.add_to_console(  # staff alerts of notices/ on the consoles; notice delivery receipts
        app, sessions=lambda: app[ORDERS].sessions, hub=lambda: app[HUB], wechat=lambda: app[WECHAT]
    )
    routing.add_routes(app)  # agents' status, offers, a supervisor's assignment
    history_api.add_routes(app)  # 会话记录: finished cases, transcript search, export
    kpi_api.add_routes(app)  # supervisors' KPI dashboard: KPIs, 实时话务, forecast, alert checks
    reports_api.add_routes(app)  # one-click weekly / monthly reports and their archive
    insight_api.add_routes(app)  # supervisors' customer insight: fault and complaint hot spots, drill-down
    profile_api.add_routes(app)  # 客户画像: a verified case's customer, or any account for supervisors
    quality_api.add_routes(app)  # 智能质检: the inspection queue's API (supervisors and quality staff)
    quality_pages.add_routes(app)  # 智能质检: queue, contact, sample and scores pages
    recordings_api.add_routes(app)  # call recordings: played by supervisors and quality staff, every play logged
    app.router.add_get("/wechat", wechat_verify)
    app.router.add_post("/wechat", wechat_receive)
    app.router.add_get("/health", health)
    return app


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
