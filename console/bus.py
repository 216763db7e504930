"""How one contact-centre instance tells the others to deliver to the sockets they hold.

Embedded profile: `LocalBus`, the message goes straight back to this process. Scale profile: `RedisBus`,
published on a Redis channel that every instance subscribes to; each delivers to its own sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
Handler = Callable[[dict], Awaitable[None]]


class LocalBus:
    def __init__(self):
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def publish(self, message: dict) -> None:
        if self._handler is not None:
            await self._handler(message)

    async def close(self) -> None:
        self._handler = None


class RedisBus:
    def __init__(self, url: str, channel: str = "p95598:hub"):
        import redis.asyncio as redis  # only the scale profile needs it

        self._redis = redis.from_url(url)
        self._channel = channel
        self._task: asyncio.Task | None = None

    async def start(self, handler: Handler) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._channel)
        self._task = asyncio.create_task(self._listen(pubsub, handler))

    async def _listen(self, pubsub, handler: Handler) -> None:
        async for item in pubsub.listen():
            if item.get("type") != "message":
                continue
            try:
                await handler(json.loads(item["data"]))
            except Exception:  # one bad delivery must not stop the instance listening
                log.exception("bus message failed")

    async def publish(self, message: dict) -> None:
        await self._redis.publish(self._channel, json.dumps(message, ensure_ascii=False))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()


def make_bus(redis_url: str, prefix: str = "p95598") -> LocalBus | RedisBus:
    return RedisBus(redis_url, f"{prefix}:hub") if redis_url else LocalBus()
