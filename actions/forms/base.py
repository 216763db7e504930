"""Shared behaviour of every form's validation action.

Each user turn while a form is active: stop on "cancel"/"转人工"; extract the slots this form needs
(actions.forms.reading: entities first, then patterns in the text, the whole answer for the slot just asked);
answer a side question and carry on; announce corrections; after three unusable answers offer a human. Always
returns at least one SlotSet so Rasa never rejects the form, and the form's own subclass only adds
`validate_<slot>` checks and `complete()`, the step that does the job once all slots are filled.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import acts, extract, followups, places, slot_readers, wording
from actions.forms.confirm import CONFIRM_SLOT, DESCRIPTION_SLOTS, NOT_FILED_YET, SLOT_LABELS, SLOTS, ReadBack
from actions.forms.identity import ACCOUNT_ADDRESS_UNPROVEN, IdentityChecks, known_account
from actions.forms.opening import Openings
from actions.forms.reading import MessageReading
from actions.services import services
from nlu.opening import chinese_chars

REPROMPTS = {
    name: (s.reprompt.chat, s.reprompt.voice)  # slot -> (chat, voice), from the catalog
    for name, s in SLOTS.items()
    if s.reprompt
}
DEFAULT_REPROMPT = ("不好意思，我没看明白，能再说一下吗？", "不好意思，没有听清楚，请再说一遍。")
SIDE_QUESTION_CONFIDENCE = 0.6
SWITCH_CONFIDENCE = 0.75  # a confident request for another form-kind service replaces the current one
STOP_CONFIDENCE = 0.5
MAX_ATTEMPTS = 3
NO_ACCOUNT_NO = (
    "户号在电费单、缴费短信或网上国网App里都能找到。暂时找不到的话，我帮您转人工客服，用其他信息帮您核实，好吗？",
    "户号在电费单和缴费短信上都有。暂时找不到的话，我帮您转人工客服核实，好吗？",
)


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    confidence = intent.get("confidence")
    if confidence is None and intent.get("name"):  # set by a channel (trigger_intent), not guessed by NLU
        confidence = 1.0
    return intent.get("name"), float(confidence or 0.0)


class ServiceForm(Openings, MessageReading, IdentityChecks, ReadBack, FormValidationAction):
    form: ClassVar[str] = ""
    function_id: ClassVar[str] = ""
    registry: ClassVar[dict[str, ServiceForm]] = {}

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
        carried = tracker.get_slot("carried_text") if requested is None else None
        if carried:  # started for the second request of an earlier message: read that request's words
            text, intent, confidence = carried, self.function_id, 1.0
        if intent == "safety_hazard" and extract.no_danger(text):
            intent = "inform"  # "没冒烟也没打火": hazard words said to be absent are not a hazard report
        if intent == "cancel" and (
            re.search(r"不是取消|不取消|别取消", text)
            or (requested == CONFIRM_SLOT and extract.yes_no(text) is True)
            or not (acts.rejects(text) or re.search(r"取消|不办|不查|不用|不要|别", text))
        ):
            intent = "inform"  # "就是开通 不是取消"; "是，取消" confirms a cancellation being read back
        if requested and intent == "contact_change" and not acts.changes_registered_phone(text):
            intent = "inform"  # "电话改一下 留我老婆的" / "要修改": this request's details, not the registered phone
        external = not text or text.startswith("EXTERNAL")
        if intent == "human_agent" and not external and not acts.wants_person(text):
            intent = "inform"  # "我叫孙丽 电话…" is not a request for a person (an intent triggered from outside is)
        if requested and confidence >= STOP_CONFIDENCE and intent == "human_agent":
            return self.stop("handoff")
        if requested and self.leaves(intent, requested) and acts.leaving(text):
            if requested == CONFIRM_SLOT:  # everything is there but the yes: say so, and read it back again
                name = services().catalog.name(self.function_id)
                dispatcher.utter_message(text=wording.pick(tracker, *NOT_FILED_YET).format(name=name))
                return [SlotSet(CONFIRM_SLOT, None)]
            return self.stop("left")  # "谢谢 没别的了" at a question: the customer is leaving, not answering
        if (
            requested
            and confidence >= STOP_CONFIDENCE
            and intent == "cancel"
            and not self.answers_after_all(tracker, text, intent, requested, required)  # "算了 那十月份呢"
        ):
            return self.rejected(dispatcher, tracker, domain, None, 0.0)  # cancelled, or on to what it names
        later: list[EventType] = []
        if requested is None:
            opening = self.opening(dispatcher, tracker, text, required)
            if opening is not None:
                return opening
            pending = followups.second_request(text, self.function_id)
            if pending:
                later.append(SlotSet("pending_request", pending))
            if tracker.get_slot("offered_function"):
                later.append(SlotSet("offered_function", None))  # an offer not taken up lapses
        elif (
            acts.rejects(text)
            and not (self.phone_slot in required and extract.mobile(text) and not acts.changes_registered_phone(text))
            and not self.answers_after_all(tracker, text, intent, requested, required)
        ):  # "算了 电话改一下吧 留我老婆的 137…" changes this request's contact number, it does not leave it
            return self.rejected(dispatcher, tracker, domain, intent, confidence)

        side = (
            intent not in (None, self.function_id, "inform", "affirm", "deny", "human_agent")
            and intent in services().catalog.functions
            and confidence >= SIDE_QUESTION_CONFIDENCE
            and not (requested == CONFIRM_SLOT and extract.yes_no(text) is not None)
            and not (requested == "address" and places.means_account_address(text))
        )  # "对，赶紧处理" is a yes; "就户号那个地址" answers the question asked
        values = self.extract(tracker, text, intent, requested, required, side)
        earlier = self.unanswered(tracker).rstrip("；") if requested is None and not carried else ""
        if earlier:  # the message the bot did not understand just before is part of this request
            found = self.extract(tracker, earlier, intent, "address", required, False)
            values = {**{k: v for k, v in found.items() if k not in DESCRIPTION_SLOTS}, **values}
        if requested == "address" and not values.get("address") and places.means_account_address(text):
            dispatcher.utter_message(text=wording.pick(tracker, *ACCOUNT_ADDRESS_UNPROVEN))
        if requested == CONFIRM_SLOT and not values and acts.asks(text) and not extract.yes_no(text):
            return self.answer_side_question(dispatcher, tracker, text, intent if side else self.function_id)
        if (
            requested not in (None, CONFIRM_SLOT, *DESCRIPTION_SLOTS)
            and requested not in values
            and not side
            and acts.asks(text)
            and not values.keys() - {*DESCRIPTION_SLOTS, "safety_risk"}
            and (hit := services().kb.sure_answer(text)) is not None
        ):  # "这种你们管吗？" / "这个算紧急的吗？" asked instead of the answer: answered, then asked again
            dispatcher.utter_message(text=wording.article_line(tracker, hit.spoken) + "我们接着办刚才的事。")
            return [SlotSet("slot_attempts", 0)]
        if requested and requested not in values and side and requested not in DESCRIPTION_SLOTS and not values:
            instead = (re.match(r"(?:不是|不|没|别)", text) and acts.requests_something(text)) or acts.corrects_request(
                text
            )  # "不是坏了，是…我想申请增容"; "哦不对，不是停电，是电压不稳"
            if (
                (confidence >= SWITCH_CONFIDENCE or instead)
                and f"{intent}_form" in domain.get("forms", {})
                and not acts.asks(text)
            ):
                dispatcher.utter_message(text=f"好的，先帮您办理{services().catalog.name(intent)}。")
                return self.stop(f"switch:{intent}")
            return self.answer_side_question(dispatcher, tracker, text, intent)
        if (
            requested
            and requested not in DESCRIPTION_SLOTS
            and requested != CONFIRM_SLOT
            and intent == self.function_id
            and acts.asks(text)
            and all(tracker.get_slot(k) == v for k, v in values.items())
        ):
            # "取消了是从下个月开始吗": about this request
            return self.answer_side_question(dispatcher, tracker, text, intent)

        events: list[EventType] = []
        before = len(dispatcher.messages)
        corrected = False
        for slot, value in values.items():
            checked = await self.check(slot, value, dispatcher, tracker, domain)
            for key, val in checked.items():
                previous = tracker.get_slot(key)
                if val is not None and previous not in (None, val) and key in SLOT_LABELS and key != requested:
                    corrected = True
                    if requested != CONFIRM_SLOT:  # at the read-back the corrected summary is read again
                        shown = wording.month_words(val) if re.fullmatch(r"\d{4}-\d{2}", str(val)) else val
                        dispatcher.utter_message(text=f"好的，{SLOT_LABELS[key]}记为{shown}。")
                elif val is not None and previous not in (None, val) and key in DESCRIPTION_SLOTS:
                    corrected = True  # "对 把单号也写上" at the read-back: added, so it is read back again
                events.append(SlotSet(key, val))
                tracker.slots[key] = val
        if values.get("account_no") and "phone_last4" not in required and not tracker.get_slot("verified_account"):
            last4 = extract.last4_alongside(text)  # 户号 + 尾号 given anyway: the customer is verified for later
            if last4 and self.verify_alongside(tracker, values["account_no"], last4):
                events.append(SlotSet("verified_account", values["account_no"]))
                tracker.slots["verified_account"] = values["account_no"]
        events += self.prefill(tracker, required)
        events += later + ([SlotSet("carried_text", None)] if carried else [])
        if (
            "account_no" in required
            and requested in (None, "account_no")
            and not (tracker.get_slot("account_no") or values.get("account_no"))
            and extract.account_no_unknown(text, requested == "account_no")
        ):  # "我不知道户号": where to find it, and a person who can check it another way; not asked again and again
            dispatcher.utter_message(
                text=wording.pick(tracker, *NO_ACCOUNT_NO),
                buttons=[{"title": "好的", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}],
            )
            return events + self.stop("offered_human") + [SlotSet("offered_human", True)]
        if requested == CONFIRM_SLOT:
            return (
                events
                + self.confirmation(dispatcher, tracker, text, intent, values, corrected)
                + await self.complete_if_done(dispatcher, tracker, domain, required, events)
            )
        filled = {e["name"] for e in events if e.get("value") is not None}
        if requested and requested not in filled:
            attempts = int(tracker.get_slot("slot_attempts") or 0) + (0 if values else 1)
            if attempts >= MAX_ATTEMPTS:
                dispatcher.utter_message(
                    text="这一步好像不太顺利，我帮您转人工客服，好吗？",
                    buttons=[{"title": "好的", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}],
                )
                return events + self.stop("offered_human") + [SlotSet("offered_human", True)]
            if len(dispatcher.messages) == before and not values:
                chat, voice = REPROMPTS.get(requested, DEFAULT_REPROMPT)
                dispatcher.utter_message(text=wording.pick(tracker, chat, voice))
            elif len(dispatcher.messages) == before:
                dispatcher.utter_message(text="好的，记下了。")  # the form asks its question again
            return events + [SlotSet("slot_attempts", attempts)]
        events.append(SlotSet("slot_attempts", 0))
        return events + await self.complete_if_done(dispatcher, tracker, domain, required, events)

    async def complete_if_done(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        required: list[str],
        events: list[EventType],
    ) -> list[EventType]:
        """Completes the request in the same action call that fills its last slot.

        Rasa keeps an action's events only if the call succeeds: should the action server die after writing
        the work order, the form is still waiting for that slot, the customer's repeat completes it again,
        and the order's idempotency key hands back the order already written (action_submit_request then
        only tidies up)."""
        values = {
            **tracker.current_slot_values(),
            **{e["name"]: e["value"] for e in events if e.get("event") == "slot"},
        }
        if tracker.get_slot("form_outcome") or any(values.get(slot) is None for slot in required):
            return []
        unproven = self.unproven(tracker, values, required)
        if unproven:  # the proof is for another account, or has lapsed: ask again
            return [SlotSet(k, v) for k, v in unproven.items()]
        tracker.slots.update(values)
        done = await self.complete(dispatcher, tracker, domain)
        return done + [SlotSet("last_function", self.function_id), SlotSet("form_outcome", "completed")]

    async def check(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        method = getattr(self, f"validate_{slot}", None)
        if method is not None:
            return await method(value, dispatcher, tracker, domain)
        spec = SLOTS.get(slot)
        problem = slot_readers.problem(spec, value, tracker.current_slot_values()) if spec else None
        if problem:  # out of the range the catalog gives for this slot: said, and asked again
            dispatcher.utter_message(text=problem)
            return {slot: None}
        return {slot: value}

    def prefill(self, tracker: Tracker, required: list[str]) -> list[EventType]:
        """Details already known in this conversation are not asked again."""
        events = []
        verified = known_account(tracker)
        if "account_no" in required and verified and not tracker.get_slot("account_no"):
            events.append(SlotSet("account_no", verified))
            tracker.slots["account_no"] = verified
        events += [SlotSet(k, v) for k, v in self.proven_prefill(tracker, required).items()]
        caller = tracker.get_slot("caller_phone")
        if "contact_phone" in required and caller and not tracker.get_slot("contact_phone"):
            events.append(SlotSet("contact_phone", caller))
        elif "contact_phone" in required and verified and not tracker.get_slot("contact_phone"):
            customer = services().cis.get_customer(verified)  # the verified account's registered phone
            if customer:
                events.append(SlotSet("contact_phone", customer.phone))
        if "safety_risk" in required and tracker.get_slot("safety_risk") is None:
            # not asked as a question: danger is taken from the customer's words, and the read-back says
            # "如果现场有冒烟、打火或电线掉落，请马上告诉我" so that a customer who sees danger says so
            said = " ".join(self.form_texts(tracker))
            events.append(SlotSet("safety_risk", extract.dangerous(said)))
        return events

    @staticmethod
    def unanswered(tracker: Tracker) -> str:
        """The customer's previous messages (up to two) that the bot did not understand: part of this request."""
        users = [e for e in tracker.events if e.get("event") == "user"][:-1]
        missed = []
        for previous in reversed(users[-2:]):
            if ((previous.get("parse_data") or {}).get("intent") or {}).get("name") != "nlu_fallback":
                break
            missed.insert(0, previous.get("text") or "")
        said = "；".join(missed)
        return f"{said}；" if chinese_chars(said) >= 6 else ""

    def answers_after_all(
        self, tracker: Tracker, text: str, intent: str | None, requested: str, required: list[str]
    ) -> bool:
        """ "算了 那夏天8月份多少" when the month was asked: an answer after all, not leaving."""
        rest = acts.moved_on(text)
        return bool(rest) and bool(self.extract(tracker, rest, intent, requested, required, False).get(requested))

    def form_texts(self, tracker: Tracker) -> list[str]:
        """What the customer said since this form started, the message that started it included."""
        texts: list[str] = []
        started = False
        for e in reversed(tracker.events):
            if e.get("event") == "user":
                texts.append(e.get("text") or "")
                if started:  # the message the form was started by comes just before its active_loop event
                    break
            if e.get("event") == "active_loop" and e.get("name") == self.form:
                started = True
        text = tracker.latest_message.get("text") or ""
        return texts if text in texts else texts + [text]

    def answer_side_question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str, carry_on: bool = True
    ) -> list[EventType]:
        """The answer to a question asked while this form runs; `carry_on` False when the form ends with it."""
        hit = services().kb.answer(text, intent)
        name = services().catalog.name(intent)
        answer = wording.article_line(tracker, hit.spoken) if hit else f"关于{name}，稍后我可以详细为您介绍。"
        dispatcher.utter_message(text=answer + ("我们接着办刚才的事。" if carry_on else wording.CLOSING))
        return [SlotSet("last_function", intent), SlotSet("slot_attempts", 0)]

    @staticmethod
    def leaves(intent: str | None, requested: str) -> bool:
        """Words of leaving ("行 没别的了") said at a question: with thanks or a goodbye always; read as nothing
        in particular, except at a yes/no question, where "没有了" answers it."""
        spec = SLOTS.get(requested)
        return intent in ("thanks", "goodbye") or (
            intent in ("out_of_scope", "nlu_fallback") and spec is not None and spec.type != "bool"
        )

    @staticmethod
    def stop(outcome: str) -> list[EventType]:
        return [
            SlotSet("form_outcome", outcome),
            SlotSet("slot_attempts", 0),
            SlotSet("carried_text", None),
            SlotSet("requested_slot", None),
        ]

    # --- checks shared by several forms ---------------------------------------------------------------
    async def validate_contact_phone(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return {"contact_phone": value}

    async def validate_address(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if not places.looks_like_address(value) and services().cis.find_area(value) is None:
            dispatcher.utter_message(
                text=wording.pick(
                    tracker,
                    "请告诉我具体地址，比如哪个区、哪条路、几号，或者附近有什么明显的地方。",
                    "不好意思，没听清地址。请说一下在哪个区、哪条路，或者附近有什么明显的地方。",
                )
            )
            return {"address": None}
        return {"address": value}

    async def complete(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        raise NotImplementedError
