"""Shared behaviour of every form's validation action.

Each user turn while a form is active: stop on "cancel"/"转人工"; extract the slots this form needs (entities
first, then patterns in the text, the whole answer for the slot just asked); answer a side question and
carry on; announce corrections; after three unusable answers offer a human. Always returns at least one
SlotSet so Rasa never rejects the form, and the form's own subclass only adds `validate_<slot>` checks and
`complete()`, the step that does the job once all slots are filled.
"""
from __future__ import annotations

from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import extract
from actions.services import services

SLOT_LABELS = {"address": "地址", "contact_phone": "联系电话", "new_phone": "新手机号", "account_no": "户号",
               "bill_month": "查询月份", "order_ref": "工单号"}
REPROMPTS = {
    "account_no": "不好意思，没听清户号。户号是十位数字，在电费单上能找到。",
    "phone_last4": "不好意思，请说四位数字，就是登记手机号的最后四位。",
    "contact_phone": "不好意思，没听清电话号码，请再说一遍。",
    "new_phone": "不好意思，没听清新的手机号，请再说一遍。",
    "bill_month": "不好意思，没听清是哪个月。",
    "safety_risk": "请您说“有”或者“没有”。",
    "order_ref": "不好意思，没听清。工单号是字母G加十一位数字。",
    "tou_action": "请您说“开通”或者“取消”。",
    "connection_type": "请说一下是新装、增容还是临时用电。",
}
SIDE_QUESTION_CONFIDENCE = 0.6
SWITCH_CONFIDENCE = 0.75   # a confident request for another form-kind service replaces the current one
STOP_CONFIDENCE = 0.5
MAX_ATTEMPTS = 3
DESCRIPTION_SLOTS = ("details", "fault_desc")


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    confidence = intent.get("confidence")
    if confidence is None and intent.get("name"):   # set by a channel (trigger_intent), not guessed by NLU
        confidence = 1.0
    return intent.get("name"), float(confidence or 0.0)


def entity(tracker: Tracker, name: str) -> str | None:
    return next(tracker.get_latest_entity_values(name), None)


