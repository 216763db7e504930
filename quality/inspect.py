"""The inspector: runs every rule of quality/rules.yml over one finished contact and scores it.

Public interface (the pipeline, the console and the reports code against it): `Evidence`, `Finding`, `Result`,
`Inspector(rules, emotion).inspect(contact) -> Result`. One finding per violated rule, with every turn that
shows it as evidence. A contact longer than the rule file's limits is inspected in overlapping parts: each
check reads one part (contact-level facts such as when the identity was verified come from the whole contact),
and the parts' findings are merged per rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from quality.checks import ContactView, Evidence, Finding, Hit
from quality.checks_registry import CHECKS
from quality.contact import InspectedContact
from quality.emotion import EmotionModel
from quality.rules import Limits, Rule, RuleSet, load_rules

__all__ = ["Evidence", "Finding", "Inspector", "Result", "parts_of", "score"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    findings: list[Finding]  # most severe first
    score: float  # 0-100
    emotions: list[str]  # one label per customer turn, in order; empty when inspected without the emotion model
    parts: int  # how many overlapping parts the contact was inspected in (1 unless it is long)


def parts_of(contact: InspectedContact, limits: Limits) -> list[tuple[int, int]]:
    """[start, end) turn ranges: one for a contact within the limits, else windows of at most max_turns turns
    and max_chars characters, each overlapping the previous by overlap_turns turns."""
    turns = contact.turns
    if len(turns) <= limits.max_turns and sum(len(t.text) for t in turns) <= limits.max_chars:
        return [(0, len(turns))]
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end, chars = start, 0
        while end < len(turns) and end - start < limits.max_turns:
            chars += len(turns[end].text)
            if chars > limits.max_chars and end > start:
                break
            end += 1
        windows.append((start, end))
        if end >= len(turns):
            return windows
        start = max(start + 1, end - limits.overlap_turns)


def score(findings: list[Finding], weights: dict[int, int] | None = None) -> float:
    weights = weights or {1: 5, 2: 15, 3: 30}
    return float(max(0, 100 - sum(weights.get(f.severity, 0) for f in findings)))


def _merge(rule: Rule, hits: list[Hit]) -> Finding:
    by_turn: dict[int, Evidence] = {}
    for hit in hits:
        for e in hit.evidence:
            by_turn.setdefault(e.turn, e)
    detail = next((h.detail for h in hits if h.detail), "")
    message = f"{rule.description}：{detail}" if detail else rule.description
    return Finding(rule.id, rule.severity, message, [by_turn[k] for k in sorted(by_turn)])


class Inspector:
    def __init__(
        self, rules: RuleSet | None = None, emotion: EmotionModel | None = None, *, use_emotion: bool = True
    ) -> None:
        """`rules` default to quality/rules.yml and `emotion` to the model trained on the shipped data;
        use_emotion=False inspects without it (emotion_escalation is then not judged)."""
        self.rules = rules or load_rules()
        self.emotion = (emotion or EmotionModel.load()) if use_emotion else None

    def emotions(self, contact: InspectedContact) -> list[str]:
        if self.emotion is None:
            return []
        return self.emotion.predict([t.text for _, t in contact.customer_turns])

    def inspect(self, contact: InspectedContact) -> Result:
        emotions = self.emotions(contact)
        windows = parts_of(contact, self.rules.limits)
        views = [ContactView(contact, start, end, emotions if self.emotion else None) for start, end in windows]
        findings = []
        for rule in self.rules.rules:
            check = CHECKS[rule.check]
            hits = []
            for view in views:
                try:
                    hit = check.run(view, rule.params)
                except Exception:  # noqa: BLE001 - one broken check must not lose the other rules' findings
                    log.exception("quality rule %s failed on contact %s", rule.id, contact.id)
                    continue
                if hit is not None:
                    hits.append(hit)
            if hits:
                findings.append(_merge(rule, hits))
        findings.sort(key=lambda f: -f.severity)
        return Result(findings, score(findings, dict(self.rules.weights)), emotions, len(windows))
