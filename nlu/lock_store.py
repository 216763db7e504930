"""A conversation lock for several Rasa servers that is atomic in Redis (used by bot/endpoints.scale.yml).

Rasa 3.6's RedisLockStore issues tickets by reading, changing and writing back one Redis key, so two
servers taking the lock of the same conversation at the same moment can both believe they hold it; the
second save then drops the first turn (seen here with two servers and two simultaneous messages, see
tests/scale/test_horizontal.py). This store takes the lock with SET NX PX and releases it with a
compare-and-delete script, so exactly one server at a time works on a conversation. A server killed while
holding a lock frees it when the lock's lifetime runs out.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional, Text

from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
SETTINGS = ("port", "db", "username", "password", "use_ssl", "key_prefix", "socket_timeout")


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost",
                      **{k: v for k, v in endpoint_config.kwargs.items() if k in SETTINGS}}
        super().__init__(**kwargs)
        self._release = self.red.register_script(RELEASE)

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 0.02) -> AsyncIterator[None]:
        key = f"{self.key_prefix}mutex:{conversation_id}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + lock_lifetime
        while not self.red.set(key, token, nx=True, px=int(lock_lifetime * 1000)):
            if time.monotonic() > deadline:
                raise LockError(f"could not take the lock of conversation {conversation_id} in {lock_lifetime} s")
            await asyncio.sleep(min(wait_time_in_seconds, 0.05))
        try:
            yield None
        finally:
            self._release(keys=[key], args=[token])