class ServiceForm(FormValidationAction):
    form: ClassVar[str] = ""
    function_id: ClassVar[str] = ""
    phone_slot: ClassVar[str] = "contact_phone"     # where an 11-digit number goes
    opening_min_chars: ClassVar[int] = 8            # an opening request this long is already the description
    registry: ClassVar[dict[str, "ServiceForm"]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.form:
            ServiceForm.registry[cls.form] = cls()

    def name(self) -> str:
        return f"validate_{self.form}"

    @staticmethod
    def required(domain: DomainDict, form: str) -> list[str]:
        return list((domain.get("forms", {}).get(form) or {}).get("required_slots", []))

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        intent, confidence = latest_intent(tracker)
        requested = tracker.get_slot("requested_slot")
        required = self.required(domain, self.form)
        if requested and confidence >= STOP_CONFIDENCE and intent in ("cancel", "human_agent"):
            return self.stop("cancelled" if intent == "cancel" else "handoff")

        side = (intent not in (None, self.function_id, "inform", "affirm", "deny", "human_agent")
                and intent in services().catalog.functions and confidence >= SIDE_QUESTION_CONFIDENCE)
        values = self.extract(tracker, text, intent, requested, required, side)
        if requested and requested not in values and side and requested not in DESCRIPTION_SLOTS:
            if confidence >= SWITCH_CONFIDENCE and f"{intent}_form" in domain.get("forms", {}):
                dispatcher.utter_message(text=f"好的，先帮您办理{services().catalog.name(intent)}。")
                return self.stop(f"switch:{intent}")
            return self.answer_side_question(dispatcher, text, intent)

        events: list[EventType] = []
        before = len(dispatcher.messages)
        for slot, value in values.items():
            checked = await self.check(slot, value, dispatcher, tracker, domain)
            for key, val in checked.items():
                previous = tracker.get_slot(key)
                if val is not None and previous not in (None, val) and key in SLOT_LABELS and key != requested:
                    dispatcher.utter_message(text=f"好的，{SLOT_LABELS[key]}已改为{val}。")
                events.append(SlotSet(key, val))
                tracker.slots[key] = val
        events += self.prefill(tracker, required)
        filled = {e["name"] for e in events if e.get("value") is not None}
        if requested and requested not in filled:
            attempts = int(tracker.get_slot("slot_attempts") or 0) + 1
            if attempts >= MAX_ATTEMPTS:
                dispatcher.utter_message(text="这一步好像不太顺利，我帮您转人工客服，好吗？",
                                         buttons=[{"title": "好的", "payload": "/affirm"},
                                                  {"title": "不用了", "payload": "/deny"}])
                return events + self.stop("offered_human") + [SlotSet("offered_human", True)]
            if len(dispatcher.messages) == before:
                dispatcher.utter_message(text=REPROMPTS.get(requested, "不好意思，没有听清楚。"))
            return events + [SlotSet("slot_attempts", attempts)]
        events.append(SlotSet("slot_attempts", 0))
        return events + await self.complete_if_done(dispatcher, tracker, domain, required, events)

    async def complete_if_done(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                               required: list[str], events: list[EventType]) -> list[EventType]:
        """Completes the request in the same action call that fills its last slot.

        Rasa keeps an action's events only if the call succeeds: should the action server die after writing
        the work order, the form is still waiting for that slot, the customer's repeat completes it again,
        and the order's idempotency key hands back the order already written (action_submit_request then
        only tidies up)."""
        values = {**tracker.current_slot_values(), **{e["name"]: e["value"] for e in events if e.get("event") == "slot"}}
        if tracker.get_slot("form_outcome") or any(values.get(slot) is None for slot in required):
            return []
        tracker.slots.update(values)
        done = await self.complete(dispatcher, tracker, domain)
        return done + [SlotSet("last_function", self.function_id), SlotSet("form_outcome", "completed")]

    def extract(self, tracker: Tracker, text: str, intent: str | None, requested: str | None,
                required: list[str], side: bool) -> dict[str, Any]:
        """Candidate values for this form's slots found in the latest message."""
        if text.startswith("/"):   # a button payload carries no slot values
            return {}
        asked = lambda slot: requested == slot
        opening = requested is None and intent == self.function_id
        found: dict[str, Any] = {
            "account_no": entity(tracker, "account_no") or extract.account_no(text),
            self.phone_slot: extract.mobile(entity(tracker, "phone") or text),
            # the pattern sees whole addresses; the CRF entity can stop at a token boundary ("…501" of "501室")
            "address": extract.address(text, whole_text=asked("address") and not side) or entity(tracker, "address"),
            "bill_month": extract.month(entity(tracker, "month") or text),
            "tou_action": extract.tou_action(text),
            "connection_type": extract.connection_type(text),
            "order_ref": (extract.order_no(entity(tracker, "order_no") or text, bare_digits=asked("order_ref"))
                          or (extract.account_no(text) if asked("order_ref") else None)),
            "safety_risk": True if extract.dangerous(text) else None,
        }
        corrects_something = any(found[k] for k in ("address", self.phone_slot, "account_no"))
        if asked("safety_risk") and found["safety_risk"] is None and not corrects_something:
            found["safety_risk"] = extract.yes_no(text, intent)
        if asked("phone_last4"):
            full = extract.mobile(text)
            found["phone_last4"] = full[-4:] if full else extract.last4(text)
        if asked("bill_month") and any(w in text for w in ("最近", "最新", "都行", "随便")):
            found["bill_month"] = "latest"
        for slot in DESCRIPTION_SLOTS:
            if asked(slot) and len(text) >= 2:
                found[slot] = text[:500]
            elif opening and len(text) >= self.opening_min_chars:
                found[slot] = text[:500]
        return {k: v for k, v in found.items() if k in required and v is not None}

    async def check(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                    domain: DomainDict) -> dict[str, Any]:
        method = getattr(self, f"validate_{slot}", None)
        if method is None:
            return {slot: value}
        return await method(value, dispatcher, tracker, domain)

    def prefill(self, tracker: Tracker, required: list[str]) -> list[EventType]:
        """Details already known in this conversation are not asked again."""
        events = []
        verified = tracker.get_slot("verified_account")
        if "account_no" in required and verified and not tracker.get_slot("account_no"):
            events.append(SlotSet("account_no", verified))
            tracker.slots["account_no"] = verified
        if "phone_last4" in required and verified and tracker.get_slot("account_no") == verified \
                and not tracker.get_slot("phone_last4"):
            events.append(SlotSet("phone_last4", "已核验"))
        caller = tracker.get_slot("caller_phone")
        if "contact_phone" in required and caller and not tracker.get_slot("contact_phone"):
            events.append(SlotSet("contact_phone", caller))
        return events

    def answer_side_question(self, dispatcher: CollectingDispatcher, text: str, intent: str) -> list[EventType]:
        hit = services().kb.answer(text, intent)
        answer = hit.spoken if hit else f"关于{services().catalog.name(intent)}，稍后我可以详细为您介绍。"
        dispatcher.utter_message(text=f"{answer}我们接着办刚才的事。")
        return [SlotSet("last_function", intent), SlotSet("slot_attempts", 0)]

    @staticmethod
    def stop(outcome: str) -> list[EventType]:
        return [SlotSet("form_outcome", outcome), SlotSet("slot_attempts", 0), SlotSet("requested_slot", None)]

    # --- checks shared by several forms ---------------------------------------------------------------
    async def validate_account_no(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if services().cis.get_customer(value) is None:
            dispatcher.utter_message(text=f"没有查到户号{value}，请您核对一下再说一遍。")
            return {"account_no": None}
        return {"account_no": value}

    async def validate_phone_last4(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        account = tracker.get_slot("account_no")
        if account and services().cis.verify_identity(account, value):
            return {"phone_last4": value, "verified_account": account}
        dispatcher.utter_message(text="手机号后四位和我们登记的不一致，请您再核对一下。")
        return {"phone_last4": None}

    async def validate_contact_phone(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return {"contact_phone": value}

    async def validate_address(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if not extract.looks_like_address(value) and services().cis.find_area(value) is None:
            dispatcher.utter_message(text="不好意思，没听清地址。请说一下在哪个区、哪条路，或者附近有什么明显的地方。")
            return {"address": None}
        return {"address": value}

    async def complete(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> list[EventType]:
        raise NotImplementedError
