"""Work-order progress by order number, or the open orders of a 户号."""
from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import wording
from actions.forms.base import ServiceForm
from actions.services import services

CLOSING = "还有别的需要帮您的吗？"


class ValidateProgressQueryForm(ServiceForm):
    form = "progress_query_form"
    function_id = "progress_query"

    def prefill(self, tracker, required):
        """"我刚才那个单子": the order filed earlier in this conversation."""
        events = super().prefill(tracker, required)
        text = tracker.latest_message.get("text") or ""
        if not tracker.get_slot("order_ref") and any(w in text for w in ("刚才", "那个", "刚刚", "我的单", "这个单")):
            orders = services().cis.conversation_orders(tracker.sender_id)
            if orders:
                events.append(SlotSet("order_ref", orders[0].number))
        return events

    async def validate_order_ref(self, value, dispatcher, tracker, domain):
        cis = services().cis
        if value.startswith("G"):
            if cis.get_work_order(value) is None:
                dispatcher.utter_message(text=f"没有查到工单{wording.order_number(tracker, value)}，请您核对一下。")
                return {"order_ref": None}
        elif cis.get_customer(value) is None:
            dispatcher.utter_message(text=f"没有查到户号{value}，请您核对一下。")
            return {"order_ref": None}
        return {"order_ref": value}

    async def complete(self, dispatcher, tracker, domain):
        cis, catalog, ref = services().cis, services().catalog, tracker.get_slot("order_ref")
        orders = [cis.get_work_order(ref)] if ref.startswith("G") else cis.open_work_orders(ref)
        if not orders:
            dispatcher.utter_message(text="这个户号目前没有正在处理的工单。" + CLOSING)
            return []
        parts = []
        for o in orders[:3]:
            when = f"{o.created_at.month}月{o.created_at.day}日"
            parts.append(f"{when}的{catalog.name(o.function_id)}工单{wording.order_number(tracker, o.number)}，目前{o.status_label}")
        more = f"另外还有{len(orders) - 3}张工单。" if len(orders) > 3 else ""
        dispatcher.utter_message(text="；".join(parts) + "。" + more + CLOSING)
        return []
