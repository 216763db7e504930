"""What an agent sees of a conversation handed to a person: its turns, the requests recognised in it, the
knowledge shown, and the customer's profile from the CIS.

Read from the stored conversation (Rasa tracker events, plain JSON) and the back end only, so the action
server (which builds a case's context when it escalates) and the agent console (which shows it) use the same
view without one importing the other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from backend.cis import CIS, OrderInfo
from backend.spoken import local_time
from backend.workorders.commitments import to_local
from backend.workorders.wording import STEP_WORDS
from knowledge.catalog import catalog

# every slot a form collects (the catalog's, proofs left out) and the conversation state an agent needs
CONTEXT_SLOTS = (
    "verified_account",
    *catalog().context_slots(),
    "caller_phone",
    "last_function",
    "last_order_no",
    "channel",
)
SLOT_LABELS = {
    **catalog().agent_labels(),
    "verified_account": "已核验户号",
    "caller_phone": "来电号码",
    "last_function": "上一项业务",
    "last_order_no": "最近工单号",
    "channel": "渠道",
}
NOT_REQUESTS = ("affirm", "deny", "inform", "greet", "goodbye", "thanks", "human_agent", "nlu_fallback")
ACT_TITLES = {"affirm": "好的", "deny": "不用了", "human_agent": "转人工", "cancel": "取消"}

Event = dict[str, Any]


def event_time(ts: Any) -> str:
    try:
        return dt.datetime.fromtimestamp(float(ts), dt.timezone.utc).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return ""


def payload_title(payload: str) -> str:
    """What a button said, from its payload ("/fault_repair" -> 故障报修; "/affirm" -> 好的)."""
    intent = payload[1:].split("{")[0]
    functions = catalog().functions
    return ACT_TITLES.get(intent) or (functions[intent].name if intent in functions else "")


def transcript(events: list[Event], limit: int = 60) -> list[dict[str, Any]]:
    """Customer and bot turns with time and channel (agents' turns carry the agent in metadata)."""
    turns: list[dict[str, Any]] = []
    buttons: dict[Any, Any] = {}
    for e in events:
        if e.get("event") not in ("user", "bot") or not (e.get("text") or "").strip():
            continue
        meta: dict[str, Any] = e["metadata"] if isinstance(e.get("metadata"), dict) else {}
        who = "customer" if e["event"] == "user" else ("agent" if meta.get("agent") else "bot")
        text = e.get("text") or ""
        if who == "bot":
            buttons = {b.get("payload"): b.get("title") for b in (e.get("data") or {}).get("buttons") or []}
        elif text.startswith("EXTERNAL:"):  # an intent triggered from outside, not words the customer said
            continue
        elif text.startswith("/"):  # a pressed button: show what the button said
            text = buttons.get(text) or payload_title(text)
            if not text:
                continue
        turns.append(
            {
                "who": who,
                "text": text,
                "at": event_time(e.get("timestamp")),
                "channel": meta.get("channel") or e.get("input_channel") or "",
                "agent": meta.get("agent_name"),
            }
        )
    return turns[-limit:]


def recognised(events: list[Event]) -> list[dict[str, Any]]:
    """The function recognised for each customer turn, with its confidence (how the request evolved)."""
    out = []
    for e in events:
        if e.get("event") == "user" and e.get("text"):
            intent = (e.get("parse_data") or {}).get("intent") or {}
            if intent.get("name"):
                out.append(
                    {
                        "at": event_time(e.get("timestamp")),
                        "text": e["text"][:80],
                        "function": intent["name"],
                        "confidence": round(float(intent.get("confidence") or 0), 3),
                    }
                )
    return out


def requested(events: list[Event]) -> list[str]:
    """The service functions the customer asked for, in order (dialogue acts such as "好的" left out)."""
    return [f["function"] for f in recognised(events) if f["function"] not in NOT_REQUESTS]


def knowledge_shown(events: list[Event]) -> list[dict[str, Any]]:
    shown = []
    for e in events:
        custom = (e.get("data") or {}).get("custom") or {}
        if e.get("event") == "bot" and custom.get("kb_article"):
            shown.append(
                {
                    "article": custom["kb_article"],
                    "title": custom.get("title", ""),
                    "at": event_time(e.get("timestamp")),
                }
            )
    return shown


def order_card(o: OrderInfo) -> dict[str, Any]:
    """An order as a case shows it: status, the time limit it is held to (Shanghai clock), team and assignee."""
    return {
        "number": o.number,
        "function": o.function_id,
        "status": o.status_label,
        "due": to_local(o.due_at).strftime("%m-%d %H:%M") if o.due_at else "",
        "due_step": STEP_WORDS.get(o.due_step or "", ""),
        "team": o.team or "",
        "assignee": o.assignee or "",
    }


def customer_profile(cis: CIS, account: str | None, phone: str | None) -> dict[str, Any] | None:
    """The customer by account (else by phone): contact details, open orders and outages in their area."""
    customer = cis.get_customer(account) if account else None
    if customer is None and phone:
        customer = cis.find_customer_by_phone(phone)
    if customer is None:
        return None
    outages = cis.active_outages(customer.area_code)
    return {
        "account_no": customer.account_no,
        "name": customer.name,
        "phone": customer.phone,
        "address": customer.address,
        "area": customer.area_name,
        "tags": list(customer.tags),
        "channels": list(customer.channels),
        "open_orders": [order_card(o) for o in cis.open_work_orders(customer.account_no)][:10],
        "outages": [
            {
                "kind": o.kind,
                "area": o.area_name,
                "reason": o.reason,
                "expected_end": local_time(o.expected_end).strftime("%m-%d %H:%M"),
            }
            for o in outages
        ],
        "verified": bool(account and account == customer.account_no),
    }
