"""Writing the work order a completed form produces, once per request even if the action is retried."""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.services import services
from backend.cis import OrderInfo


def idempotency_key(tracker: Tracker, function_id: str) -> str:
    """Same conversation + same user message = same order, however often the submit action runs.

    Keyed by the message's own id (timestamp as a fallback), not by a turn count: a tracker store only
    loads the current session, so a count restarts at 1 and a returning caller would collide with the
    order of an earlier session."""
    last = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
    turn = last.get("message_id") or last.get("timestamp") or "0"
    return f"{tracker.sender_id}:{function_id}:{turn}"[:128]


def record(tracker: Tracker, function_id: str, details: dict, *, account_no: str | None = None,
           priority: str = "normal", status: str = "accepted") -> OrderInfo:
    return services().cis.create_work_order(
        function_id, tracker.get_slot("channel") or "chat", details, account_no=account_no,
        conversation_id=tracker.sender_id, priority=priority, status=status,
        idempotency_key=idempotency_key(tracker, function_id))


def spoken_number(number: str) -> str:
    """G26112300042 -> "G 2611 2300 042": grouped so it can be read back and written down."""
    digits = number[1:]
    return f"{number[0]} {digits[:4]} {digits[4:8]} {digits[8:]}"
