"""What an agent needs to take over without asking again: built from the tracker and the back end."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.forms.identity import known_account
from actions.services import services
from backend.case_view import (
    CONTEXT_SLOTS,
    NOT_REQUESTS,
    SLOT_LABELS,
    customer_profile,
    knowledge_shown,
    recognised,
    transcript,
)
from backend.contact_centre.kinds import CHANNEL_LABELS, REASON_LABELS, Channel

LABELS, CHANNELS, REASONS = SLOT_LABELS, CHANNEL_LABELS, REASON_LABELS


def profile(account: str | None, phone: str | None) -> dict | None:
    return customer_profile(services().cis, account, phone)


def _short(value: object, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def summary(reason: str, channel: str, who: dict | None, functions: list[dict], slots: dict, turns: list[dict]) -> str:
    """Three short lines an agent reads first: who, what they want, what is already known."""
    name = f"{who['name']}（户号{who['account_no']}）" if who else "未识别身份的客户"
    seen, wanted = set(), []
    for f in functions:
        if f["function"] not in seen and f["function"] not in NOT_REQUESTS:
            seen.add(f["function"])
            wanted.append(services().catalog.name(f["function"]) or f["function"])
    said = next((t["text"] for t in turns if t["who"] == "customer" and len(t["text"]) >= 4), "")
    if slots.get("verified_account") == slots.get("account_no"):
        slots = {k: v for k, v in slots.items() if k != "account_no"}
    facts = "，".join(  # each value cut short: the summary is read at a glance, the timeline has the whole text
        f"{LABELS.get(k, k)}{_short(v) if v is not True else ''}"
        for k, v in slots.items()
        if k not in ("channel", "last_function") and v
    )
    lines = [
        f"{name}经{CHANNELS.get(channel, channel)}转人工：{REASONS.get(reason, reason)}。",
        f"诉求：{'→'.join(wanted) or '未识别'}。" + (f"原话：“{said[:60]}”。" if said else ""),
        f"已收集：{facts}。" if facts else "尚未收集业务信息。",
    ]
    if who and who.get("outages"):
        o = who["outages"][0]
        lines.append(f"所在区域有{'计划' if o['kind'] == 'planned' else '故障'}停电，预计{o['expected_end']}恢复。")
    return "\n".join(lines)


def build(tracker: Tracker, reason: str) -> tuple[str, dict]:
    events = list(tracker.events)
    slots = {s: tracker.get_slot(s) for s in CONTEXT_SLOTS if tracker.get_slot(s) not in (None, "")}
    account = known_account(tracker)
    who = profile(account, tracker.get_slot("caller_phone"))
    turns, functions = transcript(events), recognised(events)
    channel = tracker.get_slot("channel") or Channel.CHAT
    context = {
        "reason": reason,
        "channel": channel,
        "transcript": turns,
        "functions": functions,
        "slots": slots,
        "knowledge": knowledge_shown(events),
        "profile": who,
    }
    return summary(reason, channel, who, functions, slots, turns), context
