"""Fault repair (报修) and outage look-up: both start from where the customer is."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import extract, wording
from actions.forms.base import ServiceForm, safety_advice
from actions.forms.identity import known_account
from actions.forms.record import file_order
from actions.services import services


def outage_message(area_code: str, tracker=None) -> str | None:
    outages = services().cis.active_outages(area_code)
    if not outages:
        return None
    o = outages[0]
    kind = "计划停电" if o.kind == "planned" else "故障停电"
    when = wording.time_of(tracker, o.expected_end) if tracker is not None else wording.spoken_time(o.expected_end)
    return f"您所在的{o.area_name}目前有{kind}，原因是{o.reason}，预计{when}恢复供电。"


class ValidateFaultRepairForm(ServiceForm):
    form = "fault_repair_form"
    function_id = "fault_repair"
    opening_min_chars = 4

    async def validate_safety_risk(self, value, dispatcher, tracker, domain):
        text = tracker.latest_message.get("text") or ""
        if value and not tracker.get_slot("safety_risk") and tracker.get_slot("requested_slot"):
            dispatcher.utter_message(text=safety_advice(text) + "我会按紧急报修处理。")  # danger said mid-way
        return {"safety_risk": bool(value)}

    async def complete(self, dispatcher, tracker, domain):
        cis, address = services().cis, tracker.get_slot("address")
        area = cis.find_area(address)
        urgent = bool(tracker.get_slot("safety_risk"))
        account = known_account(tracker) or tracker.get_slot("account_no")
        order, new = file_order(
            tracker,
            self.function_id,
            {
                "address": address,
                "area": area[1] if area else None,
                "description": tracker.get_slot("fault_desc"),
                "safety_risk": urgent,
                "contact_phone": tracker.get_slot("contact_phone"),
            },
            account_no=account,
            priority="urgent" if urgent else "normal",
        )
        number = wording.order_number(tracker, order.number)
        if not new:
            dispatcher.utter_message(
                text=f"这个地址刚才已经为您报修过了，工单号{number}，不会重复登记。"
                "抢修人员会尽快和您联系，请保持电话畅通。"
            )
            return [SlotSet("last_order_no", order.number)]
        known = outage_message(area[0], tracker) if area else None
        lines = [
            known + "我们同时为您登记了报修。" if known else "已为您登记报修。",
            f"工单号是{number}。",
            "抢修人员会尽快和您联系，城区一般四十五分钟内到达现场，请保持电话畅通。",
        ]
        if urgent:
            lines.insert(1, "已按紧急情况处理。")
        dispatcher.utter_message(text="".join(lines))
        return [SlotSet("last_order_no", order.number)]


class ValidateOutageQueryForm(ServiceForm):
    form = "outage_query_form"
    function_id = "outage_query"

    def prefill(self, tracker, required):
        events = super().prefill(tracker, required)
        account = known_account(tracker)  # an address is read out only for a proved account
        customer = services().cis.get_customer(account) if account else None
        if customer is None and tracker.get_slot("caller_phone"):
            customer = services().cis.find_customer_by_phone(tracker.get_slot("caller_phone"))
        if customer and not tracker.get_slot("address"):
            events.append(SlotSet("address", customer.address))
        return events

    def extract(self, tracker, text, intent, requested, required, side):
        found = super().extract(tracker, text, intent, requested, required, side)
        account = tracker.get_slot("account_no") or (extract.account_no(text) if requested == "address" else None)
        if "address" not in found and account:
            customer = services().cis.get_customer(account)
            if customer:
                found["address"] = customer.address
        return found

    async def complete(self, dispatcher, tracker, domain):
        cis, address = services().cis, tracker.get_slot("address")
        area = cis.find_area(address)
        now = outage_message(area[0], tracker) if area else None
        if now:
            dispatcher.utter_message(text=now + "如果周围邻居都有电，只有您家没电，可以告诉我，帮您报修。")
            return []
        where = area[1] if area else "这个地址"
        dispatcher.utter_message(
            text=f"{where}目前没有查到计划停电或故障停电。要我帮您登记报修，安排抢修人员上门看看吗？",
            buttons=[]
            if wording.is_voice(tracker)
            else [{"title": "好的，报修", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}],
        )
        return [SlotSet("offered_function", "fault_repair")]
