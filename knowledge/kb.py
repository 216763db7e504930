"""Knowledge-base articles: Markdown files with YAML front matter under knowledge/kb/articles/<function>/."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

ARTICLES_DIR = Path(__file__).resolve().parent / "kb" / "articles"
REQUIRED = ("id", "title", "function", "channels", "keywords", "questions", "spoken")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    function: str
    channels: tuple[str, ...]
    keywords: tuple[str, ...]
    questions: tuple[str, ...]
    spoken: str
    text: str
    last_reviewed: str = ""
    figures_are_examples: bool = False

    def passages(self) -> list[str]:
        """Texts that stand for this article in the indexes: title, each question, and the answer."""
        return [self.title, *self.questions, self.spoken]

    def hit(self, score: float) -> dict[str, object]:
        """This article as one hit of /kb/search (what the action server and the console read)."""
        return {
            "id": self.id,
            "title": self.title,
            "function": self.function,
            "spoken": self.spoken,
            "text": self.text,
            "channels": list(self.channels),
            "score": round(score, 4),
        }


class ArticleError(ValueError):
    pass


def parse_article(raw: str, source: str = "") -> Article:
    if not raw.startswith("---"):
        raise ArticleError(f"{source}: no front matter")
    try:
        _, front, body = raw.split("---", 2)
        meta = yaml.safe_load(front) or {}
    except (ValueError, yaml.YAMLError) as e:
        raise ArticleError(f"{source}: bad front matter: {e}") from e
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise ArticleError(f"{source}: missing {missing}")
    reviewed = meta.get("last_reviewed", "")
    return Article(
        str(meta["id"]),
        str(meta["title"]),
        str(meta["function"]),
        tuple(meta["channels"] or []),
        tuple(str(k) for k in meta["keywords"] or []),
        tuple(str(q) for q in meta["questions"] or []),
        str(meta["spoken"]).strip(),
        body.strip(),
        reviewed.isoformat() if isinstance(reviewed, dt.date) else str(reviewed),
        bool(meta.get("figures_are_examples", False)),
    )


def load_articles(root: Path = ARTICLES_DIR) -> list[Article]:
    return [parse_article(p.read_text(encoding="utf-8"), str(p)) for p in sorted(root.rglob("*.md"))]


def content_hash(articles: list[Article]) -> str:
    h = hashlib.sha256()
    for a in articles:
        h.update(repr(a).encode("utf-8"))
    return h.hexdigest()[:16]
