"""Checks on the shape of the contact: silences and holds, transfers, slow agent replies, emotion (repeats are in
checks_repeats.py)."""

from __future__ import annotations

from collections.abc import Mapping
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
