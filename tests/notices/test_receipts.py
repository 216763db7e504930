"""Delivery receipts: signed SMS reports, Twilio status callbacks and WeChat template events mark the notice;
forged ones get 403 and malformed ones 400, never 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from backend.models_notices import OutboundNotice
from channels.sms import SIGNATURE, sign
from notices import notify, receipts
from notices.config import NoticesConfig
from notices.testing.fakes import SMS_KEY, TWILIO_TOKEN
from tests.notices.conftest import NOON
from voice.testing.fake_twilio import signature

PUBLIC = "https://console.example.cn"
CFG = NoticesConfig(sms_key=SMS_KEY, twilio_token=TWILIO_TOKEN, callback_url=PUBLIC)


def notice_ids(db: sessionmaker[Session]) -> dict[str, int]:
    with db.begin() as s:
        notify(
            s,
            audience="customer",
            kind="restoration",
            key="r",
            text="已恢复供电",
            accounts=["3299000002", "3299000003"],
            now=NOON,
        )
    with db() as s:
        return {n.channel: n.id for n in s.query(OutboundNotice)}


def receipt(db: sessionmaker[Session], notice_id: int) -> tuple[str, str, bool]:
    with db() as s:
        n = s.get(OutboundNotice, notice_id)
        assert n is not None
        return n.status, n.receipt, n.delivered_at is not None


def serve(db: sessionmaker[Session], test: Callable[[aiohttp.ClientSession, str], Awaitable[None]]) -> None:
    async def go() -> None:
        app = web.Application()
        receipts.add_routes(app, lambda: db, CFG)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            async with aiohttp.ClientSession() as http:
                await test(http, f"http://127.0.0.1:{runner.addresses[0][1]}")
        finally:
            await runner.cleanup()

    asyncio.run(go())


def test_sms_delivery_report(db: sessionmaker[Session]) -> None:
    ids = notice_ids(db)

    async def test(http: aiohttp.ClientSession, base: str) -> None:
        async def post(body: bytes, key: str | None = SMS_KEY) -> int:
            headers = {SIGNATURE: sign(key, body)} if key else {}
            async with http.post(f"{base}/notices/sms/report", data=body, headers=headers) as r:
                return r.status

        good = json.dumps({"id": f"N{ids['sms']}", "status": "DELIVRD"}).encode()
        assert await post(good, key=None) == 403
        assert await post(good, key="forged") == 403
        assert await post(b"{not json") == 400
        assert await post(b'{"id": "N1"}') == 400
        assert await post(b"[1, 2]") == 400
        assert await post(good) == 200

    serve(db, test)
    assert receipt(db, ids["sms"]) == ("delivered", "DELIVRD", True)


def test_twilio_status_callback_checked_against_its_signature(db: sessionmaker[Session]) -> None:
    ids = notice_ids(db)
    path = f"/notices/twilio/status?ref=N{ids['voice']}"

    async def test(http: aiohttp.ClientSession, base: str) -> None:
        async def post(path: str, form: dict[str, str], token: str | None = TWILIO_TOKEN) -> int:
            headers = {"X-Twilio-Signature": signature(PUBLIC + path, form, token)} if token else {}
            async with http.post(base + path, data=form, headers=headers) as r:
                return r.status

        form = {"CallSid": "CA1", "CallStatus": "no-answer"}
        assert await post(path, form, token=None) == 403
        assert await post(path, form, token="forged") == 403
        assert await post("/notices/twilio/status", form) == 400  # no ref
        assert await post(path, {"CallSid": "CA1"}) == 400
        assert await post(path, {"CallSid": "CA1", "CallStatus": "ringing"}) == 200
        assert receipt(db, ids["voice"])[0] == "pending"
        assert await post(path, form) == 200

    serve(db, test)
    assert receipt(db, ids["voice"]) == ("undelivered", "no-answer", False)


def test_wechat_template_finished_event(db: sessionmaker[Session]) -> None:
    ids = notice_ids(db)
    with db.begin() as s:
        n = s.get(OutboundNotice, ids["sms"])
        assert n is not None
        n.gateway_ref = "2001"
    event = {"MsgType": "event", "Event": "TEMPLATESENDJOBFINISH", "MsgID": "2001", "Status": "success"}
    assert asyncio.run(receipts.wechat_template_finished(db, event))
    assert receipt(db, ids["sms"]) == ("delivered", "success", True)
    assert not asyncio.run(receipts.wechat_template_finished(db, {"MsgType": "event", "Event": "subscribe"}))
