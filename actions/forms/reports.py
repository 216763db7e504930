"""Requests that are written down and passed on as a work order. Forms with nothing of their own beyond the
catalog's wording (meter, voltage, hazards, theft, complaints, suggestions …) are built from the catalog
(actions/forms/catalog_forms.py); the classes here are the ones with code of their own."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import extract, wording
from actions.forms.base import CONFIRM_SLOT, ServiceForm
from actions.forms.identity import known_account
from actions.forms.record import file_order
from actions.services import services


class ReportForm(ServiceForm):
    """Records the collected slots as a work order and reads back the number with what happens next
    (the catalog's `done` wording of the function's form)."""

    promise_text: str = "工作人员会尽快处理并和您联系。"

    async def complete(self, dispatcher, tracker, domain):
        slots = self.required(domain, self.form)
        details = {s: tracker.get_slot(s) for s in slots if s not in ("phone_last4", CONFIRM_SLOT)}
        details.update(self.more_details(tracker, details))
        urgent = extract.dangerous(" ".join(self.form_texts(tracker) + [str(details.get("details") or "")]))
        account = known_account(tracker) or tracker.get_slot("account_no")
        order, new = file_order(
            tracker, self.function_id, details, account_no=account, priority="urgent" if urgent else "normal"
        )
        number = wording.order_number(tracker, order.number)
        if new:
            urgency = "已按紧急情况处理。" if urgent else ""
            dispatcher.utter_message(
                text=f"{self.received()}{urgency}工单号是{number}。{self.promise(tracker)}{wording.CLOSING}"
            )
        else:
            dispatcher.utter_message(
                text=f"这件事刚才已经登记过了，工单号{number}，新说的情况我已经补充进去，不会重复登记。{wording.CLOSING}"
            )
        return [SlotSet("last_order_no", order.number)]

    def more_details(self, tracker, details: dict) -> dict:
        more = {}
        address = details.get("address")
        area = services().cis.find_area(address) if address else None
        if area:
            more["area"] = area[1]
        if "contact_phone" not in details and tracker.get_slot("contact_phone"):
            more["contact_phone"] = tracker.get_slot("contact_phone")
        return more

    def done_wording(self) -> tuple[str | None, str | None]:
        form = services().catalog.forms.get(self.form)
        return (form.received, form.promise) if form else (None, None)

    def promise(self, tracker) -> str:
        return self.done_wording()[1] or self.promise_text

    def received(self) -> str:
        return self.done_wording()[0] or f"已为您登记{services().catalog.name(self.function_id)}。"


DOCUMENTS = {
    "居民新装": "请准备户主身份证和房产证明（购房合同或不动产权证）",
    "非居民新装": "请准备营业执照、法人或经办人身份证、房产证明或租赁合同，用电设备清单（要三相电请写明设备总功率）",
    "增容": "请准备户主身份证、房产证明，说明要增加到多少千瓦、增加的设备",
}


class ValidateNewConnectionForm(ReportForm):
    form = "new_connection_form"
    function_id = "new_connection"

    async def validate_connection_type(self, value, dispatcher, tracker, domain):
        if value == "临时用电":  # a service of its own (temporary_supply): it carries on there with these words
            dispatcher.utter_message(text="好的，帮您办理临时用电。")
            return {
                "connection_type": None,
                "form_outcome": "switch:temporary_supply",
                "slot_attempts": 0,
                "carried_text": tracker.latest_message.get("text") or "",
                "requested_slot": None,
            }
        return {"connection_type": value}

    def received(self) -> str:
        return "已为您提交用电申请。"

    def promise(self, tracker) -> str:
        kind = tracker.get_slot("connection_type") or "居民新装"
        return f"{DOCUMENTS.get(kind, DOCUMENTS['居民新装'])}，客户经理会联系您确认现场勘查时间。"
