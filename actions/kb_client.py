"""Knowledge answers for the actions: the knowledge service over HTTP, local article files if it is down."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import requests

from knowledge.kb import Article, load_articles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KbHit:
    article_id: str
    title: str
    function: str
    spoken: str
    text: str
    channels: tuple[str, ...]
    score: float


def _hit(a: Article, score: float) -> KbHit:
    return KbHit(a.id, a.title, a.function, a.spoken, a.text, a.channels, score)


class KnowledgeClient:
    def __init__(self, base_url: str | None, timeout: float = 2.0):
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self._articles: list[Article] | None = None

    @classmethod
    def from_env(cls) -> "KnowledgeClient":
        return cls(os.environ.get("P95598_KNOWLEDGE_URL", "http://127.0.0.1:5056"))

    def match(self, text: str) -> list[dict]:
        """The matcher's ranked functions for a piece of text ([] when the service is unreachable)."""
        if not self.base_url:
            return []
        try:
            r = requests.post(f"{self.base_url}/match", json={"text": text, "top_k": 2}, timeout=self.timeout)
            r.raise_for_status()
            return r.json().get("functions", [])
        except (requests.RequestException, ValueError):
            return []

    def answer(self, question: str, function_id: str | None = None) -> KbHit | None:
        """The best article for a question, restricted to a function when one is known."""
        if self.base_url:
            try:
                r = requests.post(f"{self.base_url}/kb/search", timeout=self.timeout,
                                  json={"query": question, "function": function_id, "top_k": 1})
                r.raise_for_status()
                hits = r.json().get("hits", [])
                if hits:
                    h = hits[0]
                    return KbHit(h["id"], h["title"], h["function"], h["spoken"], h["text"],
                                 tuple(h.get("channels", [])), float(h["score"]))
            except (requests.RequestException, ValueError, KeyError) as e:
                log.warning("knowledge service unavailable (%s); answering from local articles", e)
        return self._local_answer(question, function_id)

    def _local_answer(self, question: str, function_id: str | None) -> KbHit | None:
        if self._articles is None:
            self._articles = load_articles()
        pool = [a for a in self._articles if not function_id or a.function == function_id]
        if not pool:
            return None
        chars = set(question or "")
        overlap = lambda a: sum(len(chars & set(p)) for p in (a.title, *a.questions, *a.keywords))
        best = max(pool, key=lambda a: (overlap(a), -pool.index(a)))
        return _hit(best, 0.0)
