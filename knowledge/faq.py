"""Hybrid retrieval over FAQ-style documents: dense passages in FAISS + BM25 on words, char and pinyin bigrams.

A document is {"id", "question", "answer", "synonyms"?}; each question/synonym (and the answer's opening)
becomes one passage in the vector index. Used for the knowledge base and for any FAQ file (CLI).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.bm25 import BM25
from knowledge.embedder import Embedder
from knowledge.text import lexical_tokens, words
from knowledge.vector_index import VectorIndex

DENSE_WEIGHT = 0.65
CANDIDATES = 64
DOCS_FILE = "docs.jsonl"


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
            doc = FaqDoc(str(row["id"]), str(row["question"]), str(row.get("answer", "")),
                         tuple(str(s) for s in row.get("synonyms") or []))
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


class FaqIndex:
    def __init__(self, docs: list[FaqDoc], vectors: VectorIndex, embedder: Embedder):
        self.docs = docs
        self.vectors = vectors
        self.embedder = embedder
        self.owner = np.array([i for i, d in enumerate(docs) for _ in d.passages()], dtype=np.int64)
        self.bm25 = BM25([lexical_tokens(d.lexical_text()) for d in docs])
        self.rebuilt = False

    @classmethod
    def open(cls, folder: Path, embedder: Embedder, docs: list[FaqDoc] | None = None) -> "FaqIndex":
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
                    f.write(json.dumps({"id": d.id, "question": d.question, "answer": d.answer,
                                        "synonyms": list(d.synonyms)}, ensure_ascii=False) + "\n")
        index = cls(docs, vectors, embedder)
        index.rebuilt = rebuilt
        return index

    def search(self, query: str, top_k: int = 5, allowed: set[str] | None = None) -> list[tuple[FaqDoc, float]]:
        return self.search_vec(query, self.embedder.queries([query])[0], top_k, allowed)

    def search_vec(self, query: str, qvec: np.ndarray, top_k: int = 5,
                   allowed: set[str] | None = None) -> list[tuple[FaqDoc, float]]:
        scores, ids = self.vectors.search(qvec[None, :], CANDIDATES if allowed is None else CANDIDATES * 4)
        dense = np.zeros(len(self.docs), dtype=np.float32)
        for s, pid in zip(scores[0], ids[0]):
            if pid >= 0:
                doc = self.owner[pid]
                dense[doc] = max(dense[doc], s)
        lexical = self.bm25.scores(lexical_tokens(query))
        if lexical.max() > 0:
            lexical = lexical / lexical.max()
        combined = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lexical
        order = np.argsort(-combined)
        out = []
        for i in order:
            if allowed is not None and self.docs[i].id not in allowed:
                continue
            out.append((self.docs[i], float(combined[i])))
            if len(out) >= top_k:
                break
        return out


class BM25Baseline:
    """The plain baseline the benchmark compares with: BM25 over jieba words of question + synonyms + answer."""

    def __init__(self, docs: list[FaqDoc]):
        self.docs = docs
        self.bm25 = BM25([words(d.lexical_text()) for d in docs])

    def search(self, query: str, top_k: int = 10) -> list[tuple[FaqDoc, float]]:
        s = self.bm25.scores(words(query))
        return [(self.docs[i], float(s[i])) for i in np.argsort(-s)[:top_k]]
