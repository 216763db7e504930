"""Requests on one customer account: identity first (户号 + last four digits of the registered phone)."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import extract, wording
from actions.forms.base import ServiceForm
from actions.forms.record import file_order
from actions.services import money, services
from actions.wording import month_words


def missing_bill(month: str) -> str:
    """Why a month has no bill: not billed yet, or older than the year of bills kept ("去年11月")."""
    return f"{month_words(month)}的账单" + ("还没出" if month >= (extract.month("这个月") or "") else "查不到了")


class ValidateBillQueryForm(ServiceForm):
    form = "bill_query_form"
    function_id = "bill_query"

    def extract(self, tracker, text, intent, requested, required, side):
        found = super().extract(tracker, text, intent, requested, required, side)
        earlier = extract.month_before_told(text, tracker.get_slot("last_bill_month"))
        if earlier:  # "那上个月呢" right after a bill: the month before the one just read
            found["bill_month"] = earlier
        return found

    async def validate_bill_month(self, value, dispatcher, tracker, domain):
        account = tracker.get_slot("account_no")
        if value == "latest" or not account:
            return {"bill_month": value}
        if services().cis.get_bill(account, value) is None and value != extract.month("这个月"):
            dispatcher.utter_message(text=f"{missing_bill(value)}，可以查最近一年内已出账的月份。")
            return {"bill_month": None}
        return {"bill_month": value}

    async def complete(self, dispatcher, tracker, domain):
        account, month = tracker.get_slot("account_no"), tracker.get_slot("bill_month")
        bill = services().cis.get_bill(account, None if month == "latest" else month)
        note = ""
        if bill is None and month != "latest":
            bill = services().cis.get_bill(account)  # "这个月" before it is billed: the latest bill, said so
            note = f"{missing_bill(month)}，" if bill else ""
        if bill is None:
            dispatcher.utter_message(text="暂时没有查到这个月的账单。" + wording.CLOSING)
            return []
        paid = "已经缴清" if bill.paid else "还没有缴费，您可以在网上国网App或者微信、支付宝生活缴费里交"
        text = f"{note}您{month_words(bill.month)}的电费是{money(bill.amount)}，用电{bill.kwh:g}度，{paid}。"
        compared = self.comparison(tracker, account, bill)
        dispatcher.utter_message(text=text + compared + ("" if compared else wording.CLOSING))
        return [SlotSet("last_bill_month", bill.month)] + (
            [SlotSet("offered_function", "meter_issue")] if compared else []
        )

    def comparison(self, tracker, account: str, bill) -> str:
        """ "怎么这么贵 / 多了这么多": the month before, side by side, with the likely reason."""
        said = " ".join(self.form_texts(tracker))
        if not any(
            w in said
            for w in (
                "贵",
                "高",
                "多了",
                "涨",
                "比上",
                "怎么多",
                "为什么",
                "咋这么",
                "差这么多",
                "好多",
                "这么多",
                "太多",
                "用不了",
                "用得了",
            )
        ):
            return ""
        prev = services().cis.get_bill(account, extract.earlier_month(bill.month))
        if prev is None:
            return ""
        diff, kwh = bill.amount - prev.amount, bill.kwh - prev.kwh
        if abs(diff) < 0.01:
            return f"和{month_words(prev.month)}一样。"
        more = "多" if diff > 0 else "少"
        why = "主要是用电量增加了，天冷取暖、热水器、空调用得多都会让电量上去。" if kwh > 0 and diff > 0 else ""
        return (
            f"{month_words(prev.month)}是{money(prev.amount)}，用电{prev.kwh:g}度，{int(bill.month[5:])}月{more}了{money(abs(diff))}，"
            f"电量{more}了{abs(kwh):g}度。{why}如果觉得电表走得不对，要我帮您登记校验电表吗？"
        )


class ValidateBalanceQueryForm(ServiceForm):
    form = "balance_query_form"
    function_id = "balance_query"

    async def complete(self, dispatcher, tracker, domain):
        cis, account = services().cis, tracker.get_slot("account_no")
        balance = cis.get_balance(account)
        if balance is None:
            bill = cis.get_bill(account)
            owed = (
                f"最近一期{month_words(bill.month)}的电费{money(bill.amount)}还没有缴。"
                if bill and not bill.paid
                else "目前没有欠费。"
            )
            text = f"您是按月结算的用户，没有预付费余额。{owed}"
        elif balance < 0:  # a bill told as paid just before is not contradicted: the debt is newer than it
            bill = cis.get_bill(account)
            since = f"{month_words(bill.month)}的电费已经结清，这是之后用电扣费欠下的，" if bill and bill.paid else ""
            text = f"您是预付费用户，账户目前欠费{money(-balance)}，{since}请尽快充值，以免影响用电。"
        else:
            text = f"您的电费余额是{money(balance)}。" + ("余额不多了，建议尽快充值。" if balance < 20 else "")
        dispatcher.utter_message(text=text + wording.CLOSING)
        return []


class ValidateArrearsReconnectForm(ServiceForm):
    form = "arrears_reconnect_form"
    function_id = "arrears_reconnect"

    async def complete(self, dispatcher, tracker, domain):
        cis, account = services().cis, tracker.get_slot("account_no")
        balance = cis.get_balance(account)
        bill = cis.get_bill(account)
        owed = -balance if balance is not None and balance < 0 else (bill.amount if bill and not bill.paid else 0.0)
        if owed > 0:
            order, _ = file_order(
                tracker, self.function_id, {"owed": owed}, account_no=account, status="awaiting_payment"
            )
            told = wording.pick(tracker, "在这里通知您", "发短信通知您")
            text = (
                f"系统显示还欠费{money(owed)}。已为您登记复电，工单号{wording.order_number(tracker, order.number)}。"
                f"您缴清后，系统会自动安排复电并{told}，一般二十四小时内来电，不用再联系我们。"
            )
        else:
            order, _ = file_order(tracker, self.function_id, {"owed": 0}, account_no=account)
            text = (
                f"系统显示您已经缴清了。已为您登记复电，工单号{wording.order_number(tracker, order.number)}，"
                "一般二十四小时内恢复供电，如果超时没来电，请再联系我们。"
            )
        dispatcher.utter_message(text=text + wording.CLOSING)
        return [SlotSet("last_order_no", order.number)]


class ValidateTouApplyForm(ServiceForm):
    form = "tou_apply_form"
    function_id = "tou_apply"

    async def complete(self, dispatcher, tracker, domain):
        cis, account = services().cis, tracker.get_slot("account_no")
        enable = tracker.get_slot("tou_action") == "enable"
        customer = cis.get_customer(account)
        if customer and customer.tou_enabled == enable:
            dispatcher.utter_message(
                text=("您已经开通了峰谷电价，不用重复办理。" if enable else "您目前没有开通峰谷电价。")
                + wording.CLOSING
            )
            return []
        order, _ = file_order(
            tracker,
            self.function_id,
            {"action": "开通" if enable else "取消", "tou_action": "enable" if enable else "disable"},
            account_no=account,
        )
        cis.set_tou(account, enable)
        what = "开通峰谷电价" if enable else "取消峰谷电价"
        number = wording.order_number(tracker, order.number)
        dispatcher.utter_message(text=f"已为您受理{what}，下个抄表周期起生效。工单号{number}。{wording.CLOSING}")
        return [SlotSet("last_order_no", order.number)]


class ValidateContactChangeForm(ServiceForm):
    form = "contact_change_form"
    function_id = "contact_change"
    phone_slot = "new_phone"

    async def validate_new_phone(self, value, dispatcher, tracker, domain):
        customer = services().cis.get_customer(tracker.get_slot("account_no") or "")
        if customer and customer.phone == value:
            dispatcher.utter_message(text="这个号码和现在登记的一样，不用修改。请告诉我新的号码。")
            return {"new_phone": None}
        return {"new_phone": value}

    async def complete(self, dispatcher, tracker, domain):
        cis, account, phone = services().cis, tracker.get_slot("account_no"), tracker.get_slot("new_phone")
        order, _ = file_order(
            tracker,
            self.function_id,
            {"new_phone_last4": phone[-4:], "new_phone": phone},
            account_no=account,
            status="resolved",
        )
        cis.change_phone(account, phone)
        dispatcher.utter_message(
            text=f"已把联系电话改为尾号{phone[-4:]}的号码，以后的通知会发到这个号码。"
            f"工单号{wording.order_number(tracker, order.number)}。{wording.CLOSING}"
        )
        return [SlotSet("last_order_no", order.number)]
