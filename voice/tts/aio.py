"""asyncio helper: iterate an engine's ``stream`` without blocking the event loop.

Synthesis is CPU-bound, so each chunk is computed in an executor thread. Stopping the iteration (the
caller barged in and the ``async for`` was left) stops the synthesis after the chunk in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import Executor

import numpy as np

from .engine import TtsEngine

_DONE = object()


async def astream(engine: TtsEngine, text: str, executor: Executor | None = None) -> AsyncIterator[np.ndarray]:
    """``async for pcm in astream(engine, text)``: int16 chunks at ``engine.sample_rate``."""
    loop = asyncio.get_running_loop()
    chunks = iter(engine.stream(text))
    while (chunk := await loop.run_in_executor(executor, next, chunks, _DONE)) is not _DONE:
        yield chunk
