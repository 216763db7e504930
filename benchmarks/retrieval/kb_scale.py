"""KB search at scale (run by benchmarks/retrieval/run.py): the vector index kinds side by side, and the whole
search path (dense + BM25 + fusion) of a 100k-article knowledge base.

Synthetic corpus, grown from the real one (no second model, no other data):
- Vectors. Each synthetic article has two passages (question, answer opening), like an article without
  synonyms. A passage vector is normalise(0.7 p_i + 0.3 p_j + e): p_i, p_j real e5 passage vectors of our KB
  drawn at random, e ~ N(0, 0.02^2 I). Its cosine to the nearest real passage is 0.91-0.93, the band in
  which real KB passages lie among themselves (0.85-0.93): many near neighbours, a hard case for an
  approximate index (random unit vectors would be far easier to separate).
- Text, for BM25. Question = a real title + "，" + 6 characters of another; answer = 120 characters of a real
  answer + 60 of another. Tokens are the real lexical tokens of those parts, so postings are as long as 100k
  articles drawn from 175 topics make them (a pessimistic case for BM25 speed).
- Queries: the 375 held-out KB queries (their real e5 vectors and texts).

"part: bm25 before" is the scoring as it was before issue 14 (a fancy-indexed add per term, then a full sort of
all scores), on the same postings.

Recall@10 is against exact search (IndexFlatIP) on the same vectors; "top-1 same" is how often the first
hit is the exact first hit. Latency: one query at a time, after the index is built, on this machine while it
does nothing else we control.
"""

from __future__ import annotations

import time

import faiss
import numpy as np

from benchmarks.common import percentile, table
from knowledge.bm25 import BM25, best
from knowledge.faq import CANDIDATES, FaqDoc, FaqIndex
from knowledge.kb import load_articles
from knowledge.service import article_docs
from knowledge.text import lexical_tokens
from knowledge.vector_index import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, VectorIndex, kind_for, parameters

SIGMA = 0.02
SEED = 95598


def synthetic_vectors(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    i, j = rng.integers(len(base), size=n), rng.integers(len(base), size=n)
    v = 0.7 * base[i] + 0.3 * base[j] + rng.normal(0, SIGMA, (n, base.shape[1])).astype(np.float32)
    return np.ascontiguousarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float32)


def synthetic_docs(n: int, rng: np.random.Generator) -> tuple[list[FaqDoc], BM25]:
    real = article_docs(load_articles())
    head = [lexical_tokens(d.question + d.answer[:120]) for d in real]  # tokens of each part, once
    tail = [lexical_tokens(d.question[:6] + d.answer[:60]) for d in real]
    docs, tokens = [], []
    for k in range(n):
        a, b = int(rng.integers(len(real))), int(rng.integers(len(real)))
        docs.append(
            FaqDoc(f"s{k}", f"{real[a].question}，{real[b].question[:6]}", real[a].answer[:120] + real[b].answer[:60])
        )
        tokens.append(head[a] + tail[b])
    return docs, BM25(tokens)


def _scores_before(lexical: BM25, query: list[str]) -> np.ndarray:
    out = np.zeros(lexical.n, dtype=np.float32)
    for term in set(query):
        hit = lexical.postings.get(term)
        if hit is not None:
            out[hit[0]] += hit[1]
    return out


def latencies(fn, items) -> dict:
    """Wall-clock p50/p99 and the calling thread's CPU-time p99, in ms, one item at a time. The CPU time shows
    the cost of the search itself when other work shares the two cores (wall-clock p99 then includes waits)."""
    wall, cpu = [], []
    for item in items:
        t0, c0 = time.perf_counter(), time.thread_time()
        fn(item)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return {"p50_ms": percentile(wall, 50), "p99_ms": percentile(wall, 99), "cpu_p99_ms": percentile(cpu, 99)}


