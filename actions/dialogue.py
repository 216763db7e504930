"""The dialogue acts' actions: clarification when the request was not understood, yes/no answers to the bot's
own offers, details with no request, a cancel with nothing under way, thanks, goodbye."""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import acts, context, followups, wording
from actions.handoff import hand_off
from actions.services import services
from actions.withdraw import withdraw, withdrawable

MAX_FALLBACKS = 2
ANYTHING_ELSE = re.compile(r"还有(?:别的|其他|其它|什么)[^。]*吗？?$")  # the bot's own closing question


class ActionClarify(Action):
    """Offers the most likely functions as buttons; the second miss in a row offers a human agent."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        carried = context.route(dispatcher, tracker, domain)
        if carried is not None:
            return carried
        count = int(tracker.get_slot("fallback_count") or 0) + 1
        text = (tracker.latest_message.get("text") or "").strip()
        if count >= MAX_FALLBACKS:
            dispatcher.utter_message(
                text="不好意思，我还是没能理解。帮您转人工客服，好吗？",
                buttons=[
                    {"title": "好的，转人工", "payload": "/affirm"},
                    {"title": "不用，我换个说法", "payload": "/deny"},
                ],
            )
            return [SlotSet("fallback_count", count), SlotSet("offered_human", True)]
        catalog = services().catalog
        ranking = tracker.latest_message.get("intent_ranking") or []
        options = [
            r["name"]
            for r in ranking
            if r.get("name") in catalog.functions and r["name"] not in ("out_of_scope", "human_agent")
        ][:3]
        if not text or not any(ch.isalnum() for ch in text):
            dispatcher.utter_message(text="不好意思，没有收到您的文字内容。请问有什么可以帮您？")
            return [SlotSet("fallback_count", count)]
        lead = "不好意思，我没太明白。"
        if options:
            dispatcher.utter_message(
                text=lead + "您是想办理下面哪一项？也可以换个说法告诉我。",
                buttons=[{"title": catalog.name(o), "payload": f"/{o}"} for o in options],
            )
        else:
            dispatcher.utter_message(text=lead + "请您换个说法，比如“家里停电了”或者“查电费”。")
        return [SlotSet("fallback_count", count)]


class ActionHandleYesNo(Action):
    def name(self) -> str:
        return "action_handle_yes_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        offered = tracker.get_slot("offered_function")
        if offered:
            if intent == "affirm":
                return [SlotSet("offered_function", None), FollowupAction(f"{offered}_form")]
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("offered_function", None), SlotSet("address", None)]
        if tracker.get_slot("offered_human"):
            if intent == "affirm":
                return hand_off(dispatcher, tracker, reason="not_understood") + [SlotSet("offered_human", False)]
            dispatcher.utter_message(text="好的，您可以换个说法，再告诉我一次。")
            return [SlotSet("offered_human", False), SlotSet("fallback_count", 0)]
        text = tracker.latest_message.get("text") or ""
        told = followups.tell_progress(dispatcher, tracker)  # "还要多久啊" after a progress answer: asked, not a yes
        if told is not None:
            return told
        if acts.leaving(text) or (intent == "deny" and asked_anything_else(tracker)):
            dispatcher.utter_message(response="utter_goodbye")  # "行吧，就这样"; "没有了" to 还有别的需要吗
            return []
        dispatcher.utter_message(response="utter_how_can_help" if intent == "affirm" else "utter_anything_else")
        return []


class ActionGoodbye(Action):
    """ "那再往前一个月呢" can look like a goodbye (再…): context first."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        text = tracker.latest_message.get("text") or ""
        told = followups.tell_progress(dispatcher, tracker)  # "那麻烦你们快点" after the progress: a chase
        if told is not None:
            return told
        carried = context.follow_up(tracker, text)
        if carried is not None:
            return carried
        dispatcher.utter_message(response="utter_goodbye")
        return []


def asked_anything_else(tracker: Tracker) -> bool:
    """The bot's last words were its own closing question (还有别的需要帮您的吗)."""
    return bool(ANYTHING_ELSE.search(wording.bot_said_last(tracker).strip()))


class ActionThanks(Action):
    """ "谢谢": you are welcome, anything else? A customer who thanks while leaving ("好的 没别的了 谢谢"), or who
    thanks in answer to the bot's own "还有别的需要帮您的吗", is seen off instead of being asked again."""

    def name(self) -> str:
        return "action_thanks"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        text = tracker.latest_message.get("text") or ""
        told = followups.tell_progress(dispatcher, tracker)  # "那麻烦你们快点" after the progress: a chase
        if told is not None:
            return told
        done = acts.leaving(text) or asked_anything_else(tracker)
        dispatcher.utter_message(response="utter_goodbye" if done else "utter_thanks")
        return []


class ActionCancelOrWithdraw(Action):
    def name(self) -> str:
        return "action_cancel_or_withdraw"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        text = tracker.latest_message.get("text") or ""
        told = followups.tell_if_withdrawn(dispatcher, tracker)  # "没被取消吧": asked, not to be done
        if told is not None:
            return told
        rest = acts.moved_on(text)
        carried = context.bill_follow_up(tracker, rest) if rest else None  # "算了 那九月呢" after a bill
        if carried is not None:
            return carried
        if acts.leaving(text) and not acts.withdraws(text) and not acts.refers_to_order(text):
            dispatcher.utter_message(response="utter_goodbye")  # "算了，没事了"; "不办了，走了" keeps what was filed
            return []
        order = withdrawable(tracker)
        if order is None:
            carried = context.request_inside(tracker, text, domain)  # "先把报修给我弄上…" read as a cancel
            if carried is not None:
                return carried
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return []
        return withdraw(dispatcher, tracker, order)


class ActionInform(Action):
    """Details with no request: added to the order just filed, or the customer is asked what they need."""

    def name(self) -> str:
        return "action_inform"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        carried = context.route(dispatcher, tracker, domain)
        if carried is not None:
            return carried
        dispatcher.utter_message(response="utter_ask_what_service")
        return []
