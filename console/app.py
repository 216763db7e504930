"""The contact-centre web app: chat page, WeChat webhook, agent console, all on one aiohttp server."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import aiohttp
from aiohttp import web

from console import agent_api, chat, pages
from console.auth import make_auth_middleware
from console.bus import make_bus
from channels.knowledge import KnowledgeClient
from channels.rasa import RasaClient
from console.config import CONFIG, HTTP, HUB, KNOWLEDGE, ConsoleConfig
from console.hub import Hub
from console.wechat import RecordingSender, WeChatApiSender, wechat_routes

log = logging.getLogger(__name__)
DEMO_AGENTS = [("1001", "张丽", "agent"), ("1002", "王强", "agent"), ("9001", "刘主管", "supervisor")]


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


class _LateHub:
    """The WeChat routes are added before the hub exists (it needs the app's HTTP session)."""

    def __init__(self, app: web.Application):
        self._app = app

    async def customer_says(self, *args, **kwargs):
        return await self._app[HUB].customer_says(*args, **kwargs)


class _LateSender:
    def __init__(self, app: web.Application):
        self._app = app

    async def send_text(self, openid: str, text: str) -> None:
        await self._app[HUB].wechat.send_text(openid, text)


def ensure_demo_agents(cfg: ConsoleConfig) -> None:
    if cfg.demo_agents and cfg.contact.agent_count() == 0:
        password = os.environ.get("P95598_DEMO_PASSWORD", "95598demo")
        for username, name, role in DEMO_AGENTS:
            cfg.contact.add_agent(username, name, password, role)
        log.warning("created demo console logins %s (password from P95598_DEMO_PASSWORD)",
                    ", ".join(u for u, _, _ in DEMO_AGENTS))


def create_app(cfg: ConsoleConfig, wechat_sender=None) -> web.Application:
    app = web.Application(middlewares=[security_headers, make_auth_middleware(cfg.contact)],
                          client_max_size=256 * 1024)
    app[CONFIG] = cfg
    app[KNOWLEDGE] = KnowledgeClient(cfg.knowledge_url, timeout=5.0)
    ensure_demo_agents(cfg)

    async def shared(app: web.Application):
        app[HTTP] = aiohttp.ClientSession()
        sender = wechat_sender or (WeChatApiSender(app[HTTP], cfg.wechat_appid, cfg.wechat_secret)
                                   if cfg.wechat_appid else RecordingSender())
        bus = make_bus(cfg.redis_url, cfg.redis_prefix)
        hub = app[HUB] = Hub(RasaClient(app[HTTP], cfg.rasa_url), cfg.contact, sender, bus)
        await bus.start(hub.on_bus)
        watcher = asyncio.create_task(hub.watch_queue())
        yield
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await bus.close()
        await app[HTTP].close()

    app.cleanup_ctx.append(shared)
    chat.add_routes(app)
    pages.add_routes(app)
    agent_api.add_routes(app)
    wechat_routes(app, token=cfg.wechat_token, account=cfg.wechat_account, hub=_LateHub(app),
                  sender=_LateSender(app))
    app.router.add_get("/health", health)
    return app


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
