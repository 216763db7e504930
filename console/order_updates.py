"""Work-order updates in and out of the console process.

Out: the work-order loop (backend.workorders.runner) runs here, with a sender per channel: chat (into the
customer's conversation, on every channel they are on, through the hub), SMS (the gateway) and the console
(supervisors' alerts). In: an operator's SMS replies (survey keys 1-5) and the payment feed that releases
reconnection orders, both signed with their own shared keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from backend.background import running
from backend.workorders.outbox import Notice
from backend.workorders.runner import NoticeRunner, Sender, SmsNotices
from backend.workorders.wording import SCALE, SURVEY_THANKS, score_of
from channels.sms import SIGNATURE, HttpSmsGateway, RecordingSms, parse_reply, signed
from console.config import CONFIG, HTTP, HUB, ORDERS, ORDERS_RUNNER, SMS
from console.hub import Hub

log = logging.getLogger(__name__)
SURVEY_BUTTONS = [
    {"title": f"{score} {words}", "payload": f'/survey_answer{{"survey_score": "{score}"}}'} for score, words in SCALE
]


class ChatNotices:
    """Into the customer's conversation: stored in the bot's timeline, pushed to open chat pages and WeChat."""

    def __init__(self, hub: Hub):
        self.hub = hub

    async def send(self, notice: Notice) -> None:
        buttons = SURVEY_BUTTONS if notice.kind == "survey" else []
        meta = {"order_notice": notice.id, "kind": notice.kind, "system": True}
        events: list[dict[str, object]] = [
            {"event": "bot", "text": notice.text, "data": {"buttons": buttons}, "metadata": meta}
        ]
        if notice.kind == "survey":  # the bot knows which order a "5" or a button answers
            events.append({"event": "slot", "name": "survey_order", "value": notice.payload.get("number")})
        await self.hub.rasa.append(notice.recipient, events)
        await self.hub.deliver(notice.recipient, notice.text, "bot", buttons=buttons, message_id=f"n{notice.id}")


class ConsoleNotices:
    """Supervisors' alerts (overdue escalations) on every console."""

    def __init__(self, hub: Hub):
        self.hub = hub

    async def send(self, notice: Notice) -> None:
        await self.hub.broadcast({"type": "order_alert", "kind": notice.kind, "text": notice.text, **notice.payload})


async def order_loop(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context (after `conversations`): the SMS sender and the work-order loop of this instance."""
    cfg = app[CONFIG]
    sms = app[SMS] = HttpSmsGateway(app[HTTP], cfg.sms_url, cfg.sms_key) if cfg.sms_url else RecordingSms()
    senders: dict[str, Sender] = {
        "chat": ChatNotices(app[HUB]),
        "sms": SmsNotices(sms),
        "console": ConsoleNotices(app[HUB]),
    }
    runner = app[ORDERS_RUNNER] = NoticeRunner(app[ORDERS].sessions, senders, interval=cfg.orders_interval)
    async with running(runner.run() if cfg.orders_interval > 0 else None):
        yield


async def sms_inbound(request: web.Request) -> web.Response:
    """A customer's SMS reply, forwarded by the operator: a survey score."""
    cfg, body = request.app[CONFIG], await request.read()
    if not signed(cfg.sms_key, body, request.headers.get(SIGNATURE)):
        raise web.HTTPUnauthorized(text="签名不对，已拒绝。")
    reply = parse_reply(body)
    if reply is None:
        raise web.HTTPBadRequest(text="格式不对：需要 JSON {from, text}。")
    phone, text = reply
    score = score_of(text)
    orders = request.app[ORDERS]
    outcome = await asyncio.to_thread(orders.answer_survey, "sms", phone, score) if score else "bad"
    answer = SURVEY_THANKS["unsatisfied" if outcome in ("reopened", "review") else outcome]
    with contextlib.suppress(Exception):  # the score is stored; a lost thank-you is not worth an error
        await request.app[SMS].send_sms(phone, answer, f"r{abs(hash((phone, text))) % 10**9}")
    return web.json_response({"outcome": outcome})


async def payment_notify(request: web.Request) -> web.Response:
    """The payment feed (网上国网, 支付宝, counters): arrears paid, so the account's reconnection moves on."""
    cfg, body = request.app[CONFIG], await request.read()
    if not signed(cfg.payment_key, body, request.headers.get(SIGNATURE)):
        raise web.HTTPUnauthorized(text="签名不对，已拒绝。")
    try:
        data = json.loads(body)
        account, reference = str(data["account_no"]), str(data["reference"])[:64]
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text="格式不对：需要 JSON {account_no, reference}。") from None
    if not (account.isdigit() and len(account) == 10):
        raise web.HTTPBadRequest(text="户号应为10位数字。")
    orders = request.app[ORDERS]
    moved = await asyncio.to_thread(orders.payment_received, account, reference)
    return web.json_response({"released": [o.number for o in moved]})


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(order_loop)
    app.router.add_post("/sms/inbound", sms_inbound)
    app.router.add_post("/payments/notify", payment_notify)
