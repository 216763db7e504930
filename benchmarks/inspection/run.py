"""Quality inspection (issue 20) on the labelled contacts nobody on the engine's side has seen.

    python -m benchmarks.inspection.run [--day 1000] [--problem-share 0.15]

1. Rules: precision and recall per rule over benchmarks/inspection/data/contacts_*.yml (written blind: bot and agent,
   chat, WeChat and voice, injected violations of every rule and clean contacts), beside the obvious baseline of
   flagging every contact for every rule (precision = how common the problem is, recall 1).
2. Emotion: accuracy and macro-F1 per customer turn on benchmarks/data/heldout_emotion.yml (written blind), beside
   the majority class.
3. Throughput: contacts per second on one core (process CPU time), rules alone and rules with the emotion model.
4. The seed's measure (seed 004: ~66 s saved per call): a day's sample of contacts, drawn from the labelled set with
   a stated share of problem contacts; a reviewer who listens in random order (the whole contact, plus a decision)
   against one who works the queue (flagged contacts by severity, each heard at the flagged segments only). Listening
   time is simulated from the contacts' durations (voice: call time; chat: reading at 5 characters a second).
The delay after a contact ends is measured on the running worker by benchmarks/inspection/delay.py.
Prints tables; writes benchmarks/inspection/results.json.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import ROOT, accuracy_f1, command_line, table, write_results
from quality.contact import InspectedContact, from_dict
from quality.emotion import EmotionModel
from quality.inspect import Finding, Inspector
from quality.rules import load_rules

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
EMOTION_HELDOUT = ROOT / "benchmarks" / "data" / "heldout_emotion.yml"
DECIDE_SECONDS = 10.0  # a reviewer's verdict once the problem (or its absence) is heard
SEGMENT_SECONDS = 30.0  # heard around each piece of evidence when working from the queue
READ_CHARS_PER_SECOND = 5.0  # reading a chat transcript


@dataclass(frozen=True)
class Labelled:
    contact: InspectedContact
    labels: frozenset[str]


def labelled() -> list[Labelled]:
    out = []
    for path in sorted(DATA.glob("contacts_*.yml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            out.append(Labelled(from_dict(raw), frozenset(raw.get("labels") or [])))
    return out


def per_rule(rule_ids: list[str], gold: list[frozenset[str]], found: list[set[str]]) -> list[dict[str, Any]]:
    rows = []
    for rule in rule_ids:
        tp = sum(rule in g and rule in f for g, f in zip(gold, found))
        fp = sum(rule not in g and rule in f for g, f in zip(gold, found))
        fn = sum(rule in g and rule not in f for g, f in zip(gold, found))
        positives = tp + fn
        rows.append(
            {
                "rule": rule,
                "positives": positives,
                "precision": round(tp / (tp + fp), 3) if tp + fp else None,
                "recall": round(tp / positives, 3) if positives else None,
                "baseline_precision": round(positives / len(gold), 3),  # flag everything
                "fp": fp,
                "fn": fn,
            }
        )
    return rows


def emotion_accuracy(model: EmotionModel) -> dict[str, Any]:
    examples = yaml.safe_load(EMOTION_HELDOUT.read_text(encoding="utf-8"))["examples"]
    gold = [e["label"] for e in examples]
    predicted = model.predict([e["text"] for e in examples])
    majority = Counter(gold).most_common(1)[0][0]
    by_channel = {
        channel: accuracy_f1(
            [g for g, e in zip(gold, examples) if e["channel"] == channel],
            [p for p, e in zip(predicted, examples) if e["channel"] == channel],
        )
        for channel in sorted({e["channel"] for e in examples})
    }
    return {
        "model": accuracy_f1(gold, predicted),
        "majority_class": {**accuracy_f1(gold, [majority] * len(gold)), "label": majority},
        "by_channel": by_channel,
    }


def throughput(contacts: list[InspectedContact], inspector: Inspector, rounds: int = 3) -> float:
    start = time.process_time()
    for _ in range(rounds):
        for c in contacts:
            inspector.inspect(c)
    return round(rounds * len(contacts) / max(time.process_time() - start, 1e-9), 1)


def duration(c: InspectedContact) -> float:
    if c.channel == "voice":
        return max((t.at for t in c.turns), default=0.0)
    return sum(len(t.text) for t in c.turns) / READ_CHARS_PER_SECOND


def queue_seconds(c: InspectedContact, findings: list[Finding]) -> float:
    """Hearing (reading) the flagged segments only, each at most SEGMENT_SECONDS, capped by the whole contact."""
    turns = {e.turn for f in findings for e in f.evidence}
    return min(duration(c), SEGMENT_SECONDS * max(1, len(turns))) + DECIDE_SECONDS


def reviewer_day(
    items: list[Labelled], found: dict[str, list[Finding]], day: int, problem_share: float, seed: int = 7
) -> dict[str, Any]:
    """Time for one reviewer to reach the day's problem contacts: random order against the queue."""
    rng = random.Random(seed)
    problems = [x for x in items if x.labels]
    clean = [x for x in items if not x.labels]
    n_problem = round(day * problem_share)
    sample = rng.choices(problems, k=n_problem) + rng.choices(clean, k=day - n_problem)
    rng.shuffle(sample)
    # random order: every contact heard whole until the last problem contact is reached
    random_times, elapsed, reached = [], 0.0, 0
    for x in sample:
        elapsed += duration(x.contact) + DECIDE_SECONDS
        if x.labels:
            reached += 1
            random_times.append(elapsed)
    # the queue: flagged contacts by top severity, then number of flags; heard at the flagged segments only
    flagged = [x for x in sample if found[x.contact.id]]
    flagged.sort(key=lambda x: (-max(f.severity for f in found[x.contact.id]), -len(found[x.contact.id])))
    queue_times, elapsed = [], 0.0
    for x in flagged:
        elapsed += queue_seconds(x.contact, found[x.contact.id])
        if x.labels:
            queue_times.append(elapsed)
    reached_by_queue = len(queue_times)

    def at_share(times: list[float], share: float) -> float | None:
        k = int(round(share * n_problem))
        return round(times[k - 1] / 3600, 2) if 0 < k <= len(times) else None

    total_random = sum(duration(x.contact) + DECIDE_SECONDS for x in sample)
    total_queue = sum(queue_seconds(x.contact, found[x.contact.id]) for x in flagged)
    return {
        "contacts": day,
        "problem_contacts": n_problem,
        "random_order": {
            "hours_to_half": at_share(random_times, 0.5),
            "hours_to_80pct": at_share(random_times, 0.8),
            "hours_to_all": at_share(random_times, 1.0),
            "hours_whole_day": round(total_random / 3600, 2),
        },
        "queue": {
            "hours_to_half": at_share(queue_times, 0.5),
            "hours_to_80pct": at_share(queue_times, 0.8),
            "problems_reached": reached_by_queue,
            "recall": round(reached_by_queue / n_problem, 3) if n_problem else None,
            "hours_whole_queue": round(total_queue / 3600, 2),
            "contacts_heard": len(flagged),
        },
        "seconds_saved_per_contact": round((total_random - total_queue) / day, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.inspection.run")
    p.add_argument("--day", type=int, default=1000, help="contacts in the simulated day's sample")
    p.add_argument("--problem-share", type=float, default=0.15, help="share of problem contacts in that day")
    a = p.parse_args()
    items = labelled()
    rules = load_rules()
    started = time.perf_counter()
    emotion = EmotionModel.load()
    emotion_load_s = round(time.perf_counter() - started, 2)
    inspector = Inspector(rules, emotion)
    results = {x.contact.id: inspector.inspect(x.contact) for x in items}
    found = {cid: r.findings for cid, r in results.items()}
    rule_ids = [r.id for r in rules.rules]
    rows = per_rule(rule_ids, [x.labels for x in items], [{f.rule_id for f in found[x.contact.id]} for x in items])
    kinds = Counter((x.contact.handled_by, x.contact.channel) for x in items)
    print(f"{len(items)} labelled contacts ({', '.join(f'{h}/{c} {n}' for (h, c), n in sorted(kinds.items()))}),")
    print(f"{sum(1 for x in items if not x.labels)} clean; rules version {rules.version}\n")
    print(
        table(
            [
                (r["rule"], r["positives"], r["precision"], r["recall"], r["fp"], r["fn"], r["baseline_precision"])
                for r in rows
            ],
            ("rule", "positives", "precision", "recall", "FP", "FN", "flag-all precision"),
        )
    )
    emotions = emotion_accuracy(emotion)
    print(f"\nemotion on {emotions['model']['n']} held-out customer turns (model loaded in {emotion_load_s} s)")
    print(
        table(
            [
                ("model", emotions["model"]["accuracy"], emotions["model"]["macro_f1"]),
                (
                    f"majority ({emotions['majority_class']['label']})",
                    emotions["majority_class"]["accuracy"],
                    emotions["majority_class"]["macro_f1"],
                ),
                *[(f"model, {ch}", v["accuracy"], v["macro_f1"]) for ch, v in emotions["by_channel"].items()],
            ],
            ("classifier", "accuracy", "macro-F1"),
        )
    )
    contacts = [x.contact for x in items]
    speed = {
        "rules_only": throughput(contacts, Inspector(rules, use_emotion=False)),
        "rules_and_emotion": throughput(contacts, inspector),
    }
    print("\ninspection throughput, one core (contacts per second of CPU)")
    print(table(list(speed.items()), ("inspector", "contacts/s")))
    day = reviewer_day(items, found, a.day, a.problem_share)
    print(f"\na day's sample: {day['contacts']} contacts, {day['problem_contacts']} with a problem")
    print(
        table(
            [
                (
                    "random order",
                    day["random_order"]["hours_to_half"],
                    day["random_order"]["hours_to_80pct"],
                    day["random_order"]["hours_whole_day"],
                    1.0,
                ),
                (
                    "inspection queue",
                    day["queue"]["hours_to_half"],
                    day["queue"]["hours_to_80pct"],
                    day["queue"]["hours_whole_queue"],
                    day["queue"]["recall"],
                ),
            ],
            ("reviewer", "h to 50% of problems", "h to 80%", "h for the whole list", "problems reached"),
        )
    )
    print(f"saved per contact of the day: {day['seconds_saved_per_contact']} s (seed 004: ~66 s per call)")
    write_results(
        HERE / "results.json",
        command_line(),
        {
            "contacts": len(items),
            "by_kind": {f"{h}/{c}": n for (h, c), n in sorted(kinds.items())},
            "rules_version": rules.version,
            "rules": rows,
            "emotion": {**emotions, "load_seconds": emotion_load_s},
            "throughput_contacts_per_cpu_second": speed,
            "reviewer_day": day,
        },
    )


if __name__ == "__main__":
    main()
