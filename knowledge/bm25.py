"""Okapi BM25 over pre-tokenised documents. Each term's per-document weights are precomputed into numpy
arrays, so a query's scores are one scatter-add (np.bincount) over its terms' postings, and the best k
documents are picked with a partial sort (O(n)), not a full one: at 100k documents the scoring takes a few
milliseconds even when the query's postings add up to a million entries (benchmarks/retrieval/kb_scale.py)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.n = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.n else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, d in enumerate(docs):
            for term, tf in Counter(d).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(i)
                tfs.append(tf)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, (ids, tfs) in postings.items():
            idx, tf = np.array(ids, dtype=np.int32), np.array(tfs, dtype=np.float32)
            idf = math.log(1 + (self.n - len(ids) + 0.5) / (len(ids) + 0.5))
            self.postings[term] = (idx, (idf * tf * (k1 + 1) / (tf + norm[idx])).astype(np.float32))

    def scores(self, query: list[str]) -> np.ndarray:
        """The score of every document (a term lists each document once; repeated query terms count once)."""
        hits = [self.postings[t] for t in dict.fromkeys(query) if t in self.postings]
        if not hits:
            return np.zeros(self.n, dtype=np.float32)
        if len(hits) == 1:
            out = np.zeros(self.n, dtype=np.float32)
            out[hits[0][0]] = hits[0][1]
            return out
        return np.bincount(
            np.concatenate([i for i, _ in hits]), weights=np.concatenate([w for _, w in hits]), minlength=self.n
        ).astype(np.float32)

    def top(self, query: list[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k best documents with a positive score (indices, scores), best first; only `allowed` ones if given."""
        return best(self.scores(query), k, allowed)


def best(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k highest positive scores, best first (partial sort: O(n), not O(n log n))."""
    pool = np.flatnonzero(scores) if allowed is None else allowed[scores[allowed] > 0]
    if len(pool) > k:
        pool = pool[np.argpartition(-scores[pool], k - 1)[:k]]
    pool = pool[np.argsort(-scores[pool], kind="stable")]
    return pool, scores[pool]