def vector_indexes(vectors: np.ndarray, qvecs: np.ndarray) -> tuple[list[dict], faiss.Index]:
    """Exact, the old IVF and the HNSW that VectorIndex builds now (plus two efSearch values around it);
    returns the rows and the HNSW index (left at its default efSearch)."""
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(qvecs, 10)
    rows = []

    def measure(name: str, index, build_s: float, params: dict) -> None:
        _, found = index.search(qvecs, 10)
        recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
        rows.append(
            {
                "index": name,
                **params,
                "build_seconds": round(build_s, 1),
                "size_mb": round(len(faiss.serialize_index(index)) / 1e6, 1),
                "recall@10": round(recall, 4),
                "top1_same": round(float(np.mean(found[:, 0] == truth[:, 0])), 4),
                **latencies(lambda q: index.search(q[None, :], CANDIDATES), qvecs),
            }
        )

    measure("exact (IndexFlatIP)", exact, 0.0, {})
    t0 = time.time()
    nlist = int(4 * np.sqrt(len(vectors)))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors), 64 * nlist), replace=False)])
    ivf.add(vectors)
    ivf.nprobe = 24
    measure("IVF before issue 14", ivf, time.time() - t0, {"nlist": nlist, "nprobe": 24})
    del ivf
    t0 = time.time()
    hnsw = VectorIndex.build(vectors, approx_threshold=0)
    built = time.time() - t0
    for ef in (HNSW_EF_SEARCH // 2, HNSW_EF_SEARCH, HNSW_EF_SEARCH * 2):
        hnsw.hnsw.efSearch = ef
        name = "HNSW (VectorIndex default)" if ef == HNSW_EF_SEARCH else "HNSW, other efSearch"
        measure(name, hnsw, built, {"M": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": ef})
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    return rows, hnsw


def search_path(n: int, built: faiss.Index, embedder, queries: list[str], qvecs: np.ndarray) -> dict:
    """The whole FaqIndex search (query tokens, FAISS, exact cosines of candidates, BM25, fusion) at n articles,
    over the vector index `built` for their 2n passages."""
    t0 = time.time()
    docs, lexical = synthetic_docs(n, np.random.default_rng(SEED))
    bm25_build = time.time() - t0
    index = FaqIndex(docs, VectorIndex(built, {"count": int(built.ntotal)}), embedder, lexical=lexical)
    assert len(index.owner) == built.ntotal and type(built).__name__ == kind_for(built.ntotal)
    out = {
        "articles": n,
        "passages": int(built.ntotal),
        "faiss_index": type(built).__name__,
        **parameters(built),
        "bm25_build_seconds": round(bm25_build, 1),
        "bm25_postings_mb": round(sum(i.nbytes + w.nbytes for i, w in lexical.postings.values()) / 1e6, 1),
    }
    pairs = [(q, v, lexical_tokens(q)) for q, v in zip(queries, qvecs)]
    parts = {
        "hybrid": lambda qv: index.search_vec(qv[0], qv[1], 10, mode="hybrid"),
        "dense": lambda qv: index.search_vec(qv[0], qv[1], 10, mode="dense"),
        "bm25": lambda qv: index.search_vec(qv[0], qv[1], 10, mode="bm25"),
        "part: faiss search": lambda qv: index.vectors.search(qv[1][None, :], CANDIDATES),
        "part: query tokens": lambda qv: lexical_tokens(qv[0]),
        "part: bm25 scores + top": lambda qv: best(lexical.scores(qv[2]), CANDIDATES),
        "part: bm25 before (add per term, full sort)": lambda qv: np.argsort(-_scores_before(lexical, qv[2])),
    }
    counts = [sum(len(lexical.postings[t][0]) for t in set(tokens) if t in lexical.postings) for _, _, tokens in pairs]
    out["postings_per_query_p50_p99"] = [int(np.percentile(counts, 50)), int(np.percentile(counts, 99))]
    out["latency"] = {name: latencies(fn, pairs) for name, fn in parts.items()}
    return out


def run(embedder, sizes: list[int], qvecs: np.ndarray, queries: list[str], base: np.ndarray) -> dict:
    """`base`: the real KB passage vectors the synthetic ones are grown from."""
    out = {
        "corpus": "synthetic, grown from the real KB (see benchmarks/retrieval/kb_scale.py)",
        "noise_sigma": SIGMA,
        "queries": len(queries),
        "vector_indexes": {},
        "search_path": [],
    }
    for n in sizes:
        vectors = synthetic_vectors(base, 2 * n, np.random.default_rng(SEED))
        out["vector_indexes"][str(n)], hnsw = vector_indexes(vectors, qvecs)
        del vectors
        out["search_path"].append(search_path(n, hnsw, embedder, queries, qvecs))
    return out


def report(res: dict) -> str:
    parts = []
    for n, rows in res["vector_indexes"].items():
        parts.append(
            table(
                [
                    (
                        r["index"],
                        r.get("ef_search", r.get("nprobe", "-")),
                        r["build_seconds"],
                        r["size_mb"],
                        r["recall@10"],
                        r["top1_same"],
                        r["p50_ms"],
                        r["p99_ms"],
                        r["cpu_p99_ms"],
                    )
                    for r in rows
                ],
                (
                    f"{n} articles ({2 * int(n)} passages)",
                    "ef/nprobe",
                    "build s",
                    "MB",
                    "recall@10",
                    "top-1 same",
                    "p50 ms",
                    "p99 ms",
                    "CPU p99 ms",
                ),
            )
        )
    for s in res["search_path"]:
        parts.append(f"BM25 postings per query (p50, p99): {s['postings_per_query_p50_p99']}")
        parts.append(
            table(
                [(name, v["p50_ms"], v["p99_ms"], v["cpu_p99_ms"]) for name, v in s["latency"].items()],
                (f"KB search path, {s['articles']} articles, {s['faiss_index']}", "p50 ms", "p99 ms", "CPU p99 ms"),
            )
        )
    return "\n".join(parts)
