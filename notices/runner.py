"""The sender loop: claim due notices, ask the gateway about those in doubt, send the rest, mark the outcomes.

`python -m notices run` runs it for the customer channels (with the triggers' scan); the console process runs
one for its staff alerts (notices/console_alerts.py). Any number may run: claims share the work. The lease must
outlast a round (`batch` notices at the channels' rates), or a second runner could claim a notice still being sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session, sessionmaker

from backend.models import utcnow
from notices import outbox
from notices.outbox import Outcome, Outgoing
from notices.senders import GiveUp, Sender

log = logging.getLogger(__name__)


class Throttle:
    """At most `rate` sends a second through one gateway (a token bucket holding one second's worth)."""

    def __init__(self, rate: float):
        self.rate = max(rate, 0.001)
        self.tokens, self.at = self.rate, time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class NoticeRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        senders: dict[str, Sender],
        *,
        lease: dt.timedelta = dt.timedelta(seconds=30),
        rates: dict[str, float] | None = None,
        channels: Iterable[str] | None = None,
        batch: int = 100,
        parallel: int = 20,
        max_attempts: int = outbox.MAX_ATTEMPTS,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.sessions, self.senders, self.lease, self.clock = sessions, senders, lease, clock
        self.channels = set(channels) if channels is not None else set(senders)
        self.throttles = {c: Throttle(r) for c, r in (rates or {}).items()}
        self.batch, self.max_attempts = batch, max_attempts
        self.parallel = asyncio.Semaphore(parallel)
        self.sent = self.found = self.failed = 0

    async def tick(self) -> int:
        """Sends what is due now; the number of notices sent or found already at their gateway."""
        done = 0
        while True:
            claimed = await asyncio.to_thread(
                outbox.claim, self.sessions, self.clock(), self.lease, self.batch, self.channels
            )
            if not claimed:
                return done
            outcomes = await asyncio.gather(*(self._one(n) for n in claimed))
            await asyncio.to_thread(outbox.record, self.sessions, outcomes, self.clock(), self.max_attempts)
            done += sum(1 for o in outcomes if o.gateway_ref)

    async def _one(self, notice: Outgoing) -> Outcome:
        sender = self.senders.get(notice.channel)
        if sender is None:
            self.failed += 1
            return Outcome(notice.id, error=f"no sender for channel {notice.channel!r}")
        async with self.parallel:
            try:
                if notice.in_doubt and (ref := await sender.find(notice)):
                    self.found += 1
                    return Outcome(notice.id, gateway_ref=ref)
                if notice.channel in self.throttles:
                    await self.throttles[notice.channel].take()
                ref = await sender.send(notice)
            except GiveUp as e:
                self.failed += 1
                return Outcome(notice.id, error=str(e), give_up=True)
            except Exception as e:  # noqa: BLE001 - one failed delivery is retried later, never stops the loop
                self.failed += 1
                log.warning("notice %s (%s) not sent: %r", notice.ref, notice.channel, e)
                return Outcome(notice.id, error=repr(e))
        self.sent += 1
        return Outcome(notice.id, gateway_ref=ref)

    async def run(
        self, interval: float = 1.0, scan: Callable[[dt.datetime], object] | None = None, scan_every: float = 60.0
    ) -> None:
        """Sends every `interval` seconds; runs `scan(now)` (the triggers) every `scan_every` seconds."""
        next_scan = 0.0
        while True:
            try:
                if scan is not None and time.monotonic() >= next_scan:
                    next_scan = time.monotonic() + scan_every
                    await asyncio.to_thread(scan, self.clock())
                await self.tick()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                log.exception("notice round failed")
            await asyncio.sleep(interval)
