"""The console's side of the work-order loop: SMS notices through the gateway, SMS survey replies and the payment
feed, each signed; forged or malformed requests are refused and change nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from backend import models as m
from backend.cis import SqlCIS
from backend.db import open_database
from backend.synthetic import seed
from backend.workorders import Actor, OrderView, WorkOrders
from channels.sms import SIGNATURE, sign
from channels.testing.fake_sms import FakeSmsGateway
from console.app import create_app
from console.config import ORDERS_RUNNER, ConsoleConfig

KEY, PAY = "sms-test-key", "pay-test-key"


def found(orders: WorkOrders, number: str) -> OrderView:
    view = orders.get(number)
    assert view is not None
    return view


def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=40)
    engine.dispose()
    return url


def test_sms_notices_surveys_by_sms_and_the_payment_feed(tmp_path: Path) -> None:
    url = database(tmp_path)
    engine, sessions = open_database(url)
    cis, orders = SqlCIS(sessions), WorkOrders(sessions)
    phone = "13700001234"
    repair = cis.create_work_order("fault_repair", "voice", {"address": "城东区和平路3号", "contact_phone": phone})
    waiting = cis.create_work_order(
        "arrears_reconnect", "chat", {}, account_no="3201000002", conversation_id="c-pay", status="awaiting_payment"
    )

    async def scenario() -> None:
        async with FakeSmsGateway(KEY) as gateway:
            cfg = ConsoleConfig(
                db_url=url, rasa_url="http://127.0.0.1:9", sms_url=gateway.url, sms_key=KEY, payment_key=PAY,
                orders_interval=0,
            )  # fmt: skip
            app = create_app(cfg)
            async with TestClient(TestServer(app)) as client:
                runner = app[ORDERS_RUNNER]
                await runner.tick()
                texts = [x["text"] for x in gateway.to(phone)]
                assert len(texts) == 1 and repair.number in texts[0] and "已派给" in texts[0]
                staff = [x for x in gateway.delivered.values() if x["to"] != phone]
                assert staff and all(repair.number in x["text"] for x in staff)  # the assignee's new-order SMS

                member = found(orders, repair.number).assignee_id
                me = Actor(f"field:{member}", "field_app")
                for step in ("accepted", "en_route", "on_site", "resolved"):
                    orders.transition(repair.number, step, me, note="已恢复供电", member_id=member)
                orders.transition(repair.number, "closed", Actor("system", "system"))
                with sessions.begin() as s:  # the survey's delay has passed
                    for n in s.scalars(select(m.OrderNotice).where(m.OrderNotice.kind == "survey")):
                        n.send_after = m.utcnow()
                    for sv in s.scalars(select(m.Survey)):
                        sv.sent_at = m.utcnow()
                await runner.tick()
                texts = [x["text"] for x in gateway.to(phone)]
                assert any("已经出发" in t for t in texts) and any("处理完毕" in t for t in texts)
                assert "请回复数字" in texts[-1]

                inbound = str(client.make_url("/sms/inbound"))
                assert await gateway.reply(client.session, inbound, phone, "5") == 200
                with sessions() as s:
                    survey = s.scalars(select(m.Survey)).one()
                    assert survey.score == 5 and survey.outcome == "satisfied" and survey.channel == "sms"
                assert "谢谢" in gateway.to(phone)[-1]["text"]

                forged = json.dumps({"from": phone, "text": "1"}).encode()
                r = await client.post("/sms/inbound", data=forged, headers={SIGNATURE: "0" * 64})
                assert r.status == 401
                r = await client.post("/sms/inbound", data=b"<xml/>", headers={SIGNATURE: sign(KEY, b"<xml/>")})
                assert r.status == 400

                pay = json.dumps({"account_no": "3201000002", "reference": "ALI-1"}).encode()
                r = await client.post("/payments/notify", data=pay, headers={SIGNATURE: sign(KEY, pay)})
                assert r.status == 401  # the SMS key does not sign payments
                for bad in (b"{}", b"[1]", json.dumps({"account_no": "x' OR 1", "reference": 1}).encode()):
                    r = await client.post("/payments/notify", data=bad, headers={SIGNATURE: sign(PAY, bad)})
                    assert r.status == 400
                assert found(orders, waiting.number).status == "awaiting_payment"  # nothing changed so far
                r = await client.post("/payments/notify", data=pay, headers={SIGNATURE: sign(PAY, pay)})
                assert r.status == 200 and (await r.json())["released"] == [waiting.number]
                assert found(orders, waiting.number).status == "dispatched"
                assert gateway.rejected == 0

    asyncio.run(scenario())
    with sessions() as s:
        assert s.scalar(select(m.Survey.score)) == 5  # and the score stays after the app stopped
    engine.dispose()
