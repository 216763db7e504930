"""Cancelling with no request under way: withdraw the order just filed in this conversation, when that is
what the customer means ("帮我撤销吧", "把刚才那个单子取消掉"); otherwise there is nothing to cancel."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import extract, wording
from actions.services import services
from backend.workorders.states import can_withdraw


def withdrawable(tracker: Tracker):
    """The newest order of this conversation the customer may still withdraw."""
    text = tracker.latest_message.get("text") or ""
    cis = services().cis
    number = extract.order_no(text)
    orders = cis.conversation_orders(tracker.sender_id)
    if number:
        orders = [o for o in orders if o.number == number]
    # a callback (人工回复) is withdrawn only when named by its number: "取消" usually means what is being done now
    return next((o for o in orders if can_withdraw(o.status) and (o.function_id != "human_agent" or number)), None)


def withdraw(dispatcher: CollectingDispatcher, tracker: Tracker, order, lead: str = "好的，") -> list:
    """Status withdrawn with the customer's words as the reason (in the order's history)."""
    text = tracker.latest_message.get("text") or ""
    services().cis.update_work_order(order.number, "withdrawn", f"客户在会话中撤销：{text[:100]}")
    if order.function_id == "tou_apply" and order.account_no:  # undo what the order changed on the account
        services().cis.set_tou(order.account_no, order.details.get("tou_action") != "enable")
    name = services().catalog.name(order.function_id)
    dispatcher.utter_message(
        text=f"{lead}刚才的{name}工单{wording.order_number(tracker, order.number)}已经为您撤销。" + wording.CLOSING
    )
    return [SlotSet("last_order_no", None)]
