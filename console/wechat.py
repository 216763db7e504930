"""WeChat Official Account (公众号) webhook: GET /wechat verifies the URL, POST /wechat takes a customer's message.

WeChat waits 5 s for a passive reply and retries on silence. The hub (the bot) gets `window` seconds; a slower
answer is acknowledged with "success" at once and sent through the customer-service message API when it comes.
Retries of a message already seen are acknowledged and not forwarded again. Plaintext mode only (no AES).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections import OrderedDict
from typing import Protocol
from xml.etree.ElementTree import ParseError

import aiohttp
from aiohttp import web
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from backend.ratelimit import SlidingWindow
from channels.wording import BUSY, TOO_FAST, WELCOME

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
DEDUP_SECONDS = 300
DEDUP_MAX_ENTRIES = 10_000
REQUIRED_FIELDS = ("ToUserName", "FromUserName", "MsgType")
TOKEN_EXPIRED_ERRCODES = {40001, 42001}
TOKEN_REFRESH_MARGIN = 300

VOICE_NOT_HEARD = "不好意思，没有听清您的语音，请再说一遍或者发文字。"
TEXT_ONLY = "不好意思，目前只能处理文字和语音消息，请用文字描述您的问题。"
NOT_CONFIGURED = "WeChat is not configured (set P95598_WECHAT_TOKEN)"
ACK = "success"  # what WeChat expects when there is no passive reply

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed even in CDATA


class Hub(Protocol):
    async def customer_says(self, channel_user: str, channel: str, text: str, metadata: dict) -> list[dict]: ...


class CustomerServiceSender(Protocol):
    async def send_text(self, openid: str, text: str) -> None: ...


class WeChatApiError(RuntimeError):
    """An errcode from the WeChat API (other than an expired token, which is refreshed once)."""


def signature_ok(
    token: str, timestamp: str, nonce: str, signature: str, *, max_skew: float = 300, now: float | None = None
) -> bool:
    """WeChat's query signature, and a timestamp within `max_skew` seconds of now (replays are refused)."""
    if not (token and nonce and signature and timestamp.isdigit()):
        return False
    skew = abs((time.time() if now is None else now) - int(timestamp))
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return skew <= max_skew and hmac.compare_digest(expected, signature.lower())


