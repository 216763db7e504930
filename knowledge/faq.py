"""FAQ-style retrieval: dense passages in FAISS, BM25 on words, char and pinyin bigrams, or both fused.

A document is {"id", "question", "answer", "synonyms"?}; each question/synonym (and the answer's opening)
becomes one passage in the vector index. Used for the knowledge base and for any FAQ file (CLI).

Modes (knowledge.fusion.MODES): "dense" ranks documents by their best passage cosine; "bm25" by BM25 alone;
"hybrid" (the default) takes the candidates of both, scores every candidate exactly on both signals and fuses
the z-scored signals (see knowledge/fusion.py for why and how the weight was chosen).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.bm25 import BM25, best
from knowledge.embedder import Embedder
from knowledge.fusion import MODES, zscore_fusion
from knowledge.text import lexical_tokens, lexicon_version, words
from knowledge.vector_index import VectorIndex

CANDIDATES = 64  # passages asked from FAISS, and documents taken from BM25, per query
QUERY_BATCH = 64  # queries embedded together by search_many
DOCS_FILE = "docs.jsonl"
TOKENS_FILE = "lexical_tokens.json"


@dataclass(frozen=True)
class FaqDoc:
    id: str
    question: str
    answer: str
    synonyms: tuple[str, ...] = ()
    meta: dict | None = None

    def passages(self) -> list[str]:
        return [self.question, *self.synonyms, self.answer[:200]]

    def lexical_text(self) -> str:
        return " ".join([self.question, *self.synonyms, self.answer])


def read_faq(path: Path) -> list[FaqDoc]:
    docs, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            doc = FaqDoc(
                str(row["id"]),
                str(row["question"]),
                str(row.get("answer", "")),
                tuple(str(s) for s in row.get("synonyms") or []),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{n}: expected a JSON object with id, question, answer ({e})") from e
        if doc.id in seen:
            raise ValueError(f"{path}:{n}: duplicate id {doc.id}")
        seen.add(doc.id)
        docs.append(doc)
    if not docs:
        raise ValueError(f"{path}: no FAQ entries")
    return docs


def docs_hash(docs: list[FaqDoc]) -> str:
    h = hashlib.sha256()
    for d in docs:
        h.update(json.dumps([d.id, d.question, d.answer, d.synonyms], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def cached_tokens(folder: Path, docs: list[FaqDoc]) -> list[list[str]]:
    """BM25 tokens of each document, kept next to the index: segmentation and pinyin cost ~10 ms a document,
    which the CLI would otherwise pay at every start. Redone when the documents or the lexicons change."""
    path, key = folder / TOKENS_FILE, f"{docs_hash(docs)}:{lexicon_version()}"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached["key"] == key and len(cached["tokens"]) == len(docs):
            return cached["tokens"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    tokens = [lexical_tokens(d.lexical_text()) for d in docs]
    path.write_text(json.dumps({"key": key, "tokens": tokens}, ensure_ascii=False), encoding="utf-8")
    return tokens


class FaqIndex:
    def __init__(
        self,
        docs: list[FaqDoc],
        vectors: VectorIndex,
        embedder: Embedder,
        mode: str = "hybrid",
        fuse: Callable[[np.ndarray, np.ndarray], np.ndarray] = zscore_fusion,
        lexical: BM25 | None = None,
    ):
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r} (one of {', '.join(MODES)})")
        self.docs = docs
        self.vectors = vectors
        self.embedder = embedder
        self.mode = mode
        self.fuse = fuse  # (dense, lexical scores of the same candidates) -> fused scores
        self.counts = np.array([len(d.passages()) for d in docs], dtype=np.int64)  # passages per doc
        self.owner = np.repeat(np.arange(len(docs), dtype=np.int64), self.counts)
        self.first = np.cumsum(self.counts) - self.counts  # its first passage
        self.bm25 = lexical or BM25([lexical_tokens(d.lexical_text()) for d in docs])  # given: benchmarks at scale
        self.position = {d.id: i for i, d in enumerate(docs)}
        self.rebuilt = False

    @classmethod
    def open(cls, folder: Path, embedder: Embedder, docs: list[FaqDoc] | None = None, mode: str = "hybrid") -> FaqIndex:
        """Opens the index in `folder`, (re)building it when `docs` or the model differ from what it holds."""
        folder = Path(folder)
        if docs is None:
            docs = read_faq(folder / DOCS_FILE)
        want = {"model": embedder.name, "content_hash": docs_hash(docs)}
        texts = [p for d in docs for p in d.passages()]
        vectors, rebuilt = VectorIndex.load_or_build(folder, want, lambda: embedder.passages(texts, progress=True))
        if rebuilt:
            with open(folder / DOCS_FILE, "w", encoding="utf-8") as f:
                for d in docs:
                    f.write(
                        json.dumps(
                            {"id": d.id, "question": d.question, "answer": d.answer, "synonyms": list(d.synonyms)},
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
        index = cls(docs, vectors, embedder, mode, lexical=BM25(cached_tokens(folder, docs)))
        index.rebuilt = rebuilt
        return index

    def search(
        self, query: str, top_k: int = 5, allowed: set[str] | None = None, mode: str | None = None
    ) -> list[tuple[FaqDoc, float]]:
        return self.search_many([query], top_k, allowed, mode)[0]

    def search_many(
        self, queries: list[str], top_k: int = 5, allowed: set[str] | None = None, mode: str | None = None
    ) -> list[list[tuple[FaqDoc, float]]]:
        """Searches many queries, embedding them QUERY_BATCH at a time (no embedding at all for "bm25")."""
        out = []
        for start in range(0, len(queries), QUERY_BATCH):
            batch = queries[start : start + QUERY_BATCH]
            qvecs = self.embedder.queries(batch) if (mode or self.mode) != "bm25" else [None] * len(batch)
            out.extend(self.search_vec(q, v, top_k, allowed, mode) for q, v in zip(batch, qvecs))
        return out

    def search_vec(
        self,
        query: str,
        qvec: np.ndarray | None,
        top_k: int = 5,
        allowed: set[str] | None = None,
        mode: str | None = None,
    ) -> list[tuple[FaqDoc, float]]:
        """Best documents for a query whose embedding is `qvec` (unused, may be None, in "bm25" mode).

        Scores: cosine in "dense" mode, BM25 in "bm25", the fused z-score in "hybrid" (compare within a query)."""
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r} (one of {', '.join(MODES)})")
        pool = (
            None
            if allowed is None
            else np.array(sorted(self.position[i] for i in allowed if i in self.position), dtype=np.int64)
        )
        if pool is not None and not len(pool):
            return []
        if mode == "bm25":
            docs, scores = self.bm25.top(lexical_tokens(query), top_k, pool)
        else:
            docs = self._dense_candidates(qvec, pool)
            if mode == "hybrid":
                lexical = self.bm25.scores(lexical_tokens(query))
                docs = np.union1d(docs, best(lexical, CANDIDATES, pool)[0])
            dense = self._cosines(qvec, docs)
            scores = dense if mode == "dense" else self.fuse(dense, lexical[docs])
            order = np.argsort(-scores, kind="stable")[:top_k]
            docs, scores = docs[order], scores[order]
        return [(self.docs[i], float(s)) for i, s in zip(docs, scores)]

    def _dense_candidates(self, qvec: np.ndarray, pool: np.ndarray | None) -> np.ndarray:
        """Documents owning the CANDIDATES nearest passages; a small `pool` (a function's articles) is taken whole."""
        if pool is not None and self.counts[pool].sum() <= 4 * CANDIDATES:
            return pool
        _, ids = self.vectors.search(qvec[None, :], CANDIDATES if pool is None else 4 * CANDIDATES)
        docs = np.unique(self.owner[ids[0][ids[0] >= 0]])
        return docs if pool is None else np.intersect1d(docs, pool)

    def _cosines(self, qvec: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """Exact best-passage cosine of each document (vectors read back from the index)."""
        if not len(docs):
            return np.zeros(0, dtype=np.float32)
        counts = self.counts[docs]
        starts = np.cumsum(counts) - counts  # where each doc's passages begin in `pids`
        pids = np.repeat(self.first[docs] - starts, counts) + np.arange(counts.sum())
        sims = self.vectors.reconstruct(pids) @ qvec
        return np.maximum.reduceat(sims, starts).astype(np.float32)


class BM25Baseline:
    """The plain baseline the benchmark compares with: BM25 over jieba words of question + synonyms + answer."""

    def __init__(self, docs: list[FaqDoc]):
        self.docs = docs
        self.bm25 = BM25([words(d.lexical_text()) for d in docs])

    def search(self, query: str, top_k: int = 10) -> list[tuple[FaqDoc, float]]:
        s = self.bm25.scores(words(query))
        return [(self.docs[i], float(s[i])) for i in np.argsort(-s)[:top_k]]
