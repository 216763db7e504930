"""Knowledge answers for the actions: the knowledge service (channels.knowledge), local article files if it is down."""

from __future__ import annotations

from channels.knowledge import KbHit, KnowledgeClient
from knowledge.kb import Article, load_articles

SURE = 2.3  # the lowest search score taken for a question with no service to narrow it to (fused BM25 + dense)


class KnowledgeAnswers:
    def __init__(self, client: KnowledgeClient):
        self.client = client
        self._articles: list[Article] | None = None

    @classmethod
    def from_env(cls) -> KnowledgeAnswers:
        return cls(KnowledgeClient.from_env())

    def match(self, text: str) -> list[dict]:
        """The matcher's ranked functions for a piece of text ([] when the service is unreachable)."""
        return self.client.functions(text)

    def answer(self, question: str, function_id: str | None = None) -> KbHit | None:
        """The best article for a question, restricted to a function when one is known."""
        hits = self.client.search(question, function_id)
        return hits[0] if hits else self._local_answer(question, function_id)

    def sure_answer(self, question: str) -> KbHit | None:
        """The best article of the whole knowledge base, only when it clearly fits: a question asked in the middle
        of something else ("这个算紧急的吗？") gets no answer rather than an unrelated one."""
        hits = self.client.search(question, None)
        return hits[0] if hits and hits[0].score >= SURE else None

    def _local_answer(self, question: str, function_id: str | None) -> KbHit | None:
        if self._articles is None:
            self._articles = load_articles()
        pool = [a for a in self._articles if not function_id or a.function == function_id]
        if not pool:
            return None
        chars = set(question or "")
        overlap = lambda a: sum(len(chars & set(p)) for p in (a.title, *a.questions, *a.keywords))
        best = max(pool, key=lambda a: (overlap(a), -pool.index(a)))
        return KbHit(best.id, best.title, best.function, best.spoken, best.text, best.channels, 0.0)
