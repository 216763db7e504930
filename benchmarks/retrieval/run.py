"""Retrieval benchmark: dense-only, BM25-only and hybrid from the same index, on our KB set and on an external
FAQ set; the FAQ CLI's throughput; KB search at scale (kb_scale.py).

    python -m benchmarks.retrieval.run [--sizes 100000] [--skip-scale]

Sets:
- KB: benchmarks/data/faq_queries.jsonl (375 held-out queries labelled with article ids) against the 175
  articles of knowledge/kb. The fusion method and weight were chosen here, and only here: the comparison
  they were chosen from is printed and kept in results.json ("fusion_choice_kb").
- External: Chinese InsuranceQA FAQs and paraphrases from the PyPI package insuranceqa-data 1.0 (GPL-3.0,
  converted by benchmarks/retrieval/insuranceqa.py into the cache). Measured only: nothing is chosen on it.

Metrics: top-1, top-3 and MRR@10 (a query may have several correct ids; the first correct hit counts).
Writes benchmarks/retrieval/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT, command_line, table, write_results
from benchmarks.retrieval import insuranceqa, kb_scale
from knowledge.config import KnowledgeConfig
from knowledge.embedder import Embedder
from knowledge.faq import FaqIndex, read_faq
from knowledge.fusion import DENSE_WEIGHT, MODES, rrf_fusion, zscore_fusion
from knowledge.kb import load_articles
from knowledge.service import article_docs, default_index_dir

OUT = Path(__file__).resolve().parent / "results.json"
KB_QUERIES = ROOT / "benchmarks" / "data" / "faq_queries.jsonl"


def maxnorm_fusion(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """The fusion before issue 14: 0.65 x cosine + 0.35 x BM25 / its maximum (kept for the comparison)."""
    return 0.65 * dense + 0.35 * lexical / max(float(lexical.max()), 1e-9)


FUSIONS = {
    **{f"z-score, dense weight {w}": partial(zscore_fusion, dense_weight=w) for w in (0.5, 0.6, 0.7, 0.8, 0.9)},
    "reciprocal rank (k=60)": rrf_fusion,
    "before: 0.65 cos + 0.35 BM25/max": maxnorm_fusion,
}


def ranks(results: list[list[str]], gold: list[set[str]]) -> dict:
    positions = [next((n for n, i in enumerate(ids, 1) if i in g), None) for ids, g in zip(results, gold)]
    n = len(gold)
    return {
        "top1": round(sum(p == 1 for p in positions) / n, 4),
        "top3": round(sum(bool(p and p <= 3) for p in positions) / n, 4),
        "mrr@10": round(sum(1 / p for p in positions if p and p <= 10) / n, 4),
        "n": n,
    }


def evaluate(index: FaqIndex, queries: list[str], qvecs: np.ndarray, gold: list[set[str]], mode: str) -> dict:
    return ranks([[d.id for d, _ in index.search_vec(q, v, 10, mode=mode)] for q, v in zip(queries, qvecs)], gold)


def open_set(embedder: Embedder, name: str, docs, folder: Path) -> FaqIndex:
    t0 = time.time()
    index = FaqIndex.open(folder, embedder, docs)
    print(
        f"{name}: {len(docs)} entries, {index.vectors.index.ntotal} passages, "
        f"{'built' if index.rebuilt else 'reused'} in {time.time() - t0:.0f} s",
        file=sys.stderr,
    )
    return index


def measure_set(index: FaqIndex, rows: list[dict], embedder: Embedder) -> tuple[dict, np.ndarray]:
    queries = [r["query"] for r in rows]
    gold = [set(r["ids"]) for r in rows]
    t0 = time.perf_counter()
    qvecs = embedder.queries(queries)
    embed_s = time.perf_counter() - t0
    out = {mode: evaluate(index, queries, qvecs, gold, mode) for mode in ("dense", "bm25", "hybrid")}
    out["entries"], out["queries"] = len(index.docs), len(rows)
    out["query_embedding_per_s"] = round(len(queries) / embed_s, 1)
    return out, qvecs


def fusion_choice(index: FaqIndex, rows: list[dict], qvecs: np.ndarray) -> dict:
    """Every fusion considered, on the KB set only; knowledge.fusion's default is the one with the best MRR@10."""
    out = {}
    try:
        for name, fuse in FUSIONS.items():
            index.fuse = fuse
            out[name] = evaluate(index, [r["query"] for r in rows], qvecs, [set(r["ids"]) for r in rows], "hybrid")
    finally:
        index.fuse = zscore_fusion
    return out


