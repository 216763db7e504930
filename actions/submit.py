"""After any form ends: complete the request, or carry out how it was stopped (cancel, handoff)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import acts
from actions.followups import next_request
from actions.forms.base import ServiceForm
from actions.handoff import escalate, hand_off
from backend.contact_centre import EscalationReason, Priority

KEEP = {"account_no", "verified_account", "contact_phone"}  # known facts stay for the next request


def finished_form(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return event["name"]
    return None


class ActionSubmitRequest(Action):
    def name(self) -> str:
        return "action_submit_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        form = finished_form(tracker)
        handler = ServiceForm.registry.get(form or "")
        outcome = tracker.get_slot("form_outcome")
        events = []
        if handler is None:
            dispatcher.utter_message(response="utter_anything_else")
        elif outcome == "cancelled" and acts.leaving(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(text="好的，这件事先不办了。")  # "算了 没事了 拜拜": seen off, not asked again
            dispatcher.utter_message(response="utter_goodbye")
        elif outcome == "cancelled":
            dispatcher.utter_message(response="utter_cancelled")
        elif outcome == "left":
            dispatcher.utter_message(response="utter_goodbye")
        elif outcome == "handoff":
            events += hand_off(dispatcher, tracker, reason=EscalationReason.CUSTOMER_REQUEST)
        elif outcome and outcome.startswith("switch:"):
            events.append(FollowupAction(f"{outcome.split(':', 1)[1]}_form"))
        elif outcome in (None, "completed"):
            if outcome is None:  # completed here (normally the form's last validation already did it)
                events += await handler.complete(dispatcher, tracker, domain)
                events.append(SlotSet("last_function", handler.function_id))
            if handler.function_id == "safety_hazard" or tracker.get_slot("safety_risk"):
                # danger: the urgent order is filed; a person also takes the case if anyone is online
                events += escalate(dispatcher, tracker, reason=EscalationReason.SAFETY, priority=Priority.URGENT) or []
        if outcome in (None, "completed", "dismissed", "cancelled") and not any(
            e.get("event") == "pause" for e in events
        ):
            events += next_request(dispatcher, tracker, domain)
        offered = tracker.get_slot("offered_function") or any(
            e.get("name") == "offered_function" and e.get("value") for e in events
        )
        slots = ServiceForm.required(domain, form) if form else []
        events += [SlotSet(s, None) for s in slots if s not in KEEP and not (offered and s == "address")]
        # the follow-up form (a switch) must come after the slot resets, so it starts clean
        followup = [e for e in events if e.get("event") == "followup"]
        events = [e for e in events if e.get("event") != "followup"]
        return events + [SlotSet("form_outcome", None), SlotSet("fallback_count", 0)] + followup
