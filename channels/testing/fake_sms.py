"""A fake SMS gateway on a local port: checks signatures, records every message, drops repeats of one id,
and can send a customer's reply back to us (signed) like an operator forwards it.

    async with FakeSmsGateway(key) as gw:        # gw.url for HttpSmsGateway
        ...
        gw.received                               # every accepted request, repeats included
        gw.delivered                              # one per message id
        await gw.reply(http, our_url, "13800001111", "5")
"""

from __future__ import annotations

import json
import socket
from typing import Any

import aiohttp
from aiohttp import web

from channels.sms import SIGNATURE, sign, signed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSmsGateway:
    def __init__(self, key: str):
        self.key = key
        self.received: list[dict[str, Any]] = []
        self.delivered: dict[str, dict[str, Any]] = {}
        self.rejected = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(self.key, body, request.headers.get(SIGNATURE)):
            self.rejected += 1
            return web.json_response({"error": "bad signature"}, status=401)
        message = json.loads(body)
        self.received.append(message)
        self.delivered.setdefault(str(message["id"]), message)
        return web.json_response({"ok": True})

    async def __aenter__(self) -> FakeSmsGateway:
        app = web.Application()
        app.router.add_post("/send", self._send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [m for m in self.delivered.values() if m["to"] == phone]

    async def reply(self, http: aiohttp.ClientSession, inbound_url: str, phone: str, text: str) -> int:
        """The customer answers by SMS: the operator forwards it to us, signed."""
        body = json.dumps({"from": phone, "text": text}, ensure_ascii=False).encode()
        async with http.post(inbound_url, data=body, headers={SIGNATURE: sign(self.key, body)}) as r:
            return r.status
