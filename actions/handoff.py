"""Handing the customer to a person. Until the agent console exists, a callback work order carries the context."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms.record import record, spoken_number

CONTEXT_SLOTS = ("account_no", "verified_account", "address", "fault_desc", "details", "bill_month",
                 "contact_phone", "caller_phone", "last_function", "last_order_no")


def transcript(tracker: Tracker, limit: int = 20) -> list[dict]:
    turns = [{"who": "customer" if e["event"] == "user" else "bot", "text": e.get("text") or ""}
             for e in tracker.events if e.get("event") in ("user", "bot")]
    return turns[-limit:]


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list:
    account = tracker.get_slot("verified_account")
    context = {"reason": reason, "transcript": transcript(tracker),
               "slots": {s: tracker.get_slot(s) for s in CONTEXT_SLOTS if tracker.get_slot(s) is not None}}
    order = record(tracker, "human_agent", context, account_no=account)
    phone = tracker.get_slot("caller_phone") or tracker.get_slot("contact_phone")
    callback = f"客服会打尾号{phone[-4:]}的电话回复您" if phone else "客服会尽快回复您"
    dispatcher.utter_message(text=f"好的，正在为您转人工。现在人工坐席比较忙，我已经为您登记了人工回复，"
                                  f"工单号{spoken_number(order.number)}，{callback}，您刚才说的情况客服都能看到。")
    return [SlotSet("last_order_no", order.number), SlotSet("fallback_count", 0)]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return hand_off(dispatcher, tracker, reason="customer_request")
