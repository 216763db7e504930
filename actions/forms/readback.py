"""The read-back before an order is filed: what, where, who to call — then "对吗？"."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.forms.base import ServiceForm


class ActionAskOrderConfirmed(Action):
    def name(self) -> str:
        return "action_ask_order_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        form = (tracker.active_loop or {}).get("name") or ""
        handler = ServiceForm.registry.get(form)
        summary = handler.summary(tracker, domain) if handler else "我跟您核对一下刚才的信息。"
        if wording.is_voice(tracker):
            dispatcher.utter_message(text=summary + "没问题的话我就帮您提交，对吗？")
        else:
            dispatcher.utter_message(
                text=summary + "没问题的话我就帮您提交，对吗？",
                buttons=[{"title": "对，提交", "payload": "/affirm"}, {"title": "要修改", "payload": "/deny"}],
            )
        return []
