"""Conversation locks for several Rasa processes: atomic in Redis across machines (bot/endpoints.scale.yml),
and with file locks across the worker processes of one machine (bot/endpoints.yml).

AtomicRedisLockStore:

Rasa 3.6's RedisLockStore issues tickets by reading, changing and writing back one Redis key, so two
servers taking the lock of the same conversation at the same moment can both believe they hold it; the
second save then drops the first turn (seen here with two servers and two simultaneous messages, see
tests/scale/test_horizontal.py). This store takes the lock with SET NX PX and releases it with a
compare-and-delete script, so exactly one server at a time works on a conversation. A server killed while
holding a lock frees it when the lock's lifetime runs out.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
SETTINGS = ("port", "db", "username", "password", "use_ssl", "key_prefix", "socket_timeout")


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs) -> None:
        if endpoint_config is not None:
            kwargs = {
                "host": endpoint_config.url or "localhost",
                **{k: v for k, v in endpoint_config.kwargs.items() if k in SETTINGS},
            }
        super().__init__(**kwargs)
        self._release = self.red.register_script(RELEASE)

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 0.02
    ) -> AsyncIterator[None]:
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


class FileLockStore(LockStore):
    """A conversation lock for several Rasa worker processes on one machine (bot/endpoints.yml, embedded).

    Rasa's in-memory lock store lives inside one process, so it allows one Sanic worker only. This one takes
    an exclusive `flock` on a file chosen by the conversation's hash (1,024 files; two conversations sharing
    a file just wait for each other), which holds across processes and between coroutines of one process
    (each lock attempt opens its own file description). The kernel drops the lock of a killed process.
    """

    BUCKETS = 1024

    def __init__(self, endpoint_config: EndpointConfig | None = None, directory: str | None = None) -> None:
        configured = (endpoint_config.kwargs.get("directory") if endpoint_config else None) or directory
        tracker_db = os.environ.get("P95598_TRACKER_DB")
        self.directory = Path(configured or (Path(tracker_db).parent / "locks" if tracker_db else "var/locks"))
        self.directory.mkdir(parents=True, exist_ok=True)
        super().__init__()

    def _path(self, conversation_id: str) -> Path:
        bucket = int(hashlib.sha1(conversation_id.encode()).hexdigest()[:8], 16) % self.BUCKETS
        return self.directory / f"{bucket:04d}.lock"

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 0.005
    ) -> AsyncIterator[None]:
        fd = os.open(self._path(conversation_id), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + lock_lifetime
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as busy:
                    if time.monotonic() > deadline:
                        raise LockError(
                            f"could not take the lock of conversation {conversation_id} in {lock_lifetime} s"
                        ) from busy
                    await asyncio.sleep(min(wait_time_in_seconds, 0.05))
            yield None
        finally:
            os.close(fd)  # closing the file releases the lock

    # the ticket API below is not used: `lock` above replaces it
    def get_lock(self, conversation_id: str) -> None:
        return None

    def delete_lock(self, conversation_id: str) -> None:
        return None

    def save_lock(self, lock) -> None:
        return None
