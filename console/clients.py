"""Scripted users of the contact-centre app over real HTTP/WebSocket: a chat customer and an agent.

Used by the tests and by benchmarks/handoff; they speak to the app exactly as the pages' JavaScript does.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp

CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


def new_session() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies for an IP host (127.0.0.1), as a browser does
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


class _LiveUser:
    """A user with one open socket; what arrives on it waits in `inbox`."""

    def __init__(self, http: aiohttp.ClientSession, base: str):
        self.http, self.base = http, base.rstrip("/")
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.inbox: asyncio.Queue[dict] = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    async def _listen(self, path: str) -> None:
        self.ws = await self.http.ws_connect(f"{self.base}{path}", headers={"Origin": self.base})

    def _start_reading(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await self.inbox.put(msg.json())

    async def wait_for(self, kind: str, timeout: float = 30, **match) -> dict:
        while True:
            item = await asyncio.wait_for(self.inbox.get(), timeout)
            if item.get("type") == kind and all(item.get(k) == v for k, v in match.items()):
                return item

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class ChatCustomer(_LiveUser):
    history: dict = {}

    async def open(self) -> ChatCustomer:
        async with self.http.get(f"{self.base}/chat") as r:
            r.raise_for_status()
        await self._listen("/chat/ws")
        self.history = await self.ws.receive_json(timeout=30)
        self._start_reading()
        return self

    async def say(self, text: str, timeout: float = 60, message_id: str | None = None) -> list[dict]:
        """Sends one message (with the client's own id for it, if given); everything the server sent until it
        stopped typing."""
        await self.ws.send_json({"type": "text", "text": text, **({"id": message_id} if message_id else {})})
        got = []
        while True:
            item = await asyncio.wait_for(self.inbox.get(), timeout)
            if item.get("type") == "typing" and not item.get("on"):
                return got
            if item.get("type") != "typing":
                got.append(item)


def texts(items: list[dict]) -> str:
    return "\n".join(i.get("text", "") for i in items if i.get("type") == "message")


class ConsoleAgent(_LiveUser):
    csrf = ""
    session_cookie = ""

    async def login(self, username: str, password: str) -> int:
        async with self.http.get(f"{self.base}/console/login") as r:
            token = CSRF_INPUT.search(await r.text()).group(1)
        form = {"username": username, "password": password, "csrf": token}
        async with self.http.post(
            f"{self.base}/console/login", data=form, headers={"Origin": self.base}, allow_redirects=False
        ) as r:
            if r.status != 302:
                return r.status
            self.session_cookie = r.cookies["p95598_console"].value
        async with self.http.get(f"{self.base}/console") as r:
            self.csrf = CSRF_META.search(await r.text()).group(1)
        return 302

    async def connect(self) -> ConsoleAgent:
        await self._listen("/console/ws")
        self._start_reading()
        return self

    async def get(self, path: str) -> tuple[int, dict | str]:
        async with self.http.get(f"{self.base}{path}") as r:
            body = await r.text()
            return r.status, (await r.json() if r.content_type == "application/json" else body)

    async def post(
        self, path: str, body: dict | None = None, *, csrf: str | None = None, origin: str | None = None
    ) -> tuple[int, dict | str]:
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf, "Origin": origin or self.base}
        async with self.http.post(f"{self.base}{path}", json=body or {}, headers=headers) as r:
            return r.status, (await r.json() if r.content_type == "application/json" else await r.text())
