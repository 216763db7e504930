"""Fault repair (报修) and outage look-up: both start from where the customer is."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import acts, extract, order_status, wording
from actions.forms.base import ServiceForm
from actions.forms.identity import known_account
from actions.forms.opening import safety_advice
from actions.forms.record import file_order
from actions.services import services
from backend.cis.interface import SUSPECTED
from backend.workorders.states import OrderStatus
from channels.wording import SUSPECTED_OUTAGE, SUSPECTED_OUTAGE_SEEN
from nlu.opening import chinese_chars


def outage_message(area_code: str, tracker=None, filing: bool = False) -> str | None:
    """What the bot says about an outage in the area (known ones first, else a suspected one), or None; while a
    repair is being filed (`filing`) without "暂不需要重复报修". The message that carries it is sent with
    notice="outage" (the analytics feed counts who was told)."""
    outages = services().cis.active_outages(area_code)
    if not outages:
        return None
    o = outages[0]  # known outages come before a suspected one (backend.cis SqlCIS.active_outages)
    if o.kind == SUSPECTED and filing:
        return SUSPECTED_OUTAGE_SEEN.format(area=o.area_name)
    if o.kind == SUSPECTED:
        return SUSPECTED_OUTAGE.on("voice" if tracker is not None and wording.is_voice(tracker) else "chat").format(
            area=o.area_name
        )
    kind = "计划停电" if o.kind == "planned" else "故障停电"
    when = wording.time_of(tracker, o.expected_end) if tracker is not None else wording.spoken_time(o.expected_end)
    return f"您所在的{o.area_name}目前有{kind}，原因是{o.reason}，预计{when}恢复供电。"


OUTAGE_NOTICE = "outage"  # the metadata of a bot message that told of an outage (analytics.events counts it)
CARRY_ON = (  # after an outage told in the middle of a repair report: the report goes on only if it differs
    "如果只是您家没电、邻居家都有电，请接着回答下面的问题，我帮您登记报修；不需要的话，说“不用了”就行。",
    "如果只是您家没电，邻居家都有电，请接着回答，我帮您登记报修；不需要的话，说不用了就行。",
)


SAME_OUTAGE_LEAD = "您家停电应该就是{area}这次停电，抢修人员正在处理，不用单独报修。"
SAME_OUTAGE = (  # a customer told of the area's outage says their power is out as well
    SAME_OUTAGE_LEAD + "{when}如果邻居家都有电、只有您家没电，请告诉我，我帮您登记报修。",
    SAME_OUTAGE_LEAD + "{when}如果邻居家都有电，只有您家没电，请告诉我，我帮您登记报修。",
)
SUSPECTED_WHEN = ("恢复时间核实后会尽快通知您。", "恢复时间核实以后会尽快通知您。")


NOTIFY_KNOWN = "好的，有新进展我们会尽快通知您。"
NOTIFY_ANONYMOUS = "好的，抢修正在进行，想了解进展可以随时再来问我。"


def reachable(tracker) -> bool:
    """A customer the outage notices reach: a known account (by the caller's number or the 户号 given)."""
    phone = tracker.get_slot("caller_phone")
    return bool(tracker.get_slot("account_no") or (phone and services().cis.find_customer_by_phone(phone)))


def outage_told(tracker):
    """The outage (known or suspected) of the area this customer was told about: the caller's registered area,
    else the address they gave."""
    cis, phone = services().cis, tracker.get_slot("caller_phone")
    customer = cis.find_customer_by_phone(phone) if phone else None
    area = customer.area_code if customer else None
    if area is None and tracker.get_slot("address"):
        found = cis.find_area(tracker.get_slot("address"))
        area = found[0] if found else None
    outages = cis.active_outages(area) if area else []
    return outages[0] if outages else None


def just_told_outage(tracker) -> bool:
    """The bot's answer to the customer's previous message told of an outage (notice="outage")."""
    users = 0
    for e in reversed(tracker.events):
        if e.get("event") == "user":
            users += 1
            if users > 1:
                return False
        elif e.get("event") == "bot" and users == 1 and (e.get("metadata") or {}).get("notice") == OUTAGE_NOTICE:
            return True
    return False


def said_same_outage(tracker) -> bool:
    """This session already answered a report with "您家停电应该就是…这次停电" (SAME_OUTAGE)."""
    for e in reversed(tracker.events):
        if e.get("event") == "session_started":
            return False
        if e.get("event") == "bot" and SAME_OUTAGE_LEAD.split("{area}")[1] in (e.get("text") or ""):
            return True
    return False


def told_outage(tracker) -> bool:
    """Whether this session already told the customer of an outage: a bot message with notice="outage", or the
    IVR greeting (the call's metadata says told_outage)."""
    for e in reversed(tracker.events):
        kind, meta = e.get("event"), e.get("metadata") or {}
        if kind == "session_started":
            return False
        if (kind == "bot" and meta.get("notice") == OUTAGE_NOTICE) or (kind == "user" and meta.get("told_outage")):
            return True
    return False


class ValidateFaultRepairForm(ServiceForm):
    form = "fault_repair_form"
    function_id = "fault_repair"
    opening_min_chars = 4

    async def validate_address(self, value, dispatcher, tracker, domain):
        """An address in an area with a known or suspected outage: told at once, before any other question."""
        checked = await super().validate_address(value, dispatcher, tracker, domain)
        area = services().cis.find_area(checked["address"]) if checked.get("address") else None
        told = outage_message(area[0], tracker) if area and not told_outage(tracker) else None
        if told:
            dispatcher.utter_message(text=told + wording.pick(tracker, *CARRY_ON), notice=OUTAGE_NOTICE)
        return checked

    async def run(self, dispatcher, tracker, domain):
        text = tracker.latest_message.get("text") or ""
        if tracker.get_slot("requested_slot") and just_told_outage(tracker) and acts.acknowledges(text):
            # thanks for the news: a promise to notify only to a customer the notices can reach (a known account)
            dispatcher.utter_message(text=(NOTIFY_KNOWN if reachable(tracker) else NOTIFY_ANONYMOUS) + wording.CLOSING)
            return self.stop("dismissed")
        return await super().run(dispatcher, tracker, domain)

    def opening(self, dispatcher, tracker, text, required):
        """Told of the area's outage in this contact, a customer who says their power is out too ("对对，我家也没电，
        要多久能来电") is answered about that outage instead of filing the same fault again; one whose case
        differs ("邻居家都有电") or who asks for a repair outright goes on to the report."""
        done = super().opening(dispatcher, tracker, text, required)
        if done is not None or not told_outage(tracker):
            return done
        if acts.only_this_home(text) or acts.asks_for_repair(text) or said_same_outage(tracker):
            return None  # a customer who still wants a report after being told of the outage gets one
        outage = outage_told(tracker)
        if outage is None:
            return None
        if outage.kind == SUSPECTED:
            when = wording.pick(tracker, *SUSPECTED_WHEN)
        else:
            when = f"预计{wording.time_of(tracker, outage.expected_end)}恢复供电。"
        dispatcher.utter_message(
            text=wording.pick(tracker, *SAME_OUTAGE).format(area=outage.area_name, when=when) + wording.CLOSING,
            notice=OUTAGE_NOTICE,
        )
        return self.stop("dismissed")

    def prefill(self, tracker, required):
        events = super().prefill(tracker, required)
        said = query_opening(tracker)
        if said and "fault_desc" in required and not tracker.get_slot("fault_desc"):
            events.append(SlotSet("fault_desc", said))  # the repair offered after a look-up: not asked again
        return events

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
        told_before = told_outage(tracker)
        known = outage_message(area[0], tracker, filing=True) if area and not told_before else None
        own = acts.only_this_home(" ".join(self.form_texts(tracker)))  # not the area's outage: no 一并
        lines = [
            known + "您的报修也已登记。" if known else "已为您登记报修。",
            "我们会一并核实您家的情况。" if (known or told_before) and not own else "",
            f"工单号是{number}。",
            "抢修人员会尽快和您联系，城区一般四十五分钟内到达现场，请保持电话畅通。",
        ]
        if urgent:
            lines.insert(1, "已按紧急情况处理。")
        dispatcher.utter_message(text="".join(lines), **({"notice": "outage"} if known else {}))
        return [SlotSet("last_order_no", order.number)]


def query_opening(tracker) -> str | None:
    """What the customer said to start the outage look-up whose repair offer they have just taken ("我们小区黑了
    一片 什么时候来电"); None on any other turn."""
    said, opening, offered, taken_on, users = None, None, False, None, 0
    for e in tracker.events:
        kind = e.get("event")
        if kind == "user":
            users, said = users + 1, e.get("text") or ""
        elif kind == "active_loop" and e.get("name") == ValidateOutageQueryForm.form:
            opening, offered = said, False
        elif kind == "slot" and e.get("name") == "offered_function":
            if e.get("value") == ValidateFaultRepairForm.function_id:
                offered = True
            elif offered:  # taken up (actions.dialogue) on this user turn
                offered, taken_on = False, users
    enough = opening and chinese_chars(opening) >= 4
    return opening if enough and taken_on == users else None


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
        elif not tracker.get_slot("address") and (filed := self.filed_here(tracker)):
            events.append(SlotSet("address", filed.details["address"]))  # "那大概啥时候能来电" right after a report
        return events

    @staticmethod
    def filed_here(tracker, address: str | None = None):
        """The newest repair order of this conversation (at `address`, when given) that is still open."""
        for order in services().cis.conversation_orders(tracker.sender_id):
            place = (order.details or {}).get("address")
            open_repair = order.function_id == "fault_repair" and OrderStatus(order.status).open
            if open_repair and place and (address is None or place == address):
                return order
        return None

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
            filed = self.filed_here(tracker, address)
            tail = (
                f"您的报修工单{wording.order_number(tracker, filed.number)}也已登记，抢修人员会一并处理。"
                if filed
                else "如果周围邻居都有电，只有您家没电，可以告诉我，帮您报修。"
            )
            dispatcher.utter_message(text=now + tail, notice="outage")
            return []
        filed = self.filed_here(tracker, address)
        if filed:  # "什么时候能来电" right after a report, no outage known: that order's progress, not a new report
            told = order_status.state(tracker, filed, order_status.now_utc())
            number = wording.order_number(tracker, filed.number)
            dispatcher.utter_message(text=f"这个地址目前没有查到停电。您的报修工单{number}，{told}。{wording.CLOSING}")
            return []
        where = area[1] if area else "这个地址"
        dispatcher.utter_message(
            text=f"{where}目前没有查到计划停电或故障停电。要我帮您登记报修，安排抢修人员上门看看吗？",
            buttons=[]
            if wording.is_voice(tracker)
            else [{"title": "好的，报修", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}],
        )
        return [SlotSet("offered_function", "fault_repair")]
