"""Helpers shared by the benchmarks: held-out data, metrics, a stack to measure, result files."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "benchmarks" / "data" / "heldout_requests.yml"


def heldout() -> list[dict]:
    return yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))


def accuracy_f1(gold: list[str], pred: list[str]) -> dict:
    labels = sorted(set(gold))
    f1s = []
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, pred))
        fp = sum(p == label and g != label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    acc = sum(g == p for g, p in zip(gold, pred)) / len(gold)
    return {"accuracy": round(acc, 4), "macro_f1": round(sum(f1s) / len(f1s), 4), "n": len(gold)}


def confusions(gold: list[str], pred: list[str], top: int = 15) -> list[dict]:
    pairs = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    return [{"gold": g, "predicted": p, "count": n} for (g, p), n in pairs.most_common(top)]


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))], 1) if s else 0.0


@contextlib.contextmanager
def running_stack(url: str | None):
    """Yields the Rasa base URL: the given one, or a fresh stack on free ports with a scratch database."""
    if url:
        yield url
        return
    from scripts.stack import Stack, ensure_model, free_port
    with tempfile.TemporaryDirectory() as var:
        stack = Stack(var=Path(var), rasa_port=free_port(), action_port=free_port(), knowledge_port=free_port())
        try:
            stack.start(ensure_model())
            stack.wait_ready()
            yield stack.rasa_url
        finally:
            stack.stop()


def command_line() -> str:
    """The command that produced a result file, as a newcomer would type it."""
    module = Path(sys.argv[0]).resolve().relative_to(ROOT).with_suffix("")
    return " ".join(["python -m", ".".join(module.parts), *sys.argv[1:]])


def write_results(path: Path, command: str, results: dict) -> None:
    meta = {"command": command, "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    path.write_text(json.dumps({**meta, **results}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])
