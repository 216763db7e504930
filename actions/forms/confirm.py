"""The read-back before an order is filed, as a part of every form: the summary it reads and how it takes
the answer (yes files; a correction is applied and read again; a question is answered; a note about danger
is taken as information, not as a no)."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import extract, slot_readers, wording
from actions.services import services
from knowledge.catalog import CONFIRM_SLOT, catalog
from nlu.opening import after_opening

SLOTS = catalog().slots  # each slot's label and how it is read back: catalog/service_functions.yml
DESCRIPTION_SLOTS = tuple(name for name, s in SLOTS.items() if s.readback == "description")
SLOT_LABELS = {name: s.label for name, s in SLOTS.items() if s.labelled}
NAMES_ITEM = re.compile(r"(?:改|修改|要改)?(地址|联系电话|电话|手机号?|情况|描述|户号)(?:不对|错了|有误|要改|改一下)?")
CONFIRM_REPROMPT = (SLOTS[CONFIRM_SLOT].reprompt.chat, SLOTS[CONFIRM_SLOT].reprompt.voice)
DANGER_SLOT = "safety_risk"  # read back last, as the line "如果现场有冒烟、打火或电线掉落，请马上告诉我"
# "没有" right after that line answers it ("no smoke, no sparks"); "不对" would be the no to the read-back
READBACK_CHARS = 40


def brief(text: str, limit: int = READBACK_CHARS) -> str:
    """A long description read back up to a clause's end (then "等"), never cut inside a word. What was added to it
    ("…；他骂人") is always read back, so the customer hears that it was taken."""
    first, _, added = text.rpartition("；") if "；" in text and len(text) > limit else (text, "", "")
    if added:
        return f"{brief(first, limit - min(len(added), limit // 2))}；{brief(added, limit // 2)}"
    if len(text) <= limit:
        return text
    cut = max(text.rfind(mark, 0, limit) for mark in "，,。；; ")
    return (text[:cut] if cut >= limit // 2 else text[:limit]).rstrip("，,。；; ") + "等"


_NONE = r"(?:没有|没|(?:啥|什么|一个|一点)?(?:都|也)没有?|全没有?)"  # "没有" / "啥也没有" / "什么都没"
BARE_NO = re.compile(  # "没有 啥也没冒": the verb of the danger line may close it
    rf"^[\s，,。.…~嗯呃啊哦]*{_NONE}(?:[\s，,。.、…~]*{_NONE})*(?:冒|见|看到|发现)?[\s，,。.!！~啊呀的呢哦]*$"
)


NOT_FILED_YET = (  # thanks or goodbye at the read-back ("没有了，谢谢"): nothing is filed before its yes
    "刚才的{name}还没有提交哦，不需要了就不用管它。",
    "刚才的{name}还没有提交，不需要的话直接挂机就行。",
)


class ReadBack:
    """Mixed into ServiceForm, which provides function_id, form and required()."""

    def confirmation(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        text: str,
        intent: str | None,
        values: dict,
        corrected: bool,
    ) -> list[EventType]:
        """The answer to the read-back: yes files the order, a correction is applied and read back again."""
        changed = {k for k, v in values.items() if k != CONFIRM_SLOT and tracker.get_slot(k) != v}
        if corrected or changed:
            return [SlotSet(CONFIRM_SLOT, None)]  # the form reads the corrected summary back
        if answered_no_danger(tracker, text):  # "没冒烟，就是没电": about the danger, not a no to the read-back
            dispatcher.utter_message(text="好的，没有危险情况。")
            return [SlotSet(CONFIRM_SLOT, None)]
        item = NAMES_ITEM.fullmatch(re.sub(r"[\s，,。.!！?？啊呀吧]+", "", text))
        if item:  # "地址" (the item to change) is never a yes
            label = {"电话": "联系电话", "手机": "联系电话", "手机号": "联系电话", "描述": "情况"}.get(item[1], item[1])
            dispatcher.utter_message(
                text=wording.pick(tracker, f"好的，请直接发正确的{label}。", f"好的，请说正确的{label}。")
            )
            return [SlotSet(CONFIRM_SLOT, None)]
        answer = extract.yes_no(text, intent)
        if answer:
            tracker.slots[CONFIRM_SLOT] = True
            return [SlotSet(CONFIRM_SLOT, True)]
        if answer is False:
            chat = "好的，请问哪一项需要改？直接发正确的内容就行；不办了可以说“取消”。"
            voice = "好的，请问哪一项需要改？直接说正确的就行；不办了可以说取消。"
            dispatcher.utter_message(text=wording.pick(tracker, chat, voice))
        else:
            chat, voice = CONFIRM_REPROMPT
            dispatcher.utter_message(text=wording.pick(tracker, chat, voice))
        return [SlotSet(CONFIRM_SLOT, None)]

    def summary(self, tracker: Tracker, domain: DomainDict) -> str:
        """The read-back before filing: what, where, who to call."""
        parts, last = [services().catalog.name(self.function_id)], []
        for slot in self.required(domain, self.form):
            value, spec = tracker.get_slot(slot), SLOTS.get(slot)
            if value in (None, "") or spec is None or spec.readback == "skip":  # proofs are not read back
                continue
            if slot == DANGER_SLOT and isinstance(spec.readback, dict):
                if value or not answered_no_danger(tracker, tracker.latest_message.get("text") or ""):
                    last.append(spec.readback.get(value, ""))  # not again right after "没有，没冒烟"
            elif spec.readback == "description":
                parts.append(f"情况：{brief(after_opening(str(value)) or str(value))}")
            elif isinstance(spec.readback, dict):
                parts.append(spec.readback.get(value, ""))
            else:
                parts.append(f"{spec.label}{slot_readers.shown(spec, value)}")
        return "我跟您核对一下：" + "，".join(p for p in parts + last if p) + "。"


def answered_no_danger(tracker: Tracker, text: str) -> bool:
    """The customer's answer says there is no hazard: in words ("没冒烟"), or a bare "没有" to a read-back that
    ended on the danger line (a safety_risk already read as none)."""
    return extract.no_danger(text) or (tracker.get_slot(DANGER_SLOT) is False and bool(BARE_NO.match(text or "")))
