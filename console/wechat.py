"""WeChat Official Account (公众号) webhook: GET /wechat verifies the URL, POST /wechat takes a customer's message.

WeChat waits 5 s for a passive reply and retries on silence. The hub (the bot) gets `window` seconds; a slower
answer is acknowledged with "success" at once and sent through the customer-service message API when it comes.
Retries of a message already seen are acknowledged and not forwarded again. Plaintext mode only (no AES).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol
from xml.etree.ElementTree import ParseError

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

VOICE_NOT_HEARD = "不好意思，没有听清您的语音，请再说一遍或者发文字。"
TEXT_ONLY = "不好意思，目前只能处理文字和语音消息，请用文字描述您的问题。"
NOT_CONFIGURED = "微信公众号接入尚未配置（P95598_WECHAT_TOKEN）。"
ACK = "success"  # what WeChat expects when there is no passive reply

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed even in CDATA


class Hub(Protocol):
    async def customer_says(self, channel_user: str, channel: str, text: str, metadata: dict) -> list[dict]: ...


class Ratings(Protocol):  # console/wechat_rating.py
    async def take(self, channel_user: str, text: str) -> str | None: ...


class CustomerServiceSender(Protocol):
    async def send_text(self, openid: str, text: str) -> None: ...


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
        ratings: Ratings | None = None,
    ):
        self.token, self.account, self.hub, self.sender = token, account, hub, sender
        self.ratings = ratings  # a reply to the end-of-service rating question is taken before the bot
        self.on_event: Callable[[dict[str, str]], Awaitable[bool]] | None = None  # True: taken (notice receipts)
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
            raise web.HTTPForbidden(text="签名不对，已拒绝。")

    async def verify_url(self, request: web.Request) -> web.Response:
        self.check_signed(request)
        return web.Response(text=request.query.get("echostr", ""))

    async def receive(self, request: web.Request) -> web.Response:
        self.check_signed(request)
        try:
            # the app's own limit may be larger; read() stops and raises 413 once the body passes ours
            message = parse_message(await request.clone(client_max_size=MAX_BODY_BYTES + 1).read())
        except ValueError as e:
            log.info("unreadable WeChat message: %s", e)
            return web.Response(status=400, text="消息格式不对。")
        if not self.first_use(request.query.get("timestamp", ""), request.query.get("nonce", ""), message):
            raise web.HTTPForbidden(text="这个签名已用于另一条消息，已拒绝。")
        if self.already_seen(message):
            return web.Response(text=ACK)
        if message.get("MsgType") == "event" and self.on_event is not None and await self.on_event(message):
            return web.Response(text=ACK)
        text = text_for_bot(message)
        if text and not self.per_sender.allow(message["FromUserName"]):
            answer = TOO_FAST
        elif text and (thanks := await self.rated(message["FromUserName"], text)):
            answer = thanks
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

    async def rated(self, openid: str, text: str) -> str | None:
        """The thanks when the text answered an open satisfaction rating; None: the bot takes the text."""
        if self.ratings is None:
            return None
        try:
            return await self.ratings.take(f"wechat:{openid}", text)
        except Exception:  # noqa: BLE001 - a rating that cannot be stored must not cost the customer an answer
            log.exception("rating reply of wechat:%s not taken", openid)
            return None

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
