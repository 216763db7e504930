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
from backend.customer_insight import CustomerInsight
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
# what a recognised dialogue act is called on the agent's screen; small talk and "not understood" are left out
ACT_NAMES = {
    "affirm": "确认",
    "deny": "否定",
    "human_agent": "要求转人工",
    "cancel": "取消",
    "inform": "补充信息",
    "goodbye": "结束对话",
    "thanks": "致谢",
}
HIDDEN_INTENTS = ("nlu_fallback", "greet", "chitchat", "out_of_scope")
CERTAINTY = ((0.85, "很确定"), (0.6, "较确定"), (0.0, "不太确定"))  # the recogniser's confidence, in words
CHANNELS = ("voice", "wechat", "chat", "app", "console")  # backend.contact_centre.kinds.Channel; "rest" is none

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


def external(e: Event) -> bool:
    """A user event no person typed: an intent triggered through Rasa's API ("EXTERNAL: human_agent")."""
    return str(e.get("text") or "").lstrip().upper().startswith("EXTERNAL")


def channel_of(e: Event, meta: dict[str, Any]) -> str:
    """The product's channel of a turn (chat, voice, wechat...); Rasa's own input channel ("rest") is none."""
    for name in (meta.get("channel"), e.get("input_channel")):
        if name in CHANNELS:
            return str(name)
    return ""


def transcript(events: list[Event], limit: int = 60) -> list[dict[str, Any]]:
    """What the customer and the bot (or an agent) really said to each other, with time and channel.

    Left out: intents triggered from outside (no words of the customer's), and anything the bot produced while
    the conversation was paused for a person (never delivered: the channels drop replies of a paused bot)."""
    turns: list[dict[str, Any]] = []
    buttons: dict[Any, Any] = {}
    paused = False
    for e in events:
        kind = e.get("event")
        if kind == "pause":
            paused = True
        elif kind in ("resume", "restart", "session_started"):
            paused = False
        if kind not in ("user", "bot") or not (e.get("text") or "").strip():
            continue
        meta: dict[str, Any] = e["metadata"] if isinstance(e.get("metadata"), dict) else {}
        who = "customer" if kind == "user" else ("agent" if meta.get("agent") else "bot")
        text = e.get("text") or ""
        if who == "bot":
            if paused and not meta.get("agent") and not meta.get("system"):
                continue  # the bot is silent while a person has the case: nothing it produced reached the customer
            buttons = {b.get("payload"): b.get("title") for b in (e.get("data") or {}).get("buttons") or []}
        elif external(e):  # an intent triggered from outside, not words the customer said
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
                "channel": channel_of(e, meta),
                "agent": meta.get("agent_name"),
            }
        )
    return turns[-limit:]


def recognised(events: list[Event]) -> list[dict[str, Any]]:
    """The function recognised for each customer turn, with its confidence (how the request evolved)."""
    out = []
    for e in events:
        if e.get("event") == "user" and e.get("text") and not external(e):
            if (e.get("metadata") or {}).get("attachment"):  # a photo: no words were understood
                continue
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


def certainty(confidence: float) -> str:
    return next(word for floor, word in CERTAINTY if confidence >= floor)


def requests_for_agent(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recognised requests as an agent reads them: the service's Chinese name and how sure the recogniser
    was in words; small talk and "not understood" left out, a button's payload shown as the button."""
    names = catalog().functions
    out = []
    for f in functions:
        fid = str(f.get("function") or "")
        name = names[fid].name if fid in names else ACT_NAMES.get(fid)
        if fid in HIDDEN_INTENTS or not name:
            continue
        text = str(f.get("text") or "")
        shown = payload_title(text) if text.startswith("/") else text
        out.append({"name": name, "certainty": certainty(float(f.get("confidence") or 0)), "text": shown})
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


def customer_profile(
    cis: CIS, account: str | None, phone: str | None, insight: CustomerInsight | None = None
) -> dict[str, Any] | None:
    """The customer by account (else by phone): contact details, open orders and outages in their area; with
    `insight`, the published tags with their reasons and the arrears risk, only for the proved account (the
    caller's number alone does not show them)."""
    customer = cis.get_customer(account) if account else None
    if customer is None and phone:
        customer = cis.find_customer_by_phone(phone)
    if customer is None:
        return None
    outages = cis.active_outages(customer.area_code)
    verified = bool(account and account == customer.account_no)
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
        "verified": verified,
        "insight": insight.profile(customer.account_no) if insight is not None and verified else None,
    }
