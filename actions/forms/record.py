"""Writing the work order a completed form produces, once per request even if the action is retried."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

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
    if started is None:  # no session start in view: fall back to the message itself
        last = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
        started = last.get("message_id") or last.get("timestamp") or "0"
    values = {k: v for k, v in details.items() if v is None or isinstance(v, (str, int, float, bool))}
    digest = hashlib.sha1(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]
    return f"{tracker.sender_id}:{function_id}:{started}:{digest}"[:128]


def session_start(tracker: Tracker) -> float | None:
    return next(
        (e.get("timestamp") or 0.0 for e in reversed(tracker.events) if e.get("event") == "session_started"), None
    )


def same_request(tracker: Tracker, function_id: str, details: dict, account_no: str | None) -> OrderInfo | None:
    """An open order for the same request filed earlier in this conversation session: one request is one
    order, however often the customer asks again or adds to it. Another address or account is another request."""
    stamp = session_start(tracker)
    if stamp is None:  # no session start in view: nothing to compare with
        return None
    started = dt.datetime.fromtimestamp(stamp, dt.timezone.utc).replace(tzinfo=None)
    for order in services().cis.conversation_orders(tracker.sender_id):
        if order.function_id != function_id or order.status in ("withdrawn", "closed") or order.created_at < started:
            continue
        if account_no and order.account_no and order.account_no != account_no:
            continue
        old, new = str(order.details.get("address") or ""), str(details.get("address") or "")
        if old and new and not (old in new or new in old):
            continue
        return order
    return None


def file_order(
    tracker: Tracker,
    function_id: str,
    details: dict,
    *,
    account_no: str | None = None,
    priority: str = "normal",
    status: str = "received",
) -> tuple[OrderInfo, bool]:
    """(order, True) for a new order; (the earlier order, False) when this request was filed already, the
    new details noted in its history."""
    earlier = same_request(tracker, function_id, details, account_no)
    if earlier is not None:
        added = {k: v for k, v in details.items() if isinstance(v, str) and v and v not in str(earlier.details)}
        if added:
            services().cis.update_work_order(
                earlier.number, earlier.status, "客户补充：" + "；".join(f"{v}" for v in added.values())[:300]
            )
        return earlier, False
    return record(tracker, function_id, details, account_no=account_no, priority=priority, status=status), True


def record(
    tracker: Tracker,
    function_id: str,
    details: dict,
    *,
    account_no: str | None = None,
    priority: str = "normal",
    status: str = "received",
) -> OrderInfo:
    return services().cis.create_work_order(
        function_id,
        tracker.get_slot("channel") or "chat",
        details,
        account_no=account_no,
        conversation_id=tracker.sender_id,
        priority=priority,
        status=status,
        idempotency_key=idempotency_key(tracker, function_id, details),
    )
