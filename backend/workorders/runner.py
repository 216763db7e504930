"""The loop that keeps orders moving without anyone asking: the supervision sweep, then the notice outbox
handed to one sender per channel. Any number of processes may run it (SKIP LOCKED and claims share the work).

The senders are the caller's: the console gives a chat sender (its hub) and SMS; a stand-alone worker
(`python -m backend.workorders run`) gives SMS and logs the rest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.workorders import outbox
from backend.workorders.outbox import Notice
from backend.workorders.supervision import sweep
from channels.sms import SmsSender

log = logging.getLogger(__name__)
RETRY = dt.timedelta(seconds=20)


class Sender(Protocol):
    async def send(self, notice: Notice) -> None: ...


class NoticeRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        senders: dict[str, Sender],
        *,
        interval: float = 1.0,
        clock: Callable[[], dt.datetime] = m.utcnow,
        channels: set[str] | None = None,
    ):
        self.sessions, self.senders, self.interval, self.clock = sessions, senders, interval, clock
        self.channels = channels  # only these channels' notices (None: all)
        self.sent = self.failed = 0

    async def tick(self) -> int:
        """One round: sweep, then send what is due. The number of notices sent."""
        now = self.clock()
        await asyncio.to_thread(sweep, self.sessions, now)
        sent = 0
        while True:
            notices = await asyncio.to_thread(outbox.claim, self.sessions, self.clock(), 50, self.channels)
            if not notices:
                return sent
            for notice in notices:
                sender = self.senders.get(notice.channel)
                try:
                    if sender is None:
                        raise LookupError(f"no sender for channel {notice.channel}")
                    await sender.send(notice)
                except Exception as e:  # noqa: BLE001 - one failed delivery is retried later, never stops the loop
                    self.failed += 1
                    log.warning("notice %s (%s) not delivered: %r", notice.id, notice.kind, e)
                    await asyncio.to_thread(outbox.mark_failed, self.sessions, notice.id, repr(e), self.clock() + RETRY)
                    continue
                await asyncio.to_thread(outbox.mark_sent, self.sessions, notice.id, self.clock())
                sent += 1
                self.sent += 1

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                log.exception("work-order loop round failed")
            await asyncio.sleep(self.interval)


class SmsNotices:
    """Notices whose channel is sms, through any SmsSender (channels/sms.py)."""

    def __init__(self, sms: SmsSender):
        self.sms = sms

    async def send(self, notice: Notice) -> None:
        await self.sms.send_sms(notice.recipient, notice.text, f"n{notice.id}")


class LoggedNotices:
    """Where nobody is connected to receive them (a stand-alone worker's console notices): logged."""

    async def send(self, notice: Notice) -> None:
        log.info("notice %s %s for %s: %s", notice.id, notice.kind, notice.recipient, notice.text)
