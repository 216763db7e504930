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


def rasa_auth() -> dict:
    """Query parameters for Rasa's HTTP API: the token from the environment or from `make run`'s var/secrets.env."""
    from backend.settings import rasa_token

    token = rasa_token()
    return {"token": token} if token else {}


@contextlib.contextmanager
def running_stack(url: str | None, db_url: str | None = None):
    """Yields the Rasa base URL: the given one, or a fresh stack on free ports with a scratch database
    (`db_url`: that back-end database instead, seeded if empty)."""
    if url:
        yield url
        return
    from scripts.stack import Stack, ensure_model, free_port

    with tempfile.TemporaryDirectory() as var:
        stack = Stack(
            var=Path(var), rasa_port=free_port(), action_port=free_port(), knowledge_port=free_port(), db_url=db_url
        )
        try:
            stack.start(ensure_model())
            stack.wait_ready()
            os.environ["P95598_RASA_TOKEN"] = stack.rasa_token
            yield stack.rasa_url
        finally:
            stack.stop()


def names(listed: str) -> tuple[str, ...]:
    """A comma-separated option ("analytics,notices") as its names, blanks dropped."""
    return tuple(n for n in listed.split(",") if n)


def command_line() -> str:
    """The command that produced a result file, as a newcomer would type it."""
    module = Path(sys.argv[0]).resolve().relative_to(ROOT).with_suffix("")
    return " ".join(["python -m", ".".join(module.parts), *sys.argv[1:]])


def write_results(path: Path, command: str, results: dict) -> None:
    meta = {
        "command": command,
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    path.write_text(json.dumps({**meta, **results}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def fallback_threshold() -> float:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    return next(float(c.get("threshold", 0.3)) for c in config["pipeline"] if c["name"] == "FallbackClassifier")


def decisions(parsed: list[dict]) -> dict[str, list[str]]:
    """Like-for-like predictions from /model/parse answers.

    `*_top1`: the best service function or dialogue act, ignoring the fallback (routing quality);
    `*_with_fallback`: what the customer gets, where low confidence becomes a clarification (nlu_fallback).
    DIET's own answer is `diet_intent` (recorded before the matcher); the same threshold is applied to it."""
    threshold = fallback_threshold()
    out: dict[str, list[str]] = {
        k: [] for k in ("served_with_fallback", "served_top1", "diet_with_fallback", "diet_top1", "matcher_top1")
    }
    for r in parsed:
        ranking = [c["name"] for c in r.get("intent_ranking") or [] if c["name"] != "nlu_fallback"]
        diet = r.get("diet_intent") or r["intent"]
        out["served_with_fallback"].append(r["intent"]["name"])
        out["served_top1"].append(ranking[0] if ranking else r["intent"]["name"])
        out["diet_top1"].append(diet["name"])
        out["diet_with_fallback"].append(diet["name"] if diet.get("confidence", 0) >= threshold else "nlu_fallback")
        top = (r.get("matcher") or {}).get("functions") or [{"function": "none"}]
        out["matcher_top1"].append(top[0]["function"])
    return out


@contextlib.contextmanager
def scratch_postgres():
    """Yields the URL of a new database on the machine's PostgreSQL (127.0.0.1:5432), dropped afterwards."""
    from sqlalchemy import text

    from tests.conftest import _postgres_url

    admin, name, url = _postgres_url()
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
