"""The console app on a real port with a small stand-in for Rasa's HTTP API, in a thread of its own: for the
workspace tests that need the console's pages and APIs (and a browser) but not the trained bot.

The stand-in keeps each conversation's events (`trackers`), answers the tracker GET, stores appended events
and answers every customer message with one scripted line, so what the console writes is really kept.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from backend.contact_centre import ContactStore
from backend.contact_centre.demo import DEMO_AGENTS
from backend.db import make_engine, make_sessionmaker, open_database
from backend.synthetic import seed
from console.app import create_app
from console.config import ConsoleConfig
from console.wechat import RecordingSender

PASSWORD = "workspace-pass-1"
WECHAT_TOKEN = "workspace-wechat-token"
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


@contextmanager
def small_back_end(folder: Path, password: str) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """A back end of 40 synthetic customers with the demo agents (logging in with `password`): its URL and sessions."""
    url = f"sqlite:///{folder / 'console.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=40)
    contact = ContactStore(sessions)
    for username, name, role in DEMO_AGENTS:
        contact.add_agent(username, name, password, role)
    try:
        yield url, sessions
    finally:
        engine.dispose()


@dataclass
class FakeRasa:
    trackers: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    reply: str = "好的，请问还有什么可以帮您？"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        app.router.add_post("/conversations/{sender}/tracker/events", self.append)
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        return app

    async def tracker(self, request: web.Request) -> web.Response:
        events = self.trackers.get(request.match_info["sender"], [])
        return web.json_response({"sender_id": request.match_info["sender"], "events": events, "slots": {}})

    async def append(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.time()
        for e in body if isinstance(body, list) else [body]:
            self.trackers[request.match_info["sender"]].append({"timestamp": now, **e})
        return web.json_response({})

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.time()
        sender = body["sender"]
        self.trackers[sender].append(
            {"event": "user", "text": body["message"], "timestamp": now, "metadata": body.get("metadata") or {}}
        )
        if self.paused(sender):  # as Rasa: a paused conversation keeps the message and answers nothing
            return web.json_response([])
        self.trackers[sender].append({"event": "bot", "text": self.reply, "timestamp": now + 0.001})
        return web.json_response([{"recipient_id": sender, "text": self.reply}])

    def paused(self, sender: str) -> bool:
        flips = [e["event"] for e in self.trackers.get(sender, []) if e.get("event") in ("pause", "resume")]
        return bool(flips) and flips[-1] == "pause"


@dataclass
class RunningConsole:
    url: str
    contact: ContactStore
    rasa: FakeRasa
    sender: RecordingSender
    app: web.Application


@contextmanager
def running_console(
    db_url: str, agents: tuple[tuple[str, str, str], ...] = (), **settings: Any
) -> Iterator[RunningConsole]:
    """The console on 127.0.0.1 (a free port) over `db_url`, with these (username, name, role) logins and
    ConsoleConfig `settings`."""
    engine, _ = open_database(db_url)
    engine.dispose()
    contact = ContactStore(make_sessionmaker(make_engine(db_url)))
    for username, name, role in agents:
        if contact.agent_by_username(username) is None:
            contact.add_agent(username, name, PASSWORD, role)
    rasa, sender = FakeRasa(), RecordingSender()
    loop = asyncio.new_event_loop()
    ready: dict[str, Any] = {}
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        rasa_runner = web.AppRunner(rasa.app())
        await rasa_runner.setup()
        rasa_site = web.TCPSite(rasa_runner, "127.0.0.1", 0)
        await rasa_site.start()
        rasa_port = rasa_runner.addresses[0][1]
        cfg = ConsoleConfig(
            db_url=db_url,
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            rasa_token="",
            orders_interval=0,
            wechat_token=WECHAT_TOKEN,
            wechat_account="gh_workspace",
            **settings,
        )
        app = create_app(cfg, wechat_sender=sender)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready["url"], ready["app"] = f"http://127.0.0.1:{runner.addresses[0][1]}", app
        started.set()
        await stop.wait()
        await runner.cleanup()
        await rasa_runner.cleanup()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        except BaseException as e:  # noqa: BLE001 - reported to the waiting test below
            ready["error"] = e
            started.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(30), "console did not start"
    if "error" in ready:
        raise ready["error"]
    try:
        yield RunningConsole(ready["url"], contact, rasa, sender, ready["app"])
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)


class Agent:
    """An agent's browser session over requests: login form, the page's CSRF token, same-origin calls."""

    def __init__(self, base: str):
        self.base, self.http, self.csrf = base, requests.Session(), ""

    def login(self, username: str, password: str = PASSWORD) -> Agent:
        page = self.http.get(f"{self.base}/console/login", timeout=10).text
        form = {"username": username, "password": password, "csrf": CSRF_INPUT.search(page).group(1)}  # type: ignore[union-attr]
        r = self.http.post(
            f"{self.base}/console/login", data=form, headers={"Origin": self.base}, allow_redirects=False, timeout=10
        )
        assert r.status_code == 302, r.text
        page = self.http.get(f"{self.base}/console/history", timeout=10).text  # any console page has the token
        self.csrf = CSRF_META.search(page).group(1)  # type: ignore[union-attr]
        return self

    def get(self, path: str, *, html: bool = False, **kw: Any) -> requests.Response:
        headers = {"Accept": "text/html,application/xhtml+xml"} if html else {}
        return self.http.get(f"{self.base}{path}", headers=headers, timeout=20, allow_redirects=False, **kw)

    def post(self, path: str, body: Any = None, *, html: bool = False, **kw: Any) -> requests.Response:
        headers = {"Origin": self.base, "X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        if html:
            headers["Accept"] = "text/html,application/xhtml+xml"
        if "data" not in kw:
            kw["json"] = body if body is not None else {}
        return self.http.post(f"{self.base}{path}", headers=headers, timeout=20, allow_redirects=False, **kw)
