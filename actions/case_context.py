"""What an agent needs to take over without asking again: built from the tracker and the back end."""
from __future__ import annotations

import datetime as dt

from rasa_sdk import Tracker

from actions.forms.identity import known_account
from actions.services import services
from backend.spoken import local_time

CONTEXT_SLOTS = ("account_no", "verified_account", "address", "fault_desc", "details", "bill_month",
                 "contact_phone", "caller_phone", "last_function", "last_order_no", "safety_risk", "channel")
LABELS = {"account_no": "户号", "verified_account": "已核验户号", "address": "地址", "fault_desc": "故障描述",
          "details": "详情", "bill_month": "账期", "contact_phone": "联系电话", "caller_phone": "来电号码",
          "last_function": "上一项业务", "last_order_no": "最近工单号", "safety_risk": "有安全风险", "channel": "渠道"}
NOT_REQUESTS = ("affirm", "deny", "inform", "greet", "goodbye", "thanks", "human_agent", "nlu_fallback")
CHANNELS = {"voice": "电话", "wechat": "微信", "chat": "网页聊天", "app": "网上国网", "console": "坐席"}
REASONS = {"customer_request": "客户要求转人工", "not_understood": "机器人两次没能理解",
           "form_failed": "业务办理没能完成", "anger": "客户情绪激动", "safety": "涉及安全风险"}


def _at(ts) -> str:
    try:
        return dt.datetime.fromtimestamp(float(ts), dt.timezone.utc).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return ""


ACT_TITLES = {"affirm": "好的", "deny": "不用了", "human_agent": "转人工", "cancel": "取消"}


def _payload_title(payload: str) -> str:
    from knowledge.catalog import catalog
    intent = payload[1:].split("{")[0]
    functions = catalog().functions
    return ACT_TITLES.get(intent) or (functions[intent].name if intent in functions else "")


def transcript(events: list[dict], limit: int = 60) -> list[dict]:
    """Customer and bot turns with time and channel (agents' turns carry the agent in metadata)."""
    turns, buttons = [], {}
    for e in events:
        if e.get("event") not in ("user", "bot") or not (e.get("text") or "").strip():
            continue
        meta = e.get("metadata") if isinstance(e.get("metadata"), dict) else {}
        who = "customer" if e["event"] == "user" else ("agent" if meta.get("agent") else "bot")
        text = e.get("text") or ""
        if who == "bot":
            buttons = {b.get("payload"): b.get("title") for b in (e.get("data") or {}).get("buttons") or []}
        elif text.startswith("EXTERNAL:"):   # an intent a channel triggered, not words the customer said
            continue
        elif text.startswith("/"):           # a pressed button: show what the button said
            text = buttons.get(text) or _payload_title(text)
            if not text:
                continue
        turns.append({"who": who, "text": text, "at": _at(e.get("timestamp")),
                      "channel": meta.get("channel") or e.get("input_channel") or "", "agent": meta.get("agent_name")})
    return turns[-limit:]


def recognised(events: list[dict]) -> list[dict]:
    """The function recognised for each customer turn, with its confidence (how the request evolved)."""
    out = []
    for e in events:
        if e.get("event") == "user" and e.get("text"):
            intent = (e.get("parse_data") or {}).get("intent") or {}
            if intent.get("name"):
                out.append({"at": _at(e.get("timestamp")), "text": e["text"][:80], "function": intent["name"],
                            "confidence": round(float(intent.get("confidence") or 0), 3)})
    return out


def knowledge_shown(events: list[dict]) -> list[dict]:
    shown = []
    for e in events:
        custom = (e.get("data") or {}).get("custom") or {}
        if e.get("event") == "bot" and custom.get("kb_article"):
            shown.append({"article": custom["kb_article"], "title": custom.get("title", ""), "at": _at(e.get("timestamp"))})
    return shown


def profile(account: str | None, phone: str | None) -> dict | None:
    cis = services().cis
    customer = cis.get_customer(account) if account else None
    if customer is None and phone:
        customer = cis.find_customer_by_phone(phone)
    if customer is None:
        return None
    outages = cis.active_outages(customer.area_code)
    return {"account_no": customer.account_no, "name": customer.name, "phone": customer.phone,
            "address": customer.address, "area": customer.area_name, "tags": list(customer.tags),
            "channels": list(customer.channels),
            "open_orders": [{"number": o.number, "function": o.function_id, "status": o.status_label}
                            for o in cis.open_work_orders(customer.account_no)][:10],
            "outages": [{"kind": o.kind, "area": o.area_name, "reason": o.reason,
                         "expected_end": local_time(o.expected_end).strftime("%m-%d %H:%M")} for o in outages],
            "verified": bool(account and account == customer.account_no)}


def summary(reason: str, channel: str, who: dict | None, functions: list[dict], slots: dict,
            turns: list[dict]) -> str:
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
    facts = "，".join(f"{LABELS.get(k, k)}{v if v is not True else ''}" for k, v in slots.items()
                     if k not in ("channel", "last_function") and v)
    lines = [f"{name}经{CHANNELS.get(channel, channel)}转人工：{REASONS.get(reason, reason)}。",
             f"诉求：{'→'.join(wanted) or '未识别'}。" + (f"原话：“{said[:60]}”。" if said else ""),
             f"已收集：{facts}。" if facts else "尚未收集业务信息。"]
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
    channel = tracker.get_slot("channel") or "chat"
    context = {"reason": reason, "channel": channel, "transcript": turns, "functions": functions,
               "slots": slots, "knowledge": knowledge_shown(events), "profile": who}
    return summary(reason, channel, who, functions, slots, turns), context
