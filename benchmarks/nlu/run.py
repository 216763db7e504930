"""NLU benchmark: held-out intent accuracy / macro-F1 via /model/parse, and REST turn latency under load.

    make bench-nlu                       (starts its own stack)
    python -m benchmarks.nlu.run --url http://127.0.0.1:5005   (measure a running one)

Writes benchmarks/nlu/results.json. The held-out file is never used for training, synonyms or tuning.
"""

from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from benchmarks.common import (
    accuracy_f1,
    command_line,
    confusions,
    decisions,
    heldout,
    percentile,
    rasa_auth,
    running_stack,
    table,
    write_results,
)

OUT = Path(__file__).resolve().parent / "results.json"
FLOW = ["我家停电了", "城东区和平路12号3单元501室", "没有", "13912340001", "谢谢", "怎么交电费", "再见"]


def parse_all(url: str, items: list[dict]) -> list[dict]:
    with requests.Session() as s:
        return [
            s.post(f"{url}/model/parse", params=rasa_auth(), json={"text": it["text"]}, timeout=30).json()
            for it in items
        ]


def conversation_latencies(url: str, rounds: int) -> list[float]:
    times = []
    with requests.Session() as s:
        for _ in range(rounds):
            sender = f"bench-{uuid.uuid4().hex[:8]}"
            for text in FLOW:
                t0 = time.perf_counter()
                r = s.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
                r.raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.nlu.run")
    p.add_argument("--url", default=None, help="a running Rasa server (default: start one)")
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3, help="conversations per concurrent client")
    a = p.parse_args()
    items = heldout()
    with running_stack(a.url) as url:
        t0 = time.time()
        parsed = parse_all(url, items)
        parse_seconds = time.time() - t0
        gold = [it["function"] for it in items]
        d = decisions(parsed)
        served = d["served_with_fallback"]
        conversation_latencies(url, 1)  # warm-up
        with ThreadPoolExecutor(a.concurrency) as pool:
            t0 = time.time()
            lat = [
                x
                for batch in pool.map(lambda _: conversation_latencies(url, a.rounds), range(a.concurrency))
                for x in batch
            ]
            wall = time.time() - t0
    styles = sorted({it["style"] for it in items})
    by_style = {
        s: accuracy_f1(
            [g for g, it in zip(gold, items) if it["style"] == s],
            [p for p, it in zip(served, items) if it["style"] == s],
        )["accuracy"]
        for s in styles
    }
    results = {
        "heldout_file": "benchmarks/data/heldout_requests.yml",
        "served": {**accuracy_f1(gold, served), "fallback_rate": round(served.count("nlu_fallback") / len(served), 4)},
        "diet_alone_same_threshold": {
            **accuracy_f1(gold, d["diet_with_fallback"]),
            "fallback_rate": round(d["diet_with_fallback"].count("nlu_fallback") / len(gold), 4),
        },
        "top1_ignoring_fallback": {
            "served": accuracy_f1(gold, d["served_top1"]),
            "diet_alone": accuracy_f1(gold, d["diet_top1"]),
        },
        "accuracy_by_style": by_style,
        "confusions": confusions(gold, served),
        "parse_ms_mean": round(parse_seconds / len(items) * 1000, 1),
        "rest_turn_latency_ms": {
            "concurrent_conversations": a.concurrency,
            "turns": len(lat),
            "p50": percentile(lat, 50),
            "p95": percentile(lat, 95),
            "p99": percentile(lat, 99),
            "turns_per_second": round(len(lat) / wall, 1),
        },
    }
    write_results(OUT, command_line(), results)
    top1 = results["top1_ignoring_fallback"]
    print(
        table(
            [
                ("served (/model/parse), with fallback", results["served"]["accuracy"], results["served"]["macro_f1"]),
                (
                    "DIET alone, same fallback threshold",
                    results["diet_alone_same_threshold"]["accuracy"],
                    results["diet_alone_same_threshold"]["macro_f1"],
                ),
                ("served, top-1 ignoring fallback", top1["served"]["accuracy"], top1["served"]["macro_f1"]),
                ("DIET alone, top-1", top1["diet_alone"]["accuracy"], top1["diet_alone"]["macro_f1"]),
            ],
            (f"held-out (n={len(items)})", "accuracy", "macro-F1"),
        )
    )
    print(table(list(by_style.items()), ("style", "accuracy")))
    lt = results["rest_turn_latency_ms"]
    print(
        f"REST turn latency with {a.concurrency} concurrent conversations: p50 {lt['p50']} ms, p95 {lt['p95']} ms, "
        f"p99 {lt['p99']} ms, {lt['turns_per_second']} turns/s"
    )
    print(
        table(
            [(c["gold"], c["predicted"], c["count"]) for c in results["confusions"][:10]],
            ("gold", "predicted", "count"),
        )
    )
    print(f"results -> {OUT}")


if __name__ == "__main__":
    main()
