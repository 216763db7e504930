"""Session start: remember the channel and the caller's number from the first message's metadata."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import extract
from actions.forms.outage import outage_message
from actions.services import services
from backend.contact_centre import Channel

CUSTOMER_CHANNELS = (Channel.CHAT, Channel.VOICE, Channel.WECHAT, Channel.APP)

PROOF = ("verified_account", "phone_last4", "holder_name")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        events = [SessionStarted()]
        # carry over what the previous session learnt, except any proof of identity: that ends with the session
        services().identity.forget(tracker.sender_id)
        events += [
            SlotSet(k, v)
            for k, v in tracker.current_slot_values().items()
            if v is not None and k not in ("requested_slot", "form_outcome", *PROOF)
        ]
        metadata = tracker.get_slot("session_started_metadata")
        metadata = metadata if isinstance(metadata, dict) else {}  # a channel may send anything here
        channel = metadata.get("channel")
        caller = extract.mobile(str(metadata.get("caller") or ""))
        if channel in CUSTOMER_CHANNELS:
            events.append(SlotSet("channel", channel))
        if caller:
            events.append(SlotSet("caller_phone", caller))
        if caller and channel != Channel.VOICE:  # calls hear it in the IVR greeting (voice.prompts)
            tell_outage_first(dispatcher, tracker, caller)
        return events + [ActionExecuted("action_listen")]


def tell_outage_first(dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> None:
    """A customer the channel knows (their registered phone) whose area has a known or suspected outage is told
    before anything else."""
    customer = services().cis.find_customer_by_phone(phone)
    told = outage_message(customer.area_code, tracker) if customer else None
    if told:
        dispatcher.utter_message(text=told, notice="outage")
