"""Work-order progress by order number, or the open orders of a 户号.

Disclosure (README "Security", the disclosure table): the status of an order is told to the conversation that filed it
or to someone who proves the order's account; anyone else hears only that the order exists. Who reported an order
(a 窃电举报 above all) is never told.
"""

from __future__ import annotations

import re

from rasa_sdk.events import SlotSet

from actions import acts, followups, wording
from actions.forms.base import ServiceForm
from actions.forms.identity import verified
from actions.order_status import CHASED, STAFF_PHONE_WITHHELD, now_utc, state
from actions.services import services
from backend.workorders.states import OrderStatus

NOT_FOUND = "没有查到{}，请您核对一下。"
POINTED = re.compile(r"刚才|那个|刚刚|我的单|这个单")  # the order meant is one of this conversation's
IF_FILED = re.compile(r"没.{0,3}(?:建|登记|提交|下单|报上)|(?:建|登记|提交|报上)了?(?:单子|工单)?(?:没有?|吗|吧)")


class ValidateProgressQueryForm(ServiceForm):
    form = "progress_query_form"
    function_id = "progress_query"

    def opening(self, dispatcher, tracker, text, required):
        """ "刚才那个没给我建单子吧" when nothing was filed in this conversation: said so, not asked for a number."""
        done = super().opening(dispatcher, tracker, text, required)
        if done is not None or tracker.get_slot("order_ref") or re.search(r"\d{4,}", text):
            return done
        if IF_FILED.search(text) and not services().cis.conversation_orders(tracker.sender_id):
            dispatcher.utter_message(
                text="这次对话里没有为您登记过工单。如果是以前报的，请告诉我工单号或者户号，我帮您查。"
            )
            return self.stop("dismissed")
        return None

    def prefill(self, tracker, required):
        """ "我刚才那个单子": the order filed last in this conversation; "师傅啥时候到": the newest one still open.
        A number said names its own order or account."""
        events = super().prefill(tracker, required)
        text = tracker.latest_message.get("text") or ""
        if not tracker.get_slot("order_ref") and not re.search(r"\d{4,}", text):
            orders = services().cis.conversation_orders(tracker.sender_id)
            pointed = bool(POINTED.search(text))
            chosen = [o.number for o in (orders if pointed else [o for o in orders if OrderStatus(o.status).open])]
            asked = last_asked(tracker) if pointed or acts.chases(text) else None
            if asked or chosen:  # "帮我催一下" right after an order's progress was told: that order
                events.append(SlotSet("order_ref", asked or chosen[0]))
                tracker.slots["order_ref"] = asked or chosen[0]
        if tracker.get_slot("order_ref") and not tracker.get_slot("phone_last4") and self.entitled(tracker):
            events.append(SlotSet("phone_last4", "已核验"))
        return events

    @staticmethod
    def referred(tracker):
        """(the order asked about or None, the account whose proof would entitle the asker). An order filed with
        only a phone number: the account the customer names, which entitles only if that phone is its registered
        one (see `entitled`); its last four are asked for whichever account is named, so the question itself never
        tells whether the two belong together."""
        ref = tracker.get_slot("order_ref") or ""
        if not ref.startswith("G"):
            return None, ref or None
        order = services().cis.get_work_order(ref)
        if order is None:
            return None, None
        return order, order.account_no or tracker.get_slot("account_no")

    def account_to_prove(self, tracker) -> str | None:
        return self.referred(tracker)[1]

    def entitled(self, tracker) -> bool:
        """This conversation filed the order, or has proved the account it belongs to."""
        order, account = self.referred(tracker)
        caller = tracker.get_slot("caller_phone")  # trusted only from a signed call (voice/call_token.py)
        contact = (order.details or {}).get("contact_phone") if order else None
        if order and (order.conversation_id == tracker.sender_id or (caller and caller == contact)):
            return True
        if not verified(tracker, account):
            return False
        if order is None or order.account_no == account:
            return True
        customer = services().cis.get_customer(account) if not order.account_no else None
        return bool(customer and contact and customer.phone == contact)  # filed with the account's own phone

    def unproven(self, tracker, values, required):
        return {}  # complete() tells only what the proof allows

    async def validate_order_ref(self, value, dispatcher, tracker, domain):
        events = {"order_ref": value, "phone_last4": None}
        if value.startswith("G"):
            order = services().cis.get_work_order(value)
            if order is None:
                dispatcher.utter_message(text=NOT_FOUND.format(f"工单{wording.order_number(tracker, value)}"))
                return {"order_ref": None}
            if (
                not order.account_no
                and not tracker.get_slot("account_no")
                and order.conversation_id != tracker.sender_id
            ):
                events["phone_last4"] = "无"  # no account to prove: only that it exists can be told
        tracker.slots["order_ref"] = value
        if self.entitled(tracker):
            events["phone_last4"] = "已核验"
        return events

    async def validate_phone_last4(self, value, dispatcher, tracker, domain):
        if value == "无":
            return {"phone_last4": value}
        if not self.account_to_prove(tracker) and (tracker.get_slot("order_ref") or "").startswith("G"):
            return {"phone_last4": "无"}  # nothing to prove it with: only that it exists is told, never asked again
        return await super().validate_phone_last4(value, dispatcher, tracker, domain)

    async def complete(self, dispatcher, tracker, domain):
        cis, catalog, ref = services().cis, services().catalog, tracker.get_slot("order_ref")
        if not self.entitled(tracker):
            if ref.startswith("G"):
                how = wording.pick(
                    tracker,
                    "请在报修时的对话里问我，或者用报修时留的电话拨打95598；"
                    "也可以把工单号和您的户号、户主登记手机号后四位一起告诉我。",
                    "请用报修时留的电话打过来查询，或者把工单号和您的户号、户主手机号后四位一起告诉我。",
                )
                dispatcher.utter_message(
                    text=f"工单{wording.order_number(tracker, ref)}已经在系统里登记了。为了保护客户信息，"
                    "具体进度只能告诉办理这张工单的客户本人：" + how + wording.CLOSING
                )
            else:
                dispatcher.utter_message(text="为了保护客户信息，暂时不能查询这个户号的工单。" + wording.CLOSING)
            return []
        orders = [cis.get_work_order(ref)] if ref.startswith("G") else cis.open_work_orders(ref)
        if not orders:
            dispatcher.utter_message(text="这个户号目前没有正在处理的工单。" + wording.CLOSING)
            return []
        now = now_utc()
        said = " ".join(self.form_texts(tracker))
        chased = followups.chase(said, orders)
        parts = []
        for o in orders[:3]:
            made = wording.local_time(o.created_at)
            number = wording.order_number(tracker, o.number)
            what = f"{made.month}月{made.day}日的{catalog.name(o.function_id)}工单{number}"
            parts.append(f"{what}，{state(tracker, o, now)}")
        more = f"另外还有{len(orders) - 3}张工单。" if len(orders) > 3 else ""
        lead = CHASED.format(number=wording.order_number(tracker, chased)) if chased else ""
        if acts.asks_staff_phone(said):
            lead += STAFF_PHONE_WITHHELD
        dispatcher.utter_message(text=lead + "；".join(parts) + "。" + more + wording.CLOSING)
        return []


def last_asked(tracker) -> str | None:
    """The order whose progress was asked last in this conversation."""
    for e in reversed(tracker.events):
        if e.get("event") == "slot" and e.get("name") == "order_ref" and str(e.get("value") or "").startswith("G"):
            return str(e["value"])
    return None
