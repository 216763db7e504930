"""Routing on a held-out file: served accuracy, out_of_scope precision / recall, accuracy by style.

    python -m benchmarks.nlu.routing --url http://127.0.0.1:5005 \
        --heldout benchmarks/data/heldout_fresh.yml --label after

Adds one labelled row per held-out file to benchmarks/nlu/routing_results.json (before/after a data change
are kept side by side). The held-out files are never used for training, synonyms or tuning.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from benchmarks.common import ROOT, accuracy_f1, command_line, confusions, decisions, running_stack, table
from benchmarks.nlu.run import parse_all

OUT = Path(__file__).resolve().parent / "routing_results.json"
OOS = "out_of_scope"


def oos_scores(gold: list[str], pred: list[str]) -> dict:
    tp = sum(g == p == OOS for g, p in zip(gold, pred))
    predicted = sum(p == OOS for p in pred)
    actual = sum(g == OOS for g in gold)
    return {
        "precision": round(tp / predicted, 4) if predicted else 0.0,
        "recall": round(tp / actual, 4) if actual else 0.0,
        "predicted": predicted,
        "actual": actual,
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.nlu.routing")
    p.add_argument("--url", default=None)
    p.add_argument("--heldout", default="benchmarks/data/heldout_fresh.yml")
    p.add_argument("--label", default="current")
    a = p.parse_args()
    items = yaml.safe_load((ROOT / a.heldout).read_text(encoding="utf-8"))
    with running_stack(a.url) as url:
        parsed = parse_all(url, items)
    gold = [it["function"] for it in items]
    d = decisions(parsed)
    served = d["served_with_fallback"]
    styles = sorted({it.get("style", "") for it in items})
    row = {
        "label": a.label,
        "heldout": a.heldout,
        "n": len(items),
        "served": {**accuracy_f1(gold, served), "fallback_rate": round(served.count("nlu_fallback") / len(served), 4)},
        "top1_ignoring_fallback": accuracy_f1(gold, d["served_top1"]),
        "diet_alone_top1": accuracy_f1(gold, d["diet_top1"]),
        "out_of_scope": oos_scores(gold, served),
        "accuracy_by_style": {
            s: accuracy_f1(
                [g for g, it in zip(gold, items) if it.get("style", "") == s],
                [x for x, it in zip(served, items) if it.get("style", "") == s],
            )["accuracy"]
            for s in styles
        },
        "confusions": confusions(gold, served, top=20),
        "command": command_line(),
    }
    rows = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else []
    rows = [r for r in rows if (r["label"], r["heldout"]) != (a.label, a.heldout)] + [row]
    OUT.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        table(
            [
                (
                    r["label"],
                    r["heldout"].split("/")[-1],
                    r["n"],
                    r["served"]["accuracy"],
                    r["top1_ignoring_fallback"]["accuracy"],
                    r["diet_alone_top1"]["accuracy"],
                    r["out_of_scope"]["precision"],
                    r["out_of_scope"]["recall"],
                )
                for r in rows
            ],
            ("label", "held-out", "n", "served acc", "top-1", "DIET top-1", "OOS precision", "OOS recall"),
        )
    )
    print(table([(s, v) for s, v in row["accuracy_by_style"].items()], ("style", "accuracy")))
    print(
        table([(c["gold"], c["predicted"], c["count"]) for c in row["confusions"][:12]], ("gold", "predicted", "count"))
    )


if __name__ == "__main__":
    main()
