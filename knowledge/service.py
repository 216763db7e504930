"""Knowledge service (Python 3.11, torch): function matching and knowledge-base search over HTTP.

    POST /match      {"text": "...", "customer_channels": ["app"], "top_k": 3}
    POST /kb/search  {"query": "...", "function": "payment", "top_k": 3}
    GET  /health     200 once the indexes are loaded, 503 before

The Rasa server's MatcherIntentClassifier and the action server call it. Indexes are built (or loaded
when unchanged) in the background at start-up; every search runs in a thread pool, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from knowledge.catalog import catalog
from knowledge.config import KnowledgeConfig, default_index_dir
from knowledge.embedder import Embedder
from knowledge.faq import FaqDoc, FaqIndex
from knowledge.kb import Article, load_articles
from knowledge.matcher import Matcher, decision

log = logging.getLogger(__name__)
MAX_TEXT = 2000


__all__ = ["Knowledge", "create_app", "default_index_dir"]


def article_docs(articles: list[Article]) -> list[FaqDoc]:
    return [FaqDoc(a.id, a.title, f"{a.spoken}\n{a.text}", tuple(a.questions) + tuple(a.keywords)) for a in articles]


@dataclass
class Knowledge:
    """Everything the service answers from, loaded once."""

    matcher: Matcher
    kb: FaqIndex
    articles: dict[str, Article]

    @classmethod
    def load(cls, index_dir: Path, embedder: Embedder) -> Knowledge:
        """Indexes live in a folder per embedding model: processes on different models never rebuild each other's."""
        articles = load_articles()
        cat = catalog()
        folder = index_dir / embedder.name
        kb = FaqIndex.open(folder / "kb", embedder, article_docs(articles))
        matcher = Matcher.build(folder / "matcher", cat, embedder, articles)
        knowledge = cls(matcher, kb, {a.id: a for a in articles})
        knowledge.match("你好")  # loads the model now, so the first caller does not wait for it
        return knowledge

    def match(self, text: str, top_k: int = 3, channels: list[str] | None = None) -> dict:
        matches = self.matcher.match(text, top_k, channels)
        return {
            "text": text,
            "decision": decision(matches[0].score) if matches else "unknown",
            "functions": [m.__dict__ for m in matches],
        }

    def search(self, query: str, function: str | None = None, top_k: int = 3) -> list[dict]:
        allowed = {a.id for a in self.articles.values() if a.function == function} if function else None
        if allowed == set():
            allowed = None
        return [self.articles[doc.id].hit(score) for doc, score in self.kb.search(query, top_k, allowed)]


KNOWLEDGE = web.AppKey("knowledge", Knowledge)
POOL = web.AppKey("pool", ThreadPoolExecutor)
READY = web.AppKey("ready", asyncio.Event)


async def _json(request: web.Request, key: str) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "body must be JSON"}', content_type="application/json") from None
    if not isinstance(body, dict) or not isinstance(body.get(key, ""), str):
        raise web.HTTPBadRequest(text=f'{{"error": "\\"{key}\\" must be a string"}}', content_type="application/json")
    if not request.app[READY].is_set():
        raise web.HTTPServiceUnavailable(text='{"error": "indexes are loading"}', content_type="application/json")
    return body


def _top_k(body: dict, default: int) -> int:
    try:
        return max(1, min(int(body.get("top_k", default)), 50))
    except (TypeError, ValueError):
        return default


async def match(request: web.Request) -> web.Response:
    body = await _json(request, "text")
    channels = body.get("customer_channels")
    if channels is not None and not (isinstance(channels, list) and all(isinstance(c, str) for c in channels)):
        raise web.HTTPBadRequest(
            text='{"error": "\\"customer_channels\\" must be a list of strings"}', content_type="application/json"
        )
    k = request.app[KNOWLEDGE]
    result = await asyncio.get_running_loop().run_in_executor(
        request.app[POOL], k.match, body.get("text", "")[:MAX_TEXT], _top_k(body, 3), channels
    )
    return web.json_response(result)


async def kb_search(request: web.Request) -> web.Response:
    body = await _json(request, "query")
    function = body.get("function") if isinstance(body.get("function"), str) else None
    k = request.app[KNOWLEDGE]
    hits = await asyncio.get_running_loop().run_in_executor(
        request.app[POOL], k.search, body.get("query", "")[:MAX_TEXT], function, _top_k(body, 3)
    )
    return web.json_response({"hits": hits})


async def health(request: web.Request) -> web.Response:
    if not request.app[READY].is_set():
        return web.json_response({"status": "loading"}, status=503)
    k = request.app[KNOWLEDGE]
    return web.json_response(
        {
            "status": "ok",
            "articles": len(k.articles),
            "matcher_entries": len(k.matcher.entries),
            "model": k.matcher.embedder.name,
        }
    )


def create_app(cfg: KnowledgeConfig, embedder: Embedder | None = None) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[READY] = asyncio.Event()

    async def knowledge_ctx(app: web.Application):
        app[POOL] = ThreadPoolExecutor(max_workers=cfg.search_threads, thread_name_prefix="knowledge")
        loader = lambda: Knowledge.load(cfg.index_dir, embedder or cfg.embedder())
        app[KNOWLEDGE] = await asyncio.get_running_loop().run_in_executor(app[POOL], loader)
        app[READY].set()
        log.info("knowledge service ready")
        yield
        app[POOL].shutdown(wait=False, cancel_futures=True)

    app.cleanup_ctx.append(knowledge_ctx)
    app.router.add_post("/match", match)
    app.router.add_post("/kb/search", kb_search)
    app.router.add_get("/health", health)
    return app
