"""Command line of the knowledge package.

python -m knowledge index  --faq FILE.jsonl --out DIR
python -m knowledge search --index DIR (--query TEXT | --queries FILE.jsonl) [--top-k K] [--json]
                           [--mode hybrid|dense|bm25]
python -m knowledge match  TEXT [--top-k K]
python -m knowledge serve  [--port 5056]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from backend.pii import install_log_masking
from knowledge.fusion import MODES


def _config():
    from knowledge.config import KnowledgeConfig

    return KnowledgeConfig.from_env()


def _embedder():
    return _config().embedder()


def cmd_index(a) -> int:
    from knowledge.faq import FaqIndex, read_faq

    t0 = time.time()
    index = FaqIndex.open(a.out, _embedder(), read_faq(a.faq))
    state = "built" if index.rebuilt else "unchanged, reused"
    print(
        f"{len(index.docs)} entries, {index.vectors.index.ntotal} passages, {state} "
        f"in {time.time() - t0:.1f}s -> {a.out}",
        file=sys.stderr,
    )
    return 0


def _queries(a) -> list[dict]:
    if a.query is not None:
        return [{"query": a.query}]
    rows = []
    for n, line in enumerate(Path(a.queries).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("query", row.get("question")), str):
                raise ValueError(f'{a.queries}:{n}: expected {{"query": TEXT}}')
            rows.append({**row, "query": row.get("query", row.get("question"))})
    return rows


def cmd_search(a) -> int:
    """Searches every query; queries are embedded in batches (FaqIndex.search_many), results printed per batch."""
    from knowledge.faq import QUERY_BATCH, FaqIndex

    index = FaqIndex.open(a.index, _embedder(), mode=a.mode)
    rows = _queries(a)
    for start in range(0, len(rows), QUERY_BATCH):
        batch = rows[start : start + QUERY_BATCH]
        for row, hits in zip(batch, index.search_many([r["query"] for r in batch], a.top_k)):
            if a.json:
                out = {**row, "results": [{"id": d.id, "score": round(s, 4)} for d, s in hits]}
                print(json.dumps(out, ensure_ascii=False))
            else:
                print(row["query"])
                for rank, (d, s) in enumerate(hits, 1):
                    print(f"  {rank}. [{d.id}] {s:.3f}  {d.question}")
    return 0


def cmd_match(a) -> int:
    from knowledge.service import Knowledge

    cfg = _config()
    k = Knowledge.load(cfg.index_dir, cfg.embedder())
    print(json.dumps(k.match(a.text, a.top_k), ensure_ascii=False, indent=1))
    return 0


def cmd_serve(a) -> int:
    from aiohttp import web

    from backend.settings import refuse_unsafe
    from knowledge.service import create_app

    refuse_unsafe("knowledge")
    web.run_app(create_app(_config()), host=a.host, port=a.port, print=lambda *_: None)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    p = argparse.ArgumentParser(prog="python -m knowledge")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("index", help="build (or reuse) a retrieval index over a FAQ jsonl file")
    s.add_argument("--faq", type=Path, required=True)
    s.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("search", help="query an index built by `index`")
    s.add_argument("--index", type=Path, required=True)
    q = s.add_mutually_exclusive_group(required=True)
    q.add_argument("--query")
    q.add_argument("--queries", type=Path)
    s.add_argument("--top-k", type=int, default=10)
    s.add_argument("--json", action="store_true")
    s.add_argument(
        "--mode",
        choices=MODES,
        default="hybrid",
        help="hybrid (default): dense and BM25 fused; dense: embeddings only; bm25: lexical only",
    )
    s = sub.add_parser("match", help="which service functions a request matches")
    s.add_argument("text")
    s.add_argument("--top-k", type=int, default=3)
    s = sub.add_parser("serve", help="run the knowledge HTTP service")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5056)
    a = p.parse_args(argv)
    try:
        return {"index": cmd_index, "search": cmd_search, "match": cmd_match, "serve": cmd_serve}[a.command](a)
    except (ValueError, FileNotFoundError, RuntimeError) as e:  # ConfigError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
