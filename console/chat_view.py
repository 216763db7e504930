"""What the chat page shows, built one way for the live socket and for the history after a reload.

The stored conversation (Rasa tracker) is the one source: every message the page shows live is also an event
there, and `chat_history` turns those events back into the very items the socket sent (who, text, agent name,
buttons, system notices, the end-of-chat divider, a pending rating card, photos).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

from backend.case_view import event_time, payload_title
from channels.rasa import handoff_of

Item = dict[str, Any]
SHOWN_AS = ("bot", "agent", "system", "divider", "rating")  # metadata.shown_as of events the console appends
MAX_SHOWN = 60  # a button's title sent with its payload


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def shown_text(text: str, shown: str = "") -> str:
    """What a customer message looks like on the page: a pressed button shows its title, not its payload."""
    if not text.startswith("/"):
        return text
    return (shown.strip()[:MAX_SHOWN] if shown.strip() else "") or payload_title(text) or text


def to_browser(messages: list[Item], reply_to: str, at: str) -> list[Item]:
    """The bot's replies as page items, each with an id made from the customer message it answers."""
    out: list[Item] = []
    for i, m in enumerate(messages):
        handoff = handoff_of([m])
        if handoff:
            out.append({"type": "handoff", "state": "waiting", **handoff})
        elif m.get("text"):
            out.append(
                {
                    "type": "message",
                    "who": "bot",
                    "text": m["text"],
                    "buttons": m.get("buttons") or [],
                    "id": f"{reply_to}.{i}",
                    "at": at,
                }
            )
    return out


def chat_history(events: list[Item], pending_rating: str | None = None, limit: int = 200) -> list[Item]:
    """The conversation as the page showed it live. A rating card is shown only while it is unanswered."""
    items: list[Item] = []
    buttons: dict[Any, Any] = {}
    for n, e in enumerate(events):
        kind = e.get("event")
        if kind not in ("user", "bot"):
            continue
        text = (e.get("text") or "").strip()
        meta: Item = e["metadata"] if isinstance(e.get("metadata"), dict) else {}
        at = event_time(e.get("timestamp"))
        if kind == "user":
            if not text or text.startswith("EXTERNAL:"):
                continue
            if text.startswith("/"):
                text = str(meta.get("shown") or "") or buttons.get(text) or payload_title(text)
                if not text:
                    continue
            item: Item = {
                "type": "message",
                "who": "customer",
                "text": text,
                "id": str(meta.get("client_message_id") or f"h{n}"),
                "at": at,
            }
            if isinstance(meta.get("image"), str):
                item["image"] = meta["image"]
            items.append(item)
            continue
        if not text:
            continue
        data = e.get("data") if isinstance(e.get("data"), dict) else {}
        shown_as = meta.get("shown_as")
        who = shown_as if shown_as in SHOWN_AS else ("agent" if meta.get("agent") else "bot")
        if who == "rating":
            if meta.get("rating") == pending_rating and pending_rating:
                items.append({"type": "rating", "key": pending_rating, "text": text, "at": at, "id": f"h{n}"})
            continue
        bot_buttons = list((data or {}).get("buttons") or [])
        buttons = {b.get("payload"): b.get("title") for b in bot_buttons if isinstance(b, dict)}
        items.append(
            {
                "type": "message",
                "who": who,
                "text": text,
                "name": str(meta.get("agent_name") or "") if who == "agent" else "",
                "buttons": bot_buttons,
                "id": str(meta.get("message_id") or f"h{n}"),
                "at": at,
            }
        )
    return items[-limit:]


def has_message(events: list[Item], client_message_id: str) -> bool:
    """Whether the stored conversation already has the customer's message with this id (a resend)."""
    return any(
        e.get("event") == "user"
        and isinstance(e.get("metadata"), dict)
        and e["metadata"].get("client_message_id") == client_message_id
        for e in events
    )


class RecentIds:
    """The customer message ids this process took lately, per conversation: a resend is not processed twice."""

    def __init__(self, size: int = 20_000):
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._size = size

    def take(self, conversation: str, message_id: str) -> bool:
        """True the first time; False for an id already taken in this conversation."""
        key = (conversation, message_id)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True
