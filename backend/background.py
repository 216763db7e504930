"""A loop that runs for the life of an aiohttp app: started in a cleanup_ctx, cancelled and awaited when the app
stops (the console's router, queue watcher, order notices and KPI alerts; the notices service's console alerts)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def running(loop: Coroutine[Any, Any, Any] | None) -> AsyncIterator[asyncio.Task[Any] | None]:
    """`loop` as a task while the block runs (None: nothing to run, e.g. an interval of 0)."""
    task = asyncio.create_task(loop) if loop is not None else None
    try:
        yield task
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
