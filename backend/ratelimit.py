"""Sliding-window limits per key (a sender, a login name, a client address), per process.

Per process on purpose: behind a load balancer each instance limits what reaches it, which bounds the
whole at N x the limit; a shared counter would put Redis on every message's path.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque


class SlidingWindow:
    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self._hits: dict[str, deque] = defaultdict(deque)

    def count(self, key: str) -> int:
        now, hits = time.monotonic(), self._hits[key]
        while hits and now - hits[0] > self.window:
            hits.popleft()
        if not hits:
            self._hits.pop(key, None)
        return len(hits)

    def full(self, key: str) -> bool:
        """The limit is reached for `key` (nothing counted)."""
        return self.count(key) >= self.limit

    def hit(self, key: str) -> None:
        self._hits[key].append(time.monotonic())

    def allow(self, key: str) -> bool:
        """Counts one more event for `key`; False (and not counted) when the limit is reached."""
        if self.full(key):
            return False
        self.hit(key)
        return True
