"""What every check shares: the evidence it returns, the view of the contact it reads, and small helpers.

A check is a function `(view, params) -> Hit | None`: `view` is the part of the contact being inspected (the
whole contact unless it is too long, see quality.inspect) with the whole contact at hand for context (when the
identity was verified, whether an urgent event followed), `params` the rule's parameters from rules.yml, already
checked and compiled by quality.rules. The checks themselves live in checks_words.py (what was said) and
checks_flow.py (times, outcomes), checks_repeats.py (repeats); checks_registry.py names them for rules.yml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from quality.contact import InspectedContact, Turn

SERVERS = ("bot", "agent")


@dataclass(frozen=True)
class Evidence:
    """One turn that shows a finding: `turn` indexes contact.turns, `spans` are character ranges of `text` to
    highlight (empty for system events and for evidence that is the whole turn)."""

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
class Hit:
    """What a check found: a detail for the message (may be empty) and the evidence."""

    detail: str
    evidence: list[Evidence]


@dataclass(frozen=True)
class ContactView:
    """Turns [start, end) of `contact` are inspected; `emotions` has one label per customer turn of the whole
    contact (None without the emotion model)."""

    contact: InspectedContact
    start: int = 0
    end: int | None = None
    emotions: list[str] | None = None

    @property
    def stop(self) -> int:
        return len(self.contact.turns) if self.end is None else self.end

    @property
    def is_last(self) -> bool:
        """The part that ends the contact: contact-level rules (closing, outcome) report here only."""
        return self.stop >= len(self.contact.turns)

    def window(self) -> list[tuple[int, Turn]]:
        return list(enumerate(self.contact.turns))[self.start : self.stop]

    def holds(self, i: int) -> bool:
        return self.start <= i < self.stop


def evidence(contact: InspectedContact, i: int, spans: Iterable[tuple[int, int]] = ()) -> Evidence:
    turn = contact.turns[i]
    return Evidence(turn=i, who=turn.who, text=turn.text, at=turn.at, spans=list(spans))


def spans_of(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]


def order_key(contact: InspectedContact, i: int) -> tuple[float, int]:
    """Turns are compared by time, then by position: system events may be listed out of time order."""
    return (contact.turns[i].at, i)


def events(contact: InspectedContact, name: str) -> list[int]:
    """Indices of the system events called `name`, in time order."""
    found = [i for i, t in enumerate(contact.turns) if t.who == "system" and t.event == name]
    return sorted(found, key=lambda i: order_key(contact, i))


def agent_joined_at(contact: InspectedContact) -> tuple[float, int] | None:
    joined = events(contact, "agent_joined")
    if joined:
        return order_key(contact, joined[0])
    agent_turns = [i for i, t in enumerate(contact.turns) if t.who == "agent"]
    return order_key(contact, agent_turns[0]) if agent_turns else None


def hold_intervals(contact: InspectedContact) -> list[tuple[int, float, float]]:
    """(hold_start index, start, end) of each hold; one never ended lasts to the contact's last turn."""
    ends = [contact.turns[i].at for i in events(contact, "hold_end")]
    last = max((t.at for t in contact.turns), default=0.0)
    intervals = []
    for i in events(contact, "hold_start"):
        start = contact.turns[i].at
        end = next((e for e in ends if e >= start), last)
        intervals.append((i, start, end))
    return intervals


def time_off_hold(contact: InspectedContact, start: float, end: float) -> float:
    """Seconds of [start, end] the customer was not on hold."""
    held = 0.0
    for _, hold_start, hold_end in hold_intervals(contact):
        held += max(0.0, min(end, hold_end) - max(start, hold_start))
    return max(0.0, (end - start) - held)
