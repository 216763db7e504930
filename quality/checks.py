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


CN_DIGITS = {"零": 0, "〇": 0, "幺": 1, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
MAX_NUMERALS = 20
CN_NUMBER = re.compile(r"[零〇幺一二两三四五六七八九十][零〇幺一二两三四五六七八九十百千万]*(?=([月号日元块度年])?)")


def chinese_value(numerals: str) -> int:
    """一百三十 → 130, 十一 → 11, 一百二 → 120 (the spoken short form), 三二零一 → 3201."""
    if not any(c in CN_UNITS for c in numerals):
        return int("".join(str(CN_DIGITS[c]) for c in numerals))
    total, section, digit, last_unit = 0, 0, None, 1
    for c in numerals:
        if c in CN_DIGITS:
            digit = CN_DIGITS[c]
        elif c == "万":
            total += (section + (digit or 0)) * 10000
            section, digit, last_unit = 0, None, 10000
        else:
            section += (1 if digit is None else digit) * CN_UNITS[c]
            digit, last_unit = None, CN_UNITS[c]
    if digit is not None:
        section += digit * (last_unit // 10 if last_unit >= 100 and numerals[-2] not in "零〇" else 1)
    return total + section


def with_digits(text: str) -> str:
    """Chinese numbers as digits where they are numbers: with a unit (十, 百…), three or more digits, or before
    月/号/元/度…, so 一下, 一个 and 万一 stay words."""

    def number(m: re.Match[str]) -> str:
        numerals = m.group(0)
        if len(numerals) > MAX_NUMERALS:  # a run of pasted characters, not a number
            return numerals
        if len(numerals) >= 3 or m.group(1) or any(c in CN_UNITS for c in numerals):
            return str(chinese_value(numerals))
        return numerals

    return CN_NUMBER.sub(number, text)
