"""Requests on one customer account: identity first (户号 + last four digits of the registered phone)."""
from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.forms.base import ServiceForm
from actions.forms.record import record, spoken_number
from actions.services import money, services

CLOSING = "还有别的需要帮您的吗？"


def month_words(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:])}月"


class ValidateBillQueryForm(ServiceForm):
    form = "bill_query_form"
    function_id = "bill_query"

    async def validate_bill_month(self, value, dispatcher, tracker, domain):
        account = tracker.get_slot("account_no")
        if value == "latest" or not account:
            return {"bill_month": value}
        if services().cis.get_bill(account, value) is None:
            dispatcher.utter_message(text=f"{month_words(value)}还没有出账单，可以查最近一年内已出账的月份。")
            return {"bill_month": None}
        return {"bill_month": value}

    async def complete(self, dispatcher, tracker, domain):
        account, month = tracker.get_slot("account_no"), tracker.get_slot("bill_month")
        bill = services().cis.get_bill(account, None if month == "latest" else month)
        if bill is None:
            dispatcher.utter_message(text="暂时没有查到这个月的账单。" + CLOSING)
            return []
        paid = "已经缴清" if bill.paid else "还没有缴费，您可以在网上国网App或者微信、支付宝生活缴费里交"
        order = record(tracker, self.function_id, {"month": bill.month}, account_no=account, status="resolved")
        dispatcher.utter_message(text=f"您{month_words(bill.month)}的电费是{money(bill.amount)}，用电{bill.kwh:g}度，{paid}。"
                                      f"服务记录号{spoken_number(order.number)}。{CLOSING}")
        return [SlotSet("last_order_no", order.number)]


class ValidateBalanceQueryForm(ServiceForm):
    form = "balance_query_form"
    function_id = "balance_query"

    async def complete(self, dispatcher, tracker, domain):
        cis, account = services().cis, tracker.get_slot("account_no")
        balance = cis.get_balance(account)
        if balance is None:
            bill = cis.get_bill(account)
            owed = f"最近一期{month_words(bill.month)}的电费{money(bill.amount)}还没有缴。" if bill and not bill.paid \
                else "目前没有欠费。"
            text = f"您是按月结算的用户，没有预付费余额。{owed}"
        elif balance < 0:
            text = f"您的电费账户目前欠费{money(-balance)}，请尽快充值，以免影响用电。"
        else:
            text = f"您的电费余额是{money(balance)}。" + ("余额不多了，建议尽快充值。" if balance < 20 else "")
        order = record(tracker, self.function_id, {"balance": balance}, account_no=account, status="resolved")
        dispatcher.utter_message(text=f"{text}服务记录号{spoken_number(order.number)}。{CLOSING}")
        return [SlotSet("last_order_no", order.number)]


class ValidateArrearsReconnectForm(ServiceForm):
    form = "arrears_reconnect_form"
    function_id = "arrears_reconnect"

    async def complete(self, dispatcher, tracker, domain):
        cis, account = services().cis, tracker.get_slot("account_no")
        balance = cis.get_balance(account)
        bill = cis.get_bill(account)
        owed = -balance if balance is not None and balance < 0 else (bill.amount if bill and not bill.paid else 0.0)
        if owed > 0:
            order = record(tracker, self.function_id, {"owed": owed}, account_no=account, status="awaiting_payment")
            text = (f"系统显示还欠费{money(owed)}。缴清后，复电一般在二十四小时内完成。"
                    f"已为您登记复电申请，工单号{spoken_number(order.number)}，缴费后会自动处理。")
        else:
            order = record(tracker, self.function_id, {"owed": 0}, account_no=account)
            text = (f"系统显示您已经缴清了。已为您登记复电，工单号{spoken_number(order.number)}，"
                    "一般二十四小时内恢复供电，如果超时没来电，请再联系我们。")
        dispatcher.utter_message(text=text + CLOSING)
        return [SlotSet("last_order_no", order.number)]


class ValidateTouApplyForm(ServiceForm):
    form = "tou_apply_form"
    function_id = "tou_apply"

    async def complete(self, dispatcher, tracker, domain):
        cis, account = services().cis, tracker.get_slot("account_no")
        enable = tracker.get_slot("tou_action") == "enable"
        customer = cis.get_customer(account)
        if customer and customer.tou_enabled == enable:
            dispatcher.utter_message(text=("您已经开通了峰谷电价，不用重复办理。" if enable else "您目前没有开通峰谷电价。") + CLOSING)
            return []
        order = record(tracker, self.function_id, {"action": "开通" if enable else "取消"}, account_no=account)
        cis.set_tou(account, enable)
        what = "开通峰谷电价" if enable else "取消峰谷电价"
        dispatcher.utter_message(text=f"已为您受理{what}，下个抄表周期起生效。工单号{spoken_number(order.number)}。{CLOSING}")
        return [SlotSet("last_order_no", order.number)]


class ValidateContactChangeForm(ServiceForm):
    form = "contact_change_form"
    function_id = "contact_change"
    phone_slot = "new_phone"

    async def validate_new_phone(self, value, dispatcher, tracker, domain):
        customer = services().cis.get_customer(tracker.get_slot("account_no") or "")
        if customer and customer.phone == value:
            dispatcher.utter_message(text="这个号码和现在登记的一样，不用修改。请说一个新的号码。")
            return {"new_phone": None}
        return {"new_phone": value}

    async def complete(self, dispatcher, tracker, domain):
        cis, account, phone = services().cis, tracker.get_slot("account_no"), tracker.get_slot("new_phone")
        order = record(tracker, self.function_id, {"new_phone_last4": phone[-4:]}, account_no=account,
                       status="resolved")
        cis.change_phone(account, phone)
        dispatcher.utter_message(text=f"已把联系电话改为尾号{phone[-4:]}的号码，以后的通知会发到这个号码。"
                                      f"工单号{spoken_number(order.number)}。{CLOSING}")
        return [SlotSet("last_order_no", order.number), SlotSet("verified_account", None)]
