"""Checks on the shape of the contact: repeats, silences and holds, transfers, slow agent replies, emotion."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from quality.checks import (
    ContactView,
    Hit,
    agent_joined_at,
    events,
    evidence,
    hold_intervals,
    order_key,
    time_off_hold,
)

NOT_WORD = re.compile(r"[^\w]|_", re.UNICODE)
DIGITS = re.compile(r"\d+")
CONTAINED_SHARE = 0.6  # "转人工" inside "我要转人工" is the same request; a short prompt inside a long answer is not


def normalised(text: str, fillers: tuple[str, ...]) -> str:
    """Width, case, punctuation and filler words (喂, 嗯, 那个…) removed: what is left is what was asked."""
    text = NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())
    for filler in sorted(fillers, key=len, reverse=True):
        text = text.replace(filler, "")
    return text


@dataclass(frozen=True)
class Said:
    """A normalised turn with what the similarity needs precomputed (a contact's turns are compared pairwise)."""

    turn: int
    text: str
    numbers: tuple[str, ...]
    bigrams: frozenset[str]
    chars: Counter[str]

    @classmethod
    def of(cls, turn: int, text: str) -> Said:
        bigrams = frozenset(text[k : k + 2] for k in range(len(text) - 1)) or frozenset({text})
        return cls(turn, text, tuple(DIGITS.findall(text)), bigrams, Counter(text))


def similar(a: Said, b: Said, threshold: float) -> bool:
    """Near-identical wording: the same numbers (another month's bill is another request), and one contains the
    other (being most of it), or the character bigrams (Dice) or the aligned characters (difflib's ratio, which
    sees 我家停电了 ~ 我家没电了) agree at least `threshold`."""
    if a.text == b.text:
        return True
    if a.numbers != b.numbers:
        return False
    short, long = sorted((a.text, b.text), key=len)
    if short in long and len(short) >= CONTAINED_SHARE * len(long):
        return True
    total = len(a.text) + len(b.text)
    if 2 * len(a.bigrams & b.bigrams) / (len(a.bigrams) + len(b.bigrams)) >= threshold:
        return True
    # difflib's ratio is bounded by the shared characters: skip the alignment when even that bound is too low
    if 2 * sum((a.chars & b.chars).values()) / total < threshold:
        return False
    return SequenceMatcher(None, a.text, b.text, autojunk=False).ratio() >= threshold


def repeated_turns(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    """The largest group of turns by `who` that are near-identical to one of them, when it has `times` turns.
    Turns that are only answers (好的, 对对对) or shorter than min_chars request nothing and are left out."""
    fillers, answers = tuple(params["fillers"]), tuple(params["answers"])
    said = [
        Said.of(i, text)
        for i, t in view.window()
        if t.who == params["who"]
        and len(text := normalised(t.text, fillers)) >= params["min_chars"]
        and normalised(text, answers)
    ]
    if len(said) < params["times"]:
        return None
    groups: list[list[int]] = [[s.turn] for s in said]
    for x in range(len(said)):
        for y in range(x + 1, len(said)):
            if similar(said[x], said[y], params["similarity"]):
                groups[x].append(said[y].turn)
                groups[y].append(said[x].turn)
    best: list[int] = []
    for group in groups:
        if len(group) > len(best):
            best = sorted(group)
    if len(best) < params["times"]:
        return None
    return Hit(f"{len(best)}次", [evidence(view.contact, i) for i in best])


def _queue_intervals(view: ContactView) -> list[tuple[float, float]]:
    """Waiting for an agent (transferred → agent_joined): the queue's own announcements play, not silence."""
    contact = view.contact
    joined = [contact.turns[i].at for i in events(contact, "agent_joined")]
    spans = []
    for i in events(contact, "transferred"):
        start = contact.turns[i].at
        end = next((j for j in joined if j >= start), None)
        if end is not None:
            spans.append((start, end))
    return spans


def silence_and_hold(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    contact = view.contact
    if contact.channel not in params["channels"]:
        return None
    spoken = sorted((i for i, t in view.window() if t.who != "system"), key=lambda i: order_key(contact, i))
    queue = _queue_intervals(view)
    found = []
    details = []
    for before, after in zip(spoken, spoken[1:]):
        start, end = contact.turns[before].at, contact.turns[after].at
        quiet = time_off_hold(contact, start, end) - sum(max(0.0, min(end, b) - max(start, a)) for a, b in queue)
        if quiet > params["max_silence_seconds"]:
            found += [evidence(contact, before), evidence(contact, after)]
            details.append(f"静默{quiet:.0f}秒")
    for i, start, end in hold_intervals(contact):
        if view.holds(i) and end - start > params["max_hold_seconds"]:
            found.append(evidence(contact, i))
            details.append(f"保持{end - start:.0f}秒")
    if not found:
        return None
    unique = list({e.turn: e for e in found}.values())
    return Hit("，".join(details), sorted(unique, key=lambda e: e.turn))


def transferred_unresolved(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    contact = view.contact
    transfers = events(contact, "transferred")
    if not view.is_last or not transfers:
        return None
    if contact.facts.resolved and contact.facts.outcome != "abandoned":
        return None
    detail = "客户在排队或通话中放弃" if contact.facts.outcome == "abandoned" else "问题没有解决"
    return Hit(detail, [evidence(contact, transfers[0])])


def slow_agent_reply(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    """From the first unanswered customer turn after agent_joined to the agent's next turn, hold excluded."""
    contact = view.contact
    joined = agent_joined_at(contact)
    if contact.channel not in params["channels"] or joined is None:
        return None
    turns = sorted(
        (i for i, t in view.window() if t.who in ("customer", "agent") and order_key(contact, i) >= joined),
        key=lambda i: order_key(contact, i),
    )
    found = []
    waiting: int | None = None
    longest = 0.0
    for i in turns:
        who = contact.turns[i].who
        if who == "customer" and waiting is None:
            waiting = i
        elif who == "agent" and waiting is not None:
            delay = time_off_hold(contact, contact.turns[waiting].at, contact.turns[i].at)
            if delay > params["max_reply_seconds"]:
                found += [evidence(contact, waiting), evidence(contact, i)]
                longest = max(longest, delay)
            waiting = None
    return Hit(f"最长{longest:.0f}秒", found) if found else None


def emotion_rises(view: ContactView, params: Mapping[str, Any]) -> Hit | None:
    """A later customer turn at least `rise` levels above the first, and the customer ends at `end_at_least`."""
    contact = view.contact
    if not view.is_last or not view.emotions:
        return None
    levels = params["levels"]
    turns = [i for i, _ in contact.customer_turns]
    heights = [int(levels.get(label, 0)) for label in view.emotions]
    if len(heights) < 2 or heights[-1] < params["end_at_least"]:
        return None
    risen = next((k for k in range(1, len(heights)) if heights[k] >= heights[0] + params["rise"]), None)
    if risen is None:
        return None
    shown = dict.fromkeys((0, risen, len(heights) - 1))
    detail = f"{view.emotions[0]} → {view.emotions[risen]}"
    return Hit(detail, [evidence(contact, turns[k]) for k in shown])