def cdata(text: str) -> str:
    return "<![CDATA[" + _XML_ILLEGAL.sub("", text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def passive_text_reply(openid: str, account: str, text: str) -> str:
    return (
        f"<xml><ToUserName>{cdata(openid)}</ToUserName><FromUserName>{cdata(account)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    )


def bot_messages_as_text(messages: list[dict]) -> str:
    """Rasa REST messages as one WeChat text: texts, then each button title on its own line."""
    lines = []
    for message in messages:
        if message.get("text"):
            lines.append(message["text"])
        lines.extend(f"· {button['title']}" for button in message.get("buttons") or [] if button.get("title"))
    return "\n".join(lines)


def parse_message(body: bytes) -> dict[str, str]:
    """The message's top-level fields; ValueError if it is not XML, is unsafe XML, or lacks a required field."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as e:
        raise ValueError(f"invalid XML: {type(e).__name__}") from e
    fields = {child.tag: (child.text or "").strip() for child in root}
    if missing := [name for name in REQUIRED_FIELDS if not fields.get(name)]:
        raise ValueError(f"missing {', '.join(missing)}")
    return fields


def text_for_bot(message: dict[str, str]) -> str:
    """What the customer said: typed text or WeChat's own voice recognition ('' for anything else)."""
    field = {"text": "Content", "voice": "Recognition"}.get(message["MsgType"], "")
    return message.get(field, "").strip()


def direct_answer(message: dict[str, str]) -> str | None:
    """The answer for a message the bot does not see (None: acknowledge only)."""
    kind = message["MsgType"]
    if kind == "event":
        return WELCOME.chat if message.get("Event", "").lower() == "subscribe" else None
    return VOICE_NOT_HEARD if kind == "voice" else TEXT_ONLY


class WeChatWebhook:
    def __init__(
        self,
        *,
        token: str,
        account: str,
        hub: Hub,
        sender: CustomerServiceSender,
        window: float = 4.0,
        max_skew: float = 300,
    ):
        self.token, self.account, self.hub, self.sender = token, account, hub, sender
        self.window, self.max_skew = window, max_skew
        self.seen: OrderedDict[str, float] = OrderedDict()
        self.signed: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()  # (timestamp, nonce) -> message
        self.deliveries: set[asyncio.Task] = set()
        self.per_sender = SlidingWindow(limit=20, window=60.0)

    def check_signed(self, request: web.Request) -> None:
        if not self.token:
            raise web.HTTPServiceUnavailable(text=NOT_CONFIGURED)
        q = request.query
        if not signature_ok(
            self.token, q.get("timestamp", ""), q.get("nonce", ""), q.get("signature", ""), max_skew=self.max_skew
        ):
            raise web.HTTPForbidden(text="bad signature")

    async def verify_url(self, request: web.Request) -> web.Response:
        self.check_signed(request)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        self.check_signed(request)
        try:
            # the app's own limit may be larger; read() stops and raises 413 once the body passes ours
            message = parse_message(await request.clone(client_max_size=MAX_BODY_BYTES + 1).read())
        except ValueError as e:
            return web.Response(status=400, text=str(e))
        if not self.first_use(request.query.get("timestamp", ""), request.query.get("nonce", ""), message):
            raise web.HTTPForbidden(text="signature already used for another message")
        if self.already_seen(message):
            return web.Response(text=ACK)
        text = text_for_bot(message)
        if text and not self.per_sender.allow(message["FromUserName"]):
            answer = TOO_FAST
        else:
            answer = await self.ask_bot(message["FromUserName"], text) if text else direct_answer(message)
        if not answer:
            return web.Response(text=ACK)
        reply = passive_text_reply(message["FromUserName"], message["ToUserName"] or self.account, answer)
        return web.Response(text=reply, content_type="application/xml")

    def first_use(self, timestamp: str, nonce: str, message: dict[str, str]) -> bool:
        """The query signature does not cover the body: a signed (timestamp, nonce) is good for the one message
        it first came with (WeChat's own retries of it included) within the allowed clock skew, never another."""
        key = (
            message.get("MsgId")
            or f"{message['FromUserName']}:{message.get('CreateTime', '')}:{message.get('Event', '')}"
        )
        now = time.monotonic()
        while self.signed and (
            len(self.signed) >= DEDUP_MAX_ENTRIES or next(iter(self.signed.values()))[1] < now - 2 * self.max_skew
        ):
            self.signed.popitem(last=False)
        first = self.signed.setdefault((timestamp, nonce), (key, now))
        return first[0] == key

    def already_seen(self, message: dict[str, str]) -> bool:
        """A retry of a message of the last DEDUP_SECONDS (events have no MsgId: sender and time stand in)."""
        key = message.get("MsgId") or f"{message['FromUserName']}:{message.get('CreateTime', '')}"
        now = time.monotonic()
        while self.seen and (
            len(self.seen) >= DEDUP_MAX_ENTRIES or next(iter(self.seen.values())) < now - DEDUP_SECONDS
        ):
            self.seen.popitem(last=False)
        if key in self.seen:
            return True
        self.seen[key] = now
        return False

    async def ask_bot(self, openid: str, text: str) -> str | None:
        """The bot's answer if it comes within the window; otherwise None, and it is sent when it comes."""
        call = asyncio.create_task(
            self.hub.customer_says(f"wechat:{openid}", "wechat", text, {"channel": "wechat", "openid": openid})
        )
        done, _ = await asyncio.wait({call}, timeout=self.window)  # unlike wait_for, never cancels the call
        if not done:
            self.deliver_later(openid, call)
            return None
        try:
            return bot_messages_as_text(call.result()) or None
        except Exception:
            log.exception("hub failed for wechat:%s", openid)
            return BUSY.chat

    def deliver_later(self, openid: str, call: asyncio.Task) -> None:
        delivery = asyncio.create_task(self.deliver(openid, call))
        self.deliveries.add(delivery)
        delivery.add_done_callback(self.deliveries.discard)

    async def deliver(self, openid: str, call: asyncio.Task) -> None:
        try:
            if text := bot_messages_as_text(await call):
                await self.sender.send_text(openid, text)
        except Exception:
            log.exception("late answer to wechat:%s not delivered", openid)

    async def finish_deliveries(self, app: web.Application) -> None:
        if self.deliveries:
            await asyncio.wait(self.deliveries, timeout=self.window + 10)


def wechat_routes(
    app: web.Application, *, token: str, account: str, hub: Hub, sender: CustomerServiceSender, window: float = 4.0
) -> WeChatWebhook:
    webhook = WeChatWebhook(token=token, account=account, hub=hub, sender=sender, window=window)
    app.router.add_get("/wechat", webhook.verify_url)
    app.router.add_post("/wechat", webhook.receive)
    app.on_shutdown.append(webhook.finish_deliveries)
    return webhook


class RecordingSender:
    """Keeps what would have been sent: for tests, and for running without WeChat credentials."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    async def send_text(self, openid: str, text: str) -> None:
        self.sent.append((openid, text))


class WeChatApiSender:
    """The customer-service message API, with the access_token fetched, cached and refreshed as needed."""

    def __init__(
        self, http: aiohttp.ClientSession, appid: str, secret: str, base_url: str = "https://api.weixin.qq.com"
    ):
        self.http, self.appid, self.secret, self.base_url = http, appid, secret, base_url.rstrip("/")
        self.token, self.token_expires_at = None, 0.0
        self.token_lock = asyncio.Lock()

    async def send_text(self, openid: str, text: str) -> None:
        body = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
        token = await self.access_token()
        result = await self.post_message(token, body)
        if result.get("errcode") in TOKEN_EXPIRED_ERRCODES:
            result = await self.post_message(await self.access_token(replacing=token), body)
        if result.get("errcode", 0) != 0:
            raise WeChatApiError(f"custom/send: {result['errcode']} {result.get('errmsg', '')}")

    async def access_token(self, replacing: str | None = None) -> str:
        """The cached token; a new one when it is near expiry or is `replacing` (refused by WeChat)."""
        async with self.token_lock:  # one fetch when many sends find the token stale at once
            if self.token is None or self.token == replacing or time.monotonic() >= self.token_expires_at:
                await self.fetch_token()
            return self.token

    async def fetch_token(self) -> None:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        async with self.http.get(f"{self.base_url}/cgi-bin/token", params=params) as r:
            r.raise_for_status()
            result = await r.json(content_type=None)
        if "access_token" not in result:
            raise WeChatApiError(f"token: {result.get('errcode')} {result.get('errmsg', 'no access_token')}")
        self.token = result["access_token"]
        self.token_expires_at = time.monotonic() + int(result.get("expires_in", 7200)) - TOKEN_REFRESH_MARGIN

    async def post_message(self, token: str, body: str) -> dict:
        async with self.http.post(
            f"{self.base_url}/cgi-bin/message/custom/send",
            params={"access_token": token},
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        ) as r:
            r.raise_for_status()
            return await r.json(content_type=None)
