"""Fusion of a dense (cosine) and a lexical (BM25) score for the same candidate documents.

Raw e5 cosines sit in a narrow band (0.80-0.93 for almost any Chinese pair) while BM25 scores spread from 0 to
tens, so adding them, even after dividing BM25 by its maximum, lets the lexical side decide. Here each signal
is first standardised over the candidate set of the query (z-score: how far above the candidates' mean this
document is, in the candidates' standard deviations), so both speak in the same unit, then weighted.

The method and its weight were chosen on our own knowledge-base queries only, by MRR@10 among z-score fusion
with dense weights 0.5-0.9, reciprocal-rank fusion and the old sum (benchmarks/retrieval/run.py prints the
comparison and keeps it in results.json); the external FAQ set is only measured.
"""

from __future__ import annotations

import numpy as np

MODES = ("hybrid", "dense", "bm25")
DENSE_WEIGHT = 0.7  # best MRR@10 on our KB queries among 0.5-0.9 (0.7-0.8 is a plateau there)
RRF_K = 60


def zscore(values: np.ndarray) -> np.ndarray:
    """Standardised values; all zeros when the values do not spread (nothing to tell the candidates apart)."""
    sd = float(values.std())
    return (values - values.mean()) / sd if sd > 1e-6 else np.zeros_like(values, dtype=np.float32)


def zscore_fusion(dense: np.ndarray, lexical: np.ndarray, dense_weight: float = DENSE_WEIGHT) -> np.ndarray:
    """Fused score of candidates given both signals' scores for the same candidates (same order)."""
    return dense_weight * zscore(np.asarray(dense, dtype=np.float32)) + (1 - dense_weight) * zscore(
        np.asarray(lexical, dtype=np.float32)
    )


def rrf_fusion(dense: np.ndarray, lexical: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal-rank fusion (1/(k + rank) summed over the signals); kept as the compared alternative."""

    def ranks(s: np.ndarray) -> np.ndarray:
        r = np.empty(len(s), dtype=np.float32)
        r[np.argsort(-np.asarray(s), kind="stable")] = np.arange(1, len(s) + 1)
        return r

    return 1 / (k + ranks(dense)) + 1 / (k + ranks(lexical))
