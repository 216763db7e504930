"""One Rasa event -> what it changes in the analytics tables: the turn row (turn_analytics) and the contact's
update (contacts). Pure: no database, the same for the RabbitMQ consumer (scale profile) and the tracker-store
feed (embedded profile). A malformed event raises `BadEvent` with the reason; the feeds log it and go on.

Event shapes are Rasa 3.6's `Event.as_dict()`; the broker adds `sender_id`, the tracker store keeps it in a column
(the embedded feed adds it back)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from typing import Any

from analytics.functions import service_function
from channels.rasa import CALL_ENDED

FALLBACK = "nlu_fallback"
MAX_TEXT = 2000  # a 20 KB paste is cut before anything looks at it
MAX_ID = 64
EARLIEST, LATEST = 0.0, 4102444800.0  # before 2100-01-01: a timestamp outside is not a real event
OUTAGE_NOTICE = "outage"  # BotUttered metadata.notice of the bot's outage notice (chat / WeChat)
DIVIDER = "divider"  # the chat page's "本次会话已结束" written when the customer ends the chat (console/satisfaction)
ACCOUNT_SLOTS = {"verified_account": True, "account_no": False}  # slot -> the account is proved
SLOTS_READ = (*ACCOUNT_SLOTS, "caller_phone", "address")  # the slots analytics reads; every other slot is skipped
KINDS_READ = ("user", "bot", "session_started", "pause", "resume", "active_loop")  # besides those slots


class BadEvent(ValueError):
    """An event the feed cannot use: the reason, for the log."""


@dataclass(frozen=True)
class ContactChange:
    """What one event changes in its contact (the contact is found by conversation and session)."""

    conversation_id: str
    at: dt.datetime
    kind: str  # session (a new session starts) | turn (a customer turn) | update (anything else)
    channel: str | None = None
    text: str = ""
    function: str | None = None
    fallback: bool = False
    told_outage: bool = False
    escalated: bool = False
    transfer_reason: str | None = None
    account_no: str | None = None
    verified: bool = False
    caller: str | None = None
    address: str | None = None
    ended: bool = False  # the customer ended the chat


@dataclass(frozen=True)
class EventChanges:
    key: str  # the event's identity: a redelivered or re-read event has the same key
    turn_row: dict[str, Any] | None  # a turn_analytics row (customer turn, handoff, resume, session start)
    contact: ContactChange | None


def _dict(event: dict[str, Any], field: str) -> dict[str, Any]:
    value = event.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadEvent(f"{field} is a {type(value).__name__}, not an object")
    return value


def _str(event: dict[str, Any], field: str) -> str:
    value = event.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadEvent(f"{field} is a {type(value).__name__}, not a string")
    return value[:MAX_TEXT]


def _when(event: dict[str, Any]) -> tuple[float, dt.datetime]:
    ts = event.get("timestamp")
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        raise BadEvent(f"timestamp {str(ts)[:40]!r} is not a number")
    if not EARLIEST <= ts < LATEST:
        raise BadEvent(f"timestamp {ts} is not between 1970 and 2100")
    return float(ts), dt.datetime.fromtimestamp(float(ts), dt.timezone.utc).replace(tzinfo=None)


def _short(value: object, n: int = 32) -> str | None:
    return value[:n] if isinstance(value, str) and value.strip() else None


def changes_of(event: object) -> EventChanges | None:
    """The changes one Rasa event makes (None for events analytics ignores); BadEvent when it is malformed."""
    if not isinstance(event, dict):
        raise BadEvent(f"an event is an object, not a {type(event).__name__}")
    kind = event.get("event")
    if not isinstance(kind, str) or not kind:
        raise BadEvent("no event type")
    sender = event.get("sender_id")
    if not isinstance(sender, str) or not sender.strip():
        raise BadEvent("no sender_id")
    if len(sender) > MAX_ID:
        raise BadEvent(f"sender_id longer than {MAX_ID} characters")
    ts, at = _when(event)
    meta = _dict(event, "metadata")
    key = f"{sender}:{kind}:{ts!r}:{_str(event, 'message_id')[:64]}"[:200]
    change = ContactChange(conversation_id=sender, at=at, kind="update")

    def row(row_kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "event_key": key,
            "conversation_id": sender,
            "at": at,
            "kind": row_kind,
            "function": None,
            "confidence": None,
            "channel": _short(meta.get("channel"), 16) or _short(event.get("input_channel"), 16),
            "fallback": False,
            **extra,
        }

    if kind == "session_started":
        return EventChanges(key, row("session"), ContactChange(conversation_id=sender, at=at, kind="session"))
    if kind == "user":
        return _user(event, key, change, meta, row)
    if kind == "bot":
        return _bot(event, key, change, meta)
    if kind == "pause":
        return EventChanges(key, row("handoff"), _replace(change, escalated=True))
    if kind == "resume":
        return EventChanges(key, row("resume"), change)
    if kind == "slot":
        return _slot(event, key, change)
    if kind == "active_loop":
        form = service_function(event.get("name"))
        return EventChanges(key, None, _replace(change, function=form)) if form else None
    return None


def _replace(change: ContactChange, **values: Any) -> ContactChange:
    return replace(change, **values)


def _user(event: dict[str, Any], key: str, change: ContactChange, meta: dict[str, Any], row: Any) -> EventChanges:
    text = _str(event, "text")
    parse = _dict(event, "parse_data")
    intent = parse.get("intent") or {}
    if not isinstance(intent, dict):
        raise BadEvent("parse_data.intent is not an object")
    name, confidence = intent.get("name"), intent.get("confidence")
    if name is not None and not isinstance(name, str):
        raise BadEvent("the intent name is not a string")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))):
        raise BadEvent("the intent confidence is not a number")
    if text.startswith("EXTERNAL:"):  # an intent the system triggered, not a customer's words
        handoff = text.startswith("EXTERNAL: human_agent")
        return EventChanges(key, row("handoff") if handoff else None, None)
    if not text:
        return EventChanges(key, None, None)
    channel = _short(meta.get("channel"), 16) or _short(event.get("input_channel"), 16)
    caller = meta.get("caller") if channel == "voice" else None
    turn = row(
        "turn",
        function=(name or None) and name[:32],
        confidence=float(confidence) if confidence is not None else None,
        fallback=name == FALLBACK,
    )
    return EventChanges(
        key,
        turn,
        _replace(
            change,
            kind="turn",
            channel=channel,
            text=text,
            function=service_function(name),
            fallback=name == FALLBACK,
            told_outage=meta.get("told_outage") is True,
            caller=_short(caller, 16),
        ),
    )


def _bot(event: dict[str, Any], key: str, change: ContactChange, meta: dict[str, Any]) -> EventChanges | None:
    data = _dict(event, "data")
    custom = data.get("custom")
    handoff = custom.get("handoff") if isinstance(custom, dict) else None
    told = meta.get("notice") == OUTAGE_NOTICE
    ended = meta.get("shown_as") in (DIVIDER, CALL_ENDED) and meta.get("system") is True
    if isinstance(handoff, dict):
        return EventChanges(key, None, _replace(change, escalated=True, transfer_reason=_short(handoff.get("reason"))))
    if told or ended:
        return EventChanges(key, None, _replace(change, told_outage=told, ended=ended))
    return EventChanges(key, None, change)  # the contact's last event moves on


def _slot(event: dict[str, Any], key: str, change: ContactChange) -> EventChanges | None:
    name, value = event.get("name"), event.get("value")
    if not isinstance(value, str) or not value.strip():
        return None
    if name in ACCOUNT_SLOTS:
        account = value.strip()
        if not (account.isdigit() and len(account) <= 16):
            return None
        return EventChanges(key, None, _replace(change, account_no=account, verified=ACCOUNT_SLOTS[name]))
    if name == "caller_phone":
        return EventChanges(key, None, _replace(change, caller=_short(value, 16)))
    if name == "address":
        return EventChanges(key, None, _replace(change, address=value[:200]))
    return None
