"""Delivery receipts, mounted in the console (the public side): SMS delivery reports, Twilio call status
callbacks, WeChat TEMPLATESENDJOBFINISH events. A forged (unsigned or badly signed) callback gets 403, a
malformed one 400; a receipt for a notice we do not know is acknowledged and ignored (the gateway would retry).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from backend.models import utcnow
from backend.models_notices import NoticeStatus, OutboundNotice
from channels.sms import SIGNATURE, signed
from notices.config import NoticesConfig

log = logging.getLogger(__name__)
SMS_DELIVERED = {"DELIVRD", "DELIVERED", "SUCCESS"}
CALL_DONE = {"completed": True, "busy": False, "no-answer": False, "failed": False, "canceled": False}
Sessions = Callable[[], sessionmaker[Session]]


def record_receipt(sessions: sessionmaker[Session], *, ref: str, delivered: bool, word: str) -> bool:
    """Marks the notice with our ref (N<id>) or its gateway ref as delivered or not; False if unknown."""
    with sessions.begin() as s:
        notice = None
        if ref.startswith("N") and ref[1:].isdigit():
            notice = s.get(OutboundNotice, int(ref[1:]))
        if notice is None:
            notice = s.scalar(select(OutboundNotice).where(OutboundNotice.gateway_ref == ref[:64]).limit(1))
        if notice is None:
            return False
        notice.status = NoticeStatus.DELIVERED if delivered else NoticeStatus.UNDELIVERED
        notice.delivered_at, notice.receipt = (utcnow() if delivered else None), word[:48]
        if notice.sent_at is None:  # the receipt came before the sender marked it (or the sender died)
            notice.sent_at = utcnow()
        return True


def _answer(known: bool) -> web.Response:
    return web.json_response({"recorded": known})


async def sms_report(request: web.Request, sessions: Sessions, cfg: NoticesConfig) -> web.Response:
    """The SMS gateway's delivery report: JSON {id: N<id>, status: DELIVRD | UNDELIV | ...}, signed X-Signature."""
    body = await request.read()
    if not signed(cfg.sms_key, body, request.headers.get(SIGNATURE)):
        raise web.HTTPForbidden(text="签名不对，已拒绝。")
    try:
        data = json.loads(body)
        ref, status = str(data["id"]), str(data["status"])
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text="格式不对：需要 JSON {id, status}。") from None
    known = await asyncio.to_thread(
        record_receipt, sessions(), ref=ref, delivered=status.upper() in SMS_DELIVERED, word=status
    )
    return _answer(known)


async def twilio_status(request: web.Request, sessions: Sessions, cfg: NoticesConfig) -> web.Response:
    """Twilio's status callback of a notice call (?ref=N<id>), checked against X-Twilio-Signature."""
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    url = cfg.callback_url.rstrip("/") + request.raw_path
    signature = request.headers.get("X-Twilio-Signature", "")
    if not (cfg.twilio_token and signature and RequestValidator(cfg.twilio_token).validate(url, form, signature)):
        log.warning("refused a notice call status from %s: missing or bad X-Twilio-Signature", request.remote)
        raise web.HTTPForbidden(text="invalid signature")
    ref, status = request.query.get("ref", ""), form.get("CallStatus", "")
    if not ref or not status:
        raise web.HTTPBadRequest(text="ref and CallStatus are required")
    if status not in CALL_DONE:
        return _answer(True)  # ringing, in-progress: not an outcome yet
    known = await asyncio.to_thread(record_receipt, sessions(), ref=ref, delivered=CALL_DONE[status], word=status)
    return _answer(known)


async def wechat_template_finished(sessions: sessionmaker[Session], message: dict[str, str]) -> bool:
    """A WeChat event: True if it was a TEMPLATESENDJOBFINISH (recorded against the notice's msgid)."""
    if message.get("MsgType") != "event" or message.get("Event") != "TEMPLATESENDJOBFINISH":
        return False
    msgid, status = message.get("MsgID", ""), message.get("Status", "")
    if msgid and status:
        await asyncio.to_thread(record_receipt, sessions, ref=msgid, delivered=status == "success", word=status)
    return True


def add_routes(app: web.Application, sessions: Sessions, cfg: NoticesConfig) -> None:
    async def sms(request: web.Request) -> web.Response:
        return await sms_report(request, sessions, cfg)

    async def twilio(request: web.Request) -> web.Response:
        return await twilio_status(request, sessions, cfg)

    app.router.add_post("/notices/sms/report", sms)
    app.router.add_post("/notices/twilio/status", twilio)
