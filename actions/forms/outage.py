"""Fault repair (报修) and outage look-up: both start from where the customer is."""
from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import extract
from actions.forms.base import ServiceForm
from actions.forms.record import record, spoken_number
from actions.services import services
from backend.spoken import spoken_time


def outage_message(area_code: str) -> str | None:
    outages = services().cis.active_outages(area_code)
    if not outages:
        return None
    o = outages[0]
    kind = "计划停电" if o.kind == "planned" else "故障停电"
    return f"您所在的{o.area_name}目前有{kind}，原因是{o.reason}，预计{spoken_time(o.expected_end)}恢复供电。"


class ValidateFaultRepairForm(ServiceForm):
    form = "fault_repair_form"
    function_id = "fault_repair"
    opening_min_chars = 4

    async def validate_safety_risk(self, value, dispatcher, tracker, domain):
        if value:
            dispatcher.utter_message(text="请您和家人远离危险的地方，不要靠近掉落的电线。我会按紧急报修处理。")
        return {"safety_risk": bool(value)}

    async def complete(self, dispatcher, tracker, domain):
        cis, address = services().cis, tracker.get_slot("address")
        area = cis.find_area(address)
        urgent = bool(tracker.get_slot("safety_risk"))
        account = tracker.get_slot("verified_account") or tracker.get_slot("account_no")
        order = record(tracker, self.function_id, {
            "address": address, "area": area[1] if area else None, "description": tracker.get_slot("fault_desc"),
            "safety_risk": urgent, "contact_phone": tracker.get_slot("contact_phone")},
            account_no=account, priority="urgent" if urgent else "normal")
        known = outage_message(area[0]) if area else None
        lines = [known + "我们同时为您登记了报修。" if known else "已为您登记报修。",
                 f"工单号是{spoken_number(order.number)}。",
                 "抢修人员会尽快和您联系，城区一般四十五分钟内到达现场，请保持电话畅通。"]
        if urgent:
            lines.insert(1, "已按紧急情况处理。")
        dispatcher.utter_message(text="".join(lines))
        return [SlotSet("last_order_no", order.number)]


class ValidateOutageQueryForm(ServiceForm):
    form = "outage_query_form"
    function_id = "outage_query"

    def prefill(self, tracker, required):
        events = super().prefill(tracker, required)
        account = tracker.get_slot("verified_account") or tracker.get_slot("account_no")
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
        if area is None:
            dispatcher.utter_message(text="这个地址我没能对应到供电片区。您可以在网上国网App的“停电信息”里查看，"
                                          "或者说“报修”，我帮您登记。")
            return []
        now = outage_message(area[0])
        order = record(tracker, self.function_id, {"address": address, "area": area[1]}, status="resolved")
        if now:
            text = now + "如果周围邻居都有电，只有您家没电，可以说“报修”。"
        else:
            text = f"{area[1]}目前没有停电信息。如果只有您家没电，可能是家里跳闸了，也可以说“报修”，我帮您登记。"
        dispatcher.utter_message(text=f"{text}本次查询记录号{spoken_number(order.number)}。")
        return [SlotSet("last_order_no", order.number)]
