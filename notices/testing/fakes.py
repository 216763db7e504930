"""The far side of the three senders, in one aiohttp app: an SMS gateway, the WeChat API, Twilio's REST API.

Each keeps every request it accepted (`requests`, what a gateway without dedupe would deliver) and the query
endpoints the senders use for notices in doubt. WeChat drops a repeat of (openid, client_msg_id) as WeChat does.

    async with running_fakes() as fakes:     # fakes.url: SMS at url/sms, WeChat and Twilio APIs at url
        ...
        fakes.sent_by_ref()                  # our ref N<id> -> how many times it reached a gateway
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from aiohttp import BasicAuth, hdrs, web

from channels.sms import SIGNATURE, signed

SMS_KEY = "fake-sms-key"
TWILIO_SID, TWILIO_TOKEN = "ACfake", "fake-twilio-token"
WECHAT_APPID, WECHAT_SECRET = "wxfake", "fake-secret"


@dataclass
class Fakes:
    url: str = ""
    sms: list[dict[str, Any]] = field(default_factory=list)  # every accepted SMS request
    wechat: list[dict[str, Any]] = field(default_factory=list)  # every template request (repeats too)
    wechat_delivered: dict[tuple[str, str], int] = field(default_factory=dict)  # (openid, client_msg_id) -> msgid
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_next: Counter[str] = field(default_factory=Counter)  # channel -> the next n requests answer 500
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def sent_by_ref(self) -> Counter[str]:
        """Our ref -> times it reached the far side (a WeChat repeat dropped by client_msg_id not counted)."""
        refs = Counter(str(m["id"]) for m in self.sms)
        refs.update(ref for _, ref in self.wechat_delivered)
        refs.update(parse_qs(urlparse(c["status_callback"]).query).get("ref", [""])[0] for c in self.calls)
        return refs

    def _fail(self, channel: str) -> bool:
        if self.fail_next[channel] > 0:
            self.fail_next[channel] -= 1
            return True
        return False

    # ---- SMS gateway ----
    async def sms_send(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(SMS_KEY, body, request.headers.get(SIGNATURE)):
            return web.json_response({"error": "bad signature"}, status=403)
        if self._fail("sms"):
            return web.json_response({"error": "busy"}, status=500)
        data = json.loads(body)
        self.sms.append(data)
        return web.json_response({"id": data["id"]})

    async def sms_query(self, request: web.Request) -> web.Response:
        if not signed(SMS_KEY, request.query_string.encode(), request.headers.get(SIGNATURE)):
            return web.json_response({"error": "bad signature"}, status=403)
        ref = request.query.get("id", "")
        if not any(m["id"] == ref for m in self.sms):
            return web.json_response({"error": "unknown id"}, status=404)
        return web.json_response({"id": ref, "status": "DELIVRD"})

    # ---- WeChat ----
    async def wechat_token(self, request: web.Request) -> web.Response:
        if request.query.get("appid") != WECHAT_APPID or request.query.get("secret") != WECHAT_SECRET:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        return web.json_response({"access_token": "fake-token", "expires_in": 7200})

    async def wechat_template(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") != "fake-token":
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if self._fail("wechat"):
            return web.json_response({"errcode": -1, "errmsg": "system busy"})
        data = json.loads(await request.read())
        self.wechat.append(data)
        key = (data["touser"], data.get("client_msg_id", ""))
        if key not in self.wechat_delivered or not key[1]:
            self.wechat_delivered[key] = next(self.ids)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": self.wechat_delivered[key]})

    # ---- Twilio ----
    def _authorised(self, request: web.Request) -> bool:
        try:
            auth = BasicAuth.decode(request.headers.get(hdrs.AUTHORIZATION, ""))
        except ValueError:
            return False
        return bool(auth.login == TWILIO_SID and auth.password == TWILIO_TOKEN)

    async def calls_create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "Authenticate"}, status=401)
        if self._fail("voice"):
            return web.json_response({"message": "internal error"}, status=500)
        form = await request.post()
        call = {
            "sid": f"CA{next(self.ids):032d}",
            "to": form["To"],
            "from": form["From"],
            "status": "queued",
            "twiml": form.get("Twiml", ""),
            "status_callback": form.get("StatusCallback", ""),
            "date_created": email.utils.format_datetime(dt.datetime.now(dt.UTC)),
        }
        self.calls.append(call)
        return web.json_response(call, status=201)

    async def calls_list(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "Authenticate"}, status=401)
        to, frm = request.query.get("To"), request.query.get("From")
        calls = [c for c in self.calls if (not to or c["to"] == to) and (not frm or c["from"] == frm)]
        return web.json_response({"calls": calls})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/sms/send", self.sms_send)
        app.router.add_get("/sms/query", self.sms_query)
        app.router.add_get("/cgi-bin/token", self.wechat_token)
        app.router.add_post("/cgi-bin/message/template/send", self.wechat_template)
        calls = f"/2010-04-01/Accounts/{TWILIO_SID}/Calls.json"
        app.router.add_post(calls, self.calls_create)
        app.router.add_get(calls, self.calls_list)
        return app


@asynccontextmanager
async def running_fakes(port: int = 0) -> AsyncIterator[Fakes]:
    fakes = Fakes()
    runner = web.AppRunner(fakes.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fakes.url = f"http://127.0.0.1:{bound}"
    try:
        yield fakes
    finally:
        await runner.cleanup()


def env_for(fakes: Fakes, callback_url: str = "http://127.0.0.1:1") -> dict[str, str]:
    """The notice process's environment pointing every sender at the fakes."""
    return {
        "P95598_SMS_URL": f"{fakes.url}/sms",
        "P95598_SMS_KEY": SMS_KEY,
        "P95598_WECHAT_APPID": WECHAT_APPID,
        "P95598_WECHAT_SECRET": WECHAT_SECRET,
        "P95598_WECHAT_NOTICE_TEMPLATE": "TPL-notice",
        "P95598_WECHAT_API": fakes.url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "P95598_NOTICE_CALLER_ID": "+8625995598",
        "P95598_TWILIO_API": fakes.url,
        "P95598_NOTICE_CALLBACK_URL": callback_url,
    }
