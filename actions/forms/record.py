"""Writing the work order a completed form produces, once per request even if the action is retried."""
from __future__ import annotations

import hashlib
import json
import os
import signal

from rasa_sdk import Tracker

from actions.services import services
from backend.cis import OrderInfo


def idempotency_key(tracker: Tracker, function_id: str, details: dict) -> str:
    """Same conversation session + same request content = same order, however often it is submitted.

    A crash between writing the order and answering loses the whole turn in Rasa (the tracker is saved
    at the end of a turn), so the customer says it again with a new message id: the key must not depend
    on the message. It holds the session (the latest session start; a returning caller's new session
    files anew) and a digest of the request's own values."""
    started = next((e.get("timestamp") for e in reversed(tracker.events) if e.get("event") == "session_started"), None)
    if started is None:   # no session start in view: fall back to the message itself
        last = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
        started = last.get("message_id") or last.get("timestamp") or "0"
    values = {k: v for k, v in details.items() if v is None or isinstance(v, (str, int, float, bool))}
    digest = hashlib.sha1(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]
    return f"{tracker.sender_id}:{function_id}:{started}:{digest}"[:128]


def record(tracker: Tracker, function_id: str, details: dict, *, account_no: str | None = None,
           priority: str = "normal", status: str = "accepted") -> OrderInfo:
    order = services().cis.create_work_order(
        function_id, tracker.get_slot("channel") or "chat", details, account_no=account_no,
        conversation_id=tracker.sender_id, priority=priority, status=status,
        idempotency_key=idempotency_key(tracker, function_id, details))
    if os.environ.get("P95598_CRASH_AFTER_WRITE") == "1":   # fault injection for the durability test only
        os.kill(os.getpid(), signal.SIGKILL)
    return order


def spoken_number(number: str) -> str:
    """G26112300042 -> "G 2611 2300 042": grouped so it can be read back and written down."""
    digits = number[1:]
    return f"{number[0]} {digits[:4]} {digits[4:8]} {digits[8:]}"
