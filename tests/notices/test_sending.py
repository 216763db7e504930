"""The runner and the three senders against their fake gateways: sent once, retried, given up, and exactly once
at the far side when a sender dies between sending and marking."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import aiohttp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models_notices import NoticeStatus, OutboundNotice
from notices import notify, outbox
from notices.__main__ import senders
from notices.config import NoticesConfig
from notices.console_alerts import ConsoleAlerts
from notices.runner import NoticeRunner, Throttle
from notices.testing.fakes import Fakes, env_for, running_fakes
from tests.notices.conftest import CUSTOMERS, NOON

TEXT = "【国网95598】您好，测试网格发生故障停电，抢修人员正在处理，预计15:00前恢复，敬请谅解。"
LEASE = dt.timedelta(seconds=30)


def write(db: sessionmaker[Session], key: str = "fault:1") -> None:
    with db.begin() as s:
        notify(
            s,
            audience="customer",
            kind="fault_outage",
            key=key,
            text=TEXT,
            spoken="故障停电",
            accounts=list(CUSTOMERS),
            now=NOON,
        )


def statuses(db: sessionmaker[Session]) -> dict[str, tuple[str, int]]:
    with db() as s:
        return {n.channel or n.recipient_key: (n.status, n.attempts) for n in s.scalars(select(OutboundNotice))}


async def run_round(
    db: sessionmaker[Session], fakes: Fakes, at: dt.datetime, max_attempts: int = outbox.MAX_ATTEMPTS
) -> NoticeRunner:
    async with aiohttp.ClientSession() as http:
        gateways = senders(http, NoticesConfig.from_env(env_for(fakes)))
        runner = NoticeRunner(db, gateways, lease=LEASE, clock=lambda: at, max_attempts=max_attempts)
        await runner.tick()
    return runner


def test_each_sender_delivers_through_its_gateway(db: sessionmaker[Session]) -> None:
    write(db)

    async def go() -> Fakes:
        async with running_fakes() as fakes:
            await run_round(db, fakes, NOON)
            return fakes

    fakes = asyncio.run(go())
    assert [(m["to"], m["text"]) for m in fakes.sms] == [("13900000002", TEXT)]
    assert [(m["touser"], m["data"]["content"]["value"], m["client_msg_id"][0]) for m in fakes.wechat] == [
        ("oOPENID1", TEXT, "N")
    ]
    (call,) = fakes.calls
    assert call["to"] == "02584000003" and '<Say language="zh-CN">故障停电</Say>' in call["twiml"]
    assert "/notices/twilio/status?ref=N" in call["status_callback"]
    assert statuses(db) == {
        "wechat": ("sent", 1),
        "sms": ("sent", 1),
        "voice": ("sent", 1),
        "3299000004": ("skipped", 0),
    }
    assert sorted(fakes.sent_by_ref().values()) == [1, 1, 1]


def test_a_gateway_error_is_retried_with_backoff_and_given_up_after_the_last_attempt(db: sessionmaker[Session]) -> None:
    write(db)

    async def go() -> Fakes:
        async with running_fakes() as fakes:
            fakes.fail_next["sms"] = 99
            await run_round(db, fakes, NOON, max_attempts=2)
            assert statuses(db)["sms"] == ("pending", 1)
            await run_round(db, fakes, NOON + dt.timedelta(seconds=5), max_attempts=2)  # backoff not over: untouched
            assert statuses(db)["sms"] == ("pending", 1)
            await run_round(db, fakes, NOON + outbox.backoff(1) + dt.timedelta(seconds=1), max_attempts=2)
            return fakes

    asyncio.run(go())
    with db() as s:
        sms = s.scalar(select(OutboundNotice).where(OutboundNotice.channel == "sms"))
        assert sms is not None and sms.status == NoticeStatus.FAILED
        assert sms.error.startswith("gave up after 2 attempts: SmsGatewayError('SMS gateway answered 500')")


def test_a_sender_killed_between_sending_and_marking_never_sends_twice(db: sessionmaker[Session]) -> None:
    """The first runner claims and sends but dies before marking; a new runner, once the lease lapsed, asks each
    gateway for our reference and marks instead of resending. Notices never claimed are sent by the new runner."""
    write(db, "fault:1")

    async def go() -> Fakes:
        async with running_fakes() as fakes, aiohttp.ClientSession() as http:
            claimed = outbox.claim(db, NOON, LEASE)  # attempt recorded, then the process "dies" mid-way:
            crashed = senders(http, NoticesConfig.from_env(env_for(fakes)))
            for notice in claimed:
                await crashed[notice.channel].send(notice)  # sent, never marked
            write(db, "restoration:1")  # and more notices arrive while nobody is sending
            after = NOON + LEASE + dt.timedelta(seconds=1)
            runner = await run_round(db, fakes, after)
            # SMS and the call were found at their gateways; the WeChat one was sent again with its client_msg_id
            assert (runner.found, runner.sent) == (2, 4)
            return fakes

    fakes = asyncio.run(go())
    assert set(fakes.sent_by_ref().values()) == {1} and len(fakes.sent_by_ref()) == 6
    assert len(fakes.wechat) == 3  # the repeat reached WeChat, which dropped it by client_msg_id
    assert {s for s, _ in statuses(db).values()} == {"sent", "skipped"}


def test_per_gateway_rate_limit() -> None:
    async def go() -> float:
        throttle, start = Throttle(10), time.monotonic()
        for _ in range(15):  # a second's worth at once, then one every 0.1 s
            await throttle.take()
        return time.monotonic() - start

    assert asyncio.run(go()) >= 0.45


def test_staff_alerts_reach_the_consoles(db: sessionmaker[Session]) -> None:
    class Hub:
        def __init__(self) -> None:
            self.got: list[tuple[str, dict[str, object]]] = []

        async def broadcast(self, payload: dict[str, object]) -> None:
            self.got.append(("all", payload))

        async def to_agent(self, agent_id: int, payload: dict[str, object], supervisors: bool = False) -> None:
            self.got.append(("supervisors" if supervisors and agent_id == 0 else "agent", payload))

    with db.begin() as s:
        notify(
            s, audience="supervisor", kind="incident_alert", key="incident:7", text="疑似停电", payload={"incident": 7}
        )
        notify(s, audience="staff", kind="kpi_alert", key="kpi:1", text="接通率低于阈值")
    hub = Hub()
    asyncio.run(NoticeRunner(db, {"console": ConsoleAlerts(hub)}).tick())
    assert hub.got == [
        (
            "supervisors",
            {
                "incident": 7,
                "type": "notice_alert",
                "kind": "incident_alert",
                "text": "疑似停电",
                "audience": "supervisor",
            },
        ),
        ("all", {"type": "notice_alert", "kind": "kpi_alert", "text": "接通率低于阈值", "audience": "staff"}),
    ]
