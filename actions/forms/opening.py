"""How a form takes the message that started it (mixed into ServiceForm): a rejection or withdrawal ("我没说要复电"),
a request that belongs to another form ("不是停电，是电压不稳"; a hazard first), a supplement to the order just filed
or the same request again (one request is one order), and danger or upset acknowledged before any question."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import acts, descriptions, extract, followups, places, wording
from actions.forms.confirm import CONFIRM_SLOT, DESCRIPTION_SLOTS
from actions.services import services
from actions.withdraw import withdraw, withdrawable
from backend.cis import OrderInfo


def safety_advice(text: str) -> str:
    """What to do first near a downed or sparking wire, from the knowledge base."""
    query = "变压器冒烟着火怎么办" if re.search(r"冒烟|着火|起火|烧", text or "") else "看到电线掉在地上怎么办"
    hit = services().kb.answer(query, "safety_hazard")
    advice = hit.spoken.replace("我马上为您登记抢修。", "") if hit else ""
    return advice or "请您和家人远离断线至少十米，不要用手或木棍去碰。"


class Openings:
    """Mixed into ServiceForm, which provides the rest of a form (below, for the type checker only)."""

    function_id: ClassVar[str] = ""

    if TYPE_CHECKING:

        @staticmethod
        def stop(outcome: str) -> list[EventType]: ...

        @staticmethod
        def unanswered(tracker: Tracker) -> str: ...

        def extract(
            self,
            tracker: Tracker,
            text: str,
            intent: str | None,
            requested: str | None,
            required: list[str],
            side: bool,
        ) -> dict[str, Any]: ...

        def answer_side_question(
            self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str, carry_on: bool = True
        ) -> list[EventType]: ...

    def opening(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, required: list[str]
    ) -> list[EventType] | None:
        """The message that started this form: a rejection ("我没说要复电"), a supplement to the order just
        filed, or an upset customer who is acknowledged before any question. None: carry on as usual."""
        if self.function_id != "bill_query" and extract.month_before_told(text, tracker.get_slot("last_bill_month")):
            return self.stop("switch:bill_query") + [SlotSet("carried_text", text)]  # "那它前面那个月呢" after a bill
        last = tracker.get_slot("last_order_no")
        name = services().catalog.name(self.function_id)
        wanted = acts.wants_function(text, self.function_id)  # "谁让你取消了？我要投诉…" objects to the bot
        if not wanted and (acts.undoes(text) or acts.withdraws(text) or acts.rejects(text)):
            order = withdrawable(tracker)
            meant = order and (
                order.function_id == self.function_id
                or acts.refers_to_order(text)
                or acts.rejects_function(text, order.function_id)
            )
            if meant and (acts.undoes(text) or acts.withdraws(text) or self.just_filed(tracker, order)):
                lead = "抱歉，是我理解错了。" if acts.undoes(text) else "好的，"
                return withdraw(dispatcher, tracker, order, lead) + self.stop("dismissed")
            if acts.undoes(text) or acts.rejects_function(text, self.function_id):
                dispatcher.utter_message(text=f"好的，不给您办理{name}。{wording.CLOSING}")
                return self.stop("dismissed")
        if (
            self.function_id == "safety_hazard"
            and extract.no_danger(text)
            and re.search(r"没电|停电|不亮|黑了|跳闸|老跳|一直跳|就是跳|跳了", text)
        ):
            return self.stop("switch:fault_repair") + [SlotSet("carried_text", text)]  # a power cut, not a hazard
        if (
            self.function_id in ("theft_report", "meter_issue", "power_quality", "complaint")
            and extract.dangerous(self.unanswered(tracker) + text)
            and not re.search(r"偷|窃|私拉|私接|绕过|绕表|改表|投诉|态度|不满|太慢", text)
        ):
            return self.stop("switch:safety_hazard") + [SlotSet("carried_text", text)]  # danger first
        if (
            self.function_id == "arrears_reconnect"
            and acts.asks(text)
            and not re.search(r"复电|来电|恢复|送电|通电", text)
        ):
            if re.search(r"交|缴|付|充", text):  # "欠钱了啊，那我咋交啊": how to pay, not a reconnection
                return self.answer_side_question(dispatcher, tracker, text, "payment", False) + self.stop("dismissed")
            return self.stop("switch:balance_query") + [
                SlotSet("carried_text", text)
            ]  # "还欠不欠钱？" asks, files nothing
        if self.function_id == "tou_apply" and acts.asks(text) and extract.tou_action(text) is None:
            answered = self.answer_side_question(dispatcher, tracker, text, "tariff_query", False)  # "峰谷电价怎么收费"
            return answered + self.stop("dismissed")
        if self.function_id == "contact_change" and acts.asks_staff_phone(text):
            return self.stop("switch:progress_query") + [SlotSet("carried_text", text)]  # "能给我张师傅的电话吗"
        if self.function_id == "contact_change" and not re.search(r"改|换|变更|更新|新号|新的号|不用了|停用", text):
            from actions import context  # a 户号 and 尾号 given for the request the bot missed just before

            earlier = context.earlier_request(tracker)
            if earlier and earlier != self.function_id:
                return self.stop(f"switch:{earlier}")
        if (
            self.function_id == "fault_repair"
            and tracker.get_slot("last_function") == "outage_query"
            and places.only_address(text)
        ):  # an address right after an outage answer: that place's outage
            return self.stop("switch:outage_query") + [SlotSet("carried_text", text), SlotSet("address", None)]
        if self.function_id == "complaint" and acts.chases(text) and extract.order_no(text) and "投诉" not in text:
            return self.stop("switch:progress_query") + [SlotSet("carried_text", text)]  # "单号G…还没人来 催一下"
        if self.function_id == "fault_repair" and acts.chases(text) and not extract.mobile(text):
            return self.stop("switch:progress_query") + [SlotSet("carried_text", text)]  # "报修都多久了还没人来"
        if self.function_id == "power_quality" and extract.power_cut(text):
            return self.stop("switch:fault_repair") + [SlotSet("carried_text", text)]  # "灯闪了一下就没电了"
        if (
            self.function_id == "meter_issue"
            and extract.connection_type(text)
            and not re.search(r"坏|快|慢|不走|乱跳|显示|校验|读数|不准|换表", text)
        ):
            return self.stop("switch:new_connection") + [SlotSet("carried_text", text)]  # "要申请装电"
        if last and descriptions.supplements(text):
            amended = followups.amend_last_order(dispatcher, tracker)  # "补充一下…": into the order just filed
            if amended is not None:
                return amended + self.stop("dismissed")
        done = followups.recent_order(tracker)
        if (
            done
            and (extract.mobile(text) or extract.caller_means_this_phone(text))
            and not descriptions.describes(extract.without_numbers(text))
        ):
            amended = followups.amend_last_order(dispatcher, tracker)  # only a number for the order just filed
            if amended is not None:
                return amended + self.stop("dismissed")
        new = self.extract(tracker, text, self.function_id, None, required, False)
        same_place = (
            not new.get("address") or followups.refined_address(str(done.details.get("address") or ""), new["address"])
            if done
            else False
        )
        if (
            done
            and done.function_id == self.function_id
            and CONFIRM_SLOT in required
            and same_place
            and not new.keys() - {"contact_phone", "account_no", "address", "safety_risk", *DESCRIPTION_SLOTS}
        ):
            # the same request again, or more about it: one request is one order
            amended = followups.amend_last_order(dispatcher, tracker)
            if amended is None:
                dispatcher.utter_message(
                    text=f"这件事刚才已经为您登记了，工单号{wording.order_number(tracker, done.number)}，"
                    "不会重复登记。有新情况直接告诉我就行。"
                )
            return (amended or []) + self.stop("dismissed")
        if self.function_id in ("fault_repair", "safety_hazard") and extract.dangerous(text):
            dispatcher.utter_message(text=safety_advice(text) + "我马上按紧急情况为您登记。")
        elif acts.upset(text):
            dispatcher.utter_message(text="非常抱歉让您着急了，我马上帮您处理。")
        return None

    @staticmethod
    def just_filed(tracker: Tracker, order: OrderInfo) -> bool:
        """The order was filed in reply to one of the customer's last two messages."""
        return order.number in " ".join(e.get("text") or "" for e in tracker.events[-12:] if e.get("event") == "bot")

    def rejected(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        intent: str | None,
        confidence: float,
    ) -> list[EventType]:
        """ "我不报修 我要充值复电" / "算了先不投诉了，你先帮我查查11月电费": leave this form; go to the other
        request when one is named (with its words)."""
        text = tracker.latest_message.get("text") or ""
        other = followups.named_request(text, exclude={self.function_id})
        if other and f"{other['function']}_form" in domain.get("forms", {}):
            dispatcher.utter_message(text=f"好的，这个先不办了，帮您办理{services().catalog.name(other['function'])}。")
            return self.stop(f"switch:{other['function']}") + [SlotSet("carried_text", text)]
        if intent and intent != self.function_id and confidence >= 0.3 and f"{intent}_form" in domain.get("forms", {}):
            dispatcher.utter_message(text=f"好的，这个先不办了，帮您办理{services().catalog.name(intent)}。")
            return self.stop(f"switch:{intent}") + [SlotSet("carried_text", text)]
        return self.stop("cancelled")