def cli_speed(index_dir: Path, queries: list[str]) -> dict:
    """`python -m knowledge search --queries FILE --json` end to end (process start, model load, index load,
    batched embedding, search, output), and with the start-up (a one-query run) taken out."""

    def run(texts: list[str]) -> float:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as f:
            f.write("".join(json.dumps({"query": t}, ensure_ascii=False) + "\n" for t in texts))
        t0 = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "knowledge",
                "search",
                "--index",
                str(index_dir),
                "--queries",
                f.name,
                "--json",
                "--top-k",
                "10",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        elapsed = time.perf_counter() - t0
        os.unlink(f.name)
        if done.returncode != 0 or len(done.stdout.splitlines()) != len(texts):
            raise RuntimeError(f"CLI search failed: {done.stderr[-500:]}")
        return elapsed

    run(queries[:1])  # first start writes the BM25 token cache next to the index (as `index` would)
    one, everything = run(queries[:1]), run(queries)
    return {
        "queries": len(queries),
        "wall_seconds": round(everything, 1),
        "startup_seconds": round(one, 1),
        "queries_per_s_end_to_end": round(len(queries) / everything, 1),
        "queries_per_s_after_startup": round((len(queries) - 1) / max(everything - one, 1e-9), 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.retrieval.run")
    p.add_argument("--sizes", default="100000", help="KB sizes (articles) for the scale section")
    p.add_argument("--skip-scale", action="store_true")
    a = p.parse_args()
    embedder = KnowledgeConfig.from_env().embedder()
    cache = default_index_dir().parent / "bench-indexes" / embedder.name

    kb_rows = [json.loads(line) for line in KB_QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    kb_rows = [{"query": r["query"], "ids": [r["article_id"]]} for r in kb_rows]
    kb_index = open_set(embedder, "KB", article_docs(load_articles()), cache / "kb")
    kb, kb_qvecs = measure_set(kb_index, kb_rows, embedder)
    choice = fusion_choice(kb_index, kb_rows, kb_qvecs)

    faq_path, queries_path = insuranceqa.prepare()
    ext_rows = [json.loads(line) for line in queries_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    ext_index = open_set(embedder, "InsuranceQA", read_faq(faq_path), cache / "insuranceqa")
    ext, _ = measure_set(ext_index, ext_rows, embedder)
    ext["source"] = insuranceqa.SOURCE

    # ~2,900 distinct real questions (paraphrases of both sets, then the FAQ questions), as in issue 14's 3,000
    cli = cli_speed(
        cache / "insuranceqa",
        [r["query"] for r in ext_rows] + [r["query"] for r in kb_rows] + [d.question for d in ext_index.docs],
    )
    results = {
        "embedder": embedder.name,
        "fusion": {
            "method": "z-score per signal over the query's candidates, then weighted",
            "dense_weight": DENSE_WEIGHT,
            "modes": list(MODES),
        },
        "kb": kb,
        "external_insuranceqa": ext,
        "fusion_choice_kb": choice,
        "faq_cli": cli,
    }
    if not a.skip_scale:
        base = kb_index.vectors.reconstruct(np.arange(kb_index.vectors.index.ntotal))
        results["kb_scale"] = kb_scale.run(
            embedder, [int(x) for x in a.sizes.split(",")], kb_qvecs, [r["query"] for r in kb_rows], base
        )
    write_results(OUT, command_line(), results)

    rows = [
        (f"{name}: {mode}", s[mode]["top1"], s[mode]["top3"], s[mode]["mrr@10"])
        for name, s in (("KB", kb), ("InsuranceQA", ext))
        for mode in ("dense", "bm25", "hybrid")
    ]
    print(
        table(
            rows,
            (
                f"retrieval (KB {kb['queries']} q / {kb['entries']} articles; InsuranceQA "
                f"{ext['queries']} q / {ext['entries']} FAQs)",
                "top-1",
                "top-3",
                "MRR@10",
            ),
        )
    )
    print(
        table(
            [(k, v["top1"], v["top3"], v["mrr@10"]) for k, v in choice.items()],
            ("hybrid fusion, KB set (chosen here)", "top-1", "top-3", "MRR@10"),
        )
    )
    print(
        f"FAQ CLI: {cli['queries_per_s_end_to_end']} queries/s end to end ({cli['queries']} queries, "
        f"{cli['wall_seconds']} s), {cli['queries_per_s_after_startup']} queries/s after start-up"
    )
    if "kb_scale" in results:
        print(kb_scale.report(results["kb_scale"]))
    print(f"results -> {OUT}")


if __name__ == "__main__":
    main()
