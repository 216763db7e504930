"""The read-back before an order is filed, as a part of every form: the summary it reads and how it takes
the answer (yes files; a correction is applied and read again; a question is answered; a note about danger
is taken as information, not as a no)."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import extract, wording
from actions.services import services

CONFIRM_SLOT = "order_confirmed"
DESCRIPTION_SLOTS = ("details", "fault_desc")
SLOT_LABELS = {"address": "地址", "contact_phone": "联系电话", "new_phone": "新手机号", "account_no": "户号",
               "bill_month": "查询月份", "order_ref": "工单号", "connection_type": "办理类型"}
CONFIRM_REPROMPT = ("以上信息对吗？对的话我就提交了；要改哪一项直接告诉我。", "以上信息对吗？对的话我就提交了，要改哪一项直接说。")


class ReadBack:
    """Mixed into ServiceForm, which provides function_id, form and required()."""

    def confirmation(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str | None,
                     values: dict, corrected: bool) -> list[EventType]:
        """The answer to the read-back: yes files the order, a correction is applied and read back again."""
        changed = {k for k, v in values.items() if k != CONFIRM_SLOT and tracker.get_slot(k) != v}
        if corrected or changed:
            return [SlotSet(CONFIRM_SLOT, None)]   # the form reads the corrected summary back
        if extract.no_danger(text):   # "没冒烟，就是没电": about the danger, not a no to the read-back
            dispatcher.utter_message(text="好的，没有危险情况。")
            return [SlotSet(CONFIRM_SLOT, None)]
        answer = extract.yes_no(text, intent)
        if answer:
            tracker.slots[CONFIRM_SLOT] = True
            return [SlotSet(CONFIRM_SLOT, True)]
        if answer is False:
            dispatcher.utter_message(text=wording.pick(tracker, "好的，请问哪一项需要改？直接发正确的内容就行；不办了可以说“取消”。",
                                                       "好的，请问哪一项需要改？直接说正确的就行；不办了可以说取消。"))
        else:
            chat, voice = CONFIRM_REPROMPT
            dispatcher.utter_message(text=wording.pick(tracker, chat, voice))
        return [SlotSet(CONFIRM_SLOT, None)]

    def summary(self, tracker: Tracker, domain: DomainDict) -> str:
        """The read-back before filing: what, where, who to call."""
        parts = [services().catalog.name(self.function_id)]
        for slot in self.required(domain, self.form):
            value = tracker.get_slot(slot)
            if value in (None, "") or slot in ("phone_last4", "holder_name", CONFIRM_SLOT):   # proofs are not read back
                continue
            if slot in DESCRIPTION_SLOTS:
                parts.append(f"情况：{str(value)[:40]}")
            elif slot == "safety_risk":
                parts.append("现场有危险，按紧急处理" if value else "如果现场有冒烟、打火或电线掉落，请马上告诉我")
            elif slot == "tou_action":
                parts.append("开通峰谷电价" if value == "enable" else "取消峰谷电价")
            elif slot in SLOT_LABELS:
                parts.append(f"{SLOT_LABELS[slot]}{value}")
        return "我跟您核对一下：" + "，".join(parts) + "。"

