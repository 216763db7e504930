"""The one client of the knowledge service's HTTP API (knowledge/service.py): function matching and article search.

Used by the actions, by the agent console and by the NLU component that runs inside Rasa's own Python, so it
needs nothing but `requests` and the standard library. Calls block (the console runs them in a thread). When
the service cannot be reached the answer is empty, and after a failure the client waits `retry_after`
seconds before trying again, so a service that is down costs one timeout, not one per message. A request the
service refuses (4xx, e.g. a message too long to match) is not a failure of the service: the next one is sent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger(__name__)
DEFAULT_URL = "http://127.0.0.1:5056"


@dataclass(frozen=True)
class KbHit:
    article_id: str
    title: str
    function: str
    spoken: str
    text: str
    channels: tuple[str, ...]
    score: float


def knowledge_url(default: str = DEFAULT_URL) -> str:
    return os.environ.get("P95598_KNOWLEDGE_URL", default)


class KnowledgeClient:
    def __init__(self, base_url: str | None, timeout: float = 2.0, retry_after: float = 0.0) -> None:
        self.base_url = (base_url or "").rstrip("/")
        self.timeout = timeout
        self.retry_after = retry_after
        self._down_since: float | None = None
        self._local = threading.local()  # one keep-alive session per calling thread (requests.Session is not shared)

    def _session(self) -> requests.Session:
        """This thread's HTTP session: its connection to the service stays open between calls, instead of a new
        TCP connection (connect, accept, close on both sides) for every message matched."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    @classmethod
    def from_env(cls, **kwargs: Any) -> KnowledgeClient:
        return cls(knowledge_url(), **kwargs)

    def _send(self, path: str, body: dict[str, Any]) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            return self._session().post(url, json=body, timeout=self.timeout)
        except requests.ConnectionError as e:
            if isinstance(e, requests.ConnectTimeout):
                raise
            # the service closed the kept-alive connection as it was reused: once more, on a new connection
            return self._session().post(url, json=body, timeout=self.timeout)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The service's JSON answer; None when it is unset, down (or resting after a failure) or answers oddly."""
        if not self.base_url or (self._down_since and time.time() - self._down_since < self.retry_after):
            return None
        try:
            r = self._send(path, body)
            if 400 <= r.status_code < 500:  # up, but refused this request (e.g. 413 for a 20 KB message): no rest
                log.info("knowledge service refused %s: %s", path, r.status_code)
                self._down_since = None
                return None
            r.raise_for_status()
            answer = r.json()
        except (requests.RequestException, ValueError) as e:
            if self._down_since is None:
                log.warning("knowledge service unreachable at %s (%s)", self.base_url, e)
            self._down_since = time.time()
            return None
        self._down_since = None
        return answer if isinstance(answer, dict) else None

    def match(self, text: str, top_k: int = 2) -> dict[str, Any] | None:
        """The matcher's verdict: {"decision", "functions": [{"function", "score", "matched", …}]}; None if down."""
        return self._post("/match", {"text": text, "top_k": top_k})

    def functions(self, text: str, top_k: int = 2) -> list[dict[str, Any]]:
        """The matcher's ranked functions for a piece of text ([] when the service is unreachable)."""
        return list((self.match(text, top_k) or {}).get("functions") or [])

    def search(self, query: str, function: str | None = None, top_k: int = 1) -> list[KbHit]:
        """The best articles for a question, restricted to a service function when one is given."""
        answer = self._post("/kb/search", {"query": query, "function": function, "top_k": top_k}) or {}
        try:
            return [
                KbHit(
                    h["id"],
                    h["title"],
                    h["function"],
                    h["spoken"],
                    h["text"],
                    tuple(h.get("channels") or ()),
                    float(h["score"]),
                )
                for h in answer.get("hits") or []
            ]
        except (KeyError, TypeError, ValueError) as e:
            log.warning("odd answer from the knowledge service: %r", e)
            return []
