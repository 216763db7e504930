"""Matching benchmark: routing of DIET / matcher / combined, FAQ retrieval vs BM25, index build and search speed.

    make bench-matching        (starts its own stack for the /model/parse part)
    python -m benchmarks.matching.run --url http://127.0.0.1:5005

Held-out data only: benchmarks/data/heldout_requests.yml (routing) and benchmarks/data/faq_queries.jsonl
(retrieval, labelled with knowledge-base article ids). Writes benchmarks/matching/results.json.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

from benchmarks.common import (
    ROOT,
    accuracy_f1,
    command_line,
    decisions,
    heldout,
    percentile,
    rasa_auth,
    running_stack,
    table,
    write_results,
)
from knowledge.config import KnowledgeConfig
from knowledge.embedder import Embedder
from knowledge.faq import BM25Baseline, FaqDoc, FaqIndex
from knowledge.kb import load_articles
from knowledge.service import article_docs
from knowledge.vector_index import VectorIndex

OUT = Path(__file__).resolve().parent / "results.json"
FAQ_QUERIES = ROOT / "benchmarks" / "data" / "faq_queries.jsonl"


def routing(url: str) -> dict:
    items = heldout()
    gold = [it["function"] for it in items]
    with requests.Session() as s:
        parsed = [
            s.post(f"{url}/model/parse", params=rasa_auth(), json={"text": it["text"]}, timeout=30).json()
            for it in items
        ]
    d = decisions(parsed)
    if d["diet_top1"] == d["served_top1"] and set(d["matcher_top1"]) == {"none"}:
        raise RuntimeError("the served model did not call the matcher: is the knowledge service up?")
    served = d["served_with_fallback"]
    in_buttons = sum(
        p == g
        or (
            p == "nlu_fallback"
            and g in [c["name"] for c in r.get("intent_ranking", []) if c["name"] != "nlu_fallback"][:3]
        )
        for p, g, r in zip(served, gold, parsed)
    )
    return {
        "top1_ignoring_fallback": {
            "diet_alone": accuracy_f1(gold, d["diet_top1"]),
            "matcher_alone": accuracy_f1(gold, d["matcher_top1"]),
            "combined_served": accuracy_f1(gold, d["served_top1"]),
        },
        "with_fallback": {
            "diet_alone": {
                **accuracy_f1(gold, d["diet_with_fallback"]),
                "fallback_rate": rate(d["diet_with_fallback"]),
            },
            "combined_served": {
                **accuracy_f1(gold, served),
                "fallback_rate": rate(served),
                "right_or_offered_as_a_button": round(in_buttons / len(served), 4),
            },
        },
    }


def rate(pred: list[str]) -> float:
    return round(pred.count("nlu_fallback") / len(pred), 4)


def ranks(results: list[list[str]], gold: list[str]) -> dict:
    rr, top1, top5 = [], 0, 0
    for ids, g in zip(results, gold):
        pos = ids.index(g) + 1 if g in ids else None
        top1 += pos == 1
        top5 += bool(pos and pos <= 5)
        rr.append(1 / pos if pos and pos <= 10 else 0.0)
    n = len(gold)
    return {"top1": round(top1 / n, 4), "top5": round(top5 / n, 4), "mrr@10": round(sum(rr) / n, 4), "n": n}


def faq_retrieval(embedder: Embedder) -> dict:
    docs = article_docs(load_articles())
    queries = [json.loads(line) for line in FAQ_QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.time()
        index = FaqIndex.open(Path(folder), embedder, docs)
        build = time.time() - t0
    baseline = BM25Baseline(docs)
    gold = [q["article_id"] for q in queries]
    qvecs = embedder.queries([q["query"] for q in queries])
    hybrid = [[d.id for d, _ in index.search_vec(q["query"], v, 10)] for q, v in zip(queries, qvecs)]
    bm25 = [[d.id for d, _ in baseline.search(q["query"], 10)] for q in queries]
    return {
        "articles": len(docs),
        "queries": len(queries),
        "index_build_seconds": round(build, 1),
        "hybrid_matcher": ranks(hybrid, gold),
        "bm25_baseline": ranks(bm25, gold),
    }


def search_speed(embedder: Embedder, sizes: tuple[int, ...], queries: int = 200) -> list[dict]:
    """Search latency over synthetic corpora grown from the real articles (their vectors plus noise)."""
    rng = np.random.default_rng(95598)
    random.seed(95598)
    base = article_docs(load_articles())
    base_vecs = embedder.passages([d.question for d in base])
    qtexts = [json.loads(line)["query"] for line in FAQ_QUERIES.read_text(encoding="utf-8").splitlines()[:queries]]
    qvecs = embedder.queries(qtexts)
    t0 = time.perf_counter()
    for t in qtexts[:50]:
        embedder.queries([t])
    embed_ms = (time.perf_counter() - t0) / 50 * 1000
    out = []
    for n in sizes:
        docs, vecs = [], []
        for i in range(n):
            src = base[i % len(base)]
            mix = base[rng.integers(len(base))]
            docs.append(
                FaqDoc(
                    f"s{i}", src.question + random.choice("，。") + mix.question[:6], src.answer[:120] + mix.answer[:60]
                )
            )
            for _ in docs[-1].passages():
                v = base_vecs[i % len(base)] + rng.normal(0, 0.08, base_vecs.shape[1]).astype(np.float32)
                vecs.append(v / np.linalg.norm(v))
        vectors = np.ascontiguousarray(np.stack(vecs), dtype=np.float32)
        t0 = time.time()
        faiss_index = VectorIndex.build(vectors)
        build = time.time() - t0
        index = FaqIndex(docs, VectorIndex(faiss_index, {"count": faiss_index.ntotal}), embedder)
        lat = []
        for q, v in zip(qtexts, qvecs):
            t0 = time.perf_counter()
            index.search_vec(q, v, 10)
            lat.append((time.perf_counter() - t0) * 1000)
        out.append(
            {
                "articles": n,
                "vectors": int(faiss_index.ntotal),
                "faiss_index": type(faiss_index).__name__,
                "faiss_build_seconds": round(build, 2),
                "search_p50_ms": percentile(lat, 50),
                "search_p99_ms": percentile(lat, 99),
                "query_embedding_ms": round(embed_ms, 1),
            }
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.matching.run")
    p.add_argument("--url", default=None)
    p.add_argument("--sizes", default="10000,100000")
    a = p.parse_args()
    with running_stack(a.url) as url:
        route = routing(url)
    embedder = KnowledgeConfig.from_env().embedder()
    faq = faq_retrieval(embedder)
    speed = search_speed(embedder, tuple(int(x) for x in a.sizes.split(",")))
    results = {"routing_heldout": route, "faq_retrieval": faq, "search_speed": speed}
    write_results(OUT, command_line(), results)
    rows = [
        (f"{mode}: {k}", v["accuracy"], v["macro_f1"], v.get("fallback_rate", "-"))
        for mode, group in route.items()
        for k, v in group.items()
    ]
    print(table(rows, (f"routing, held-out n={len(heldout())}", "accuracy", "macro-F1", "fallback")))
    print(
        table(
            [(k, faq[k]["top1"], faq[k]["top5"], faq[k]["mrr@10"]) for k in ("hybrid_matcher", "bm25_baseline")],
            (f"FAQ retrieval, {faq['queries']} queries / {faq['articles']} articles", "top-1", "top-5", "MRR@10"),
        )
    )
    print(f"KB index build (embed + FAISS): {faq['index_build_seconds']} s")
    print(
        table(
            [
                (s["articles"], s["faiss_index"], s["faiss_build_seconds"], s["search_p50_ms"], s["search_p99_ms"])
                for s in speed
            ],
            ("articles", "index", "build s", "search p50 ms", "search p99 ms"),
        )
    )
    print(f"query embedding: {speed[0]['query_embedding_ms']} ms;  results -> {OUT}")


if __name__ == "__main__":
    main()
