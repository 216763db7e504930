"""What a conversation carries between requests: a second request said in the same message, details added
to the order just filed, and the offer the bot just made ("要帮您报修吗？")."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import acts, descriptions, extract, order_status, places, wording
from actions.services import services
from backend.cis import OrderInfo
from backend.workorders.states import OrderStatus

CONNECTORS = re.compile(
    r"顺便|另外|还有|再帮我|再给我|同时|一是|二是|第二|两件事|两个事|两个问题|还要|也要|以及|再查|再办"
)
SECOND_MIN_SCORE = 0.8
SKIP = {"human_agent", "out_of_scope"}


def named_request(text: str, exclude: set[str], need_verb: bool = True) -> dict | None:
    """A service clearly asked for in one part of the text, other than `exclude`: {"function", "text"} with
    the words of that part (what a form started for it reads)."""
    catalog = services().catalog
    parts = [
        p.strip() for p in re.split(r"[。；;！!\n：:]+|" + CONNECTORS.pattern, text or "") if p and len(p.strip()) >= 3
    ]
    for part in parts:
        for clause in [part] + [c for c in re.split(r"[，,？?\s]+", part) if len(c) >= 3 and c != part]:
            if (
                (acts.rejects(clause) and not acts.asks(clause))
                or acts.THANKS.search(clause)
                or (need_verb and not acts.requests_something(clause))
            ):
                continue  # "先不投诉了" names a service only to refuse it; "谢谢啊" asks for nothing
            top = next(iter(services().kb.match(clause)), None)
            if (
                top
                and top["function"] not in SKIP | exclude
                and top["score"] >= SECOND_MIN_SCORE
                and top["function"] in catalog.functions
            ):
                return {"function": top["function"], "text": part}
    return None


def second_request(text: str, current: str | None) -> dict | None:
    """Another service asked for in the same message ("…，顺便…", "两件事：…"): {"function", "text"} or None."""
    if not CONNECTORS.search(text or ""):
        return None
    return named_request(text, {current} if current else set(), need_verb=False)


def next_request(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, pending: dict | None = None) -> list:
    """After one request is done: start the second one the customer asked for in the same message."""
    pending = pending or tracker.get_slot("pending_request")
    if not pending:
        return []
    function = pending["function"]
    name = services().catalog.name(function)
    if f"{function}_form" in domain.get("forms", {}):
        dispatcher.utter_message(text=f"您刚才还提到{name}，接着帮您办。")
        return [
            SlotSet("pending_request", None),
            SlotSet("carried_text", pending["text"]),
            FollowupAction(f"{function}_form"),
        ]
    hit = services().kb.answer(pending["text"], function)
    if hit:
        dispatcher.utter_message(text=f"您刚才还问到{name}：{wording.article_line(tracker, hit.spoken)}")
    return [SlotSet("pending_request", None)]


def recent_order(tracker: Tracker):
    """The order filed last in this conversation, if still in force."""
    number = tracker.get_slot("last_order_no")
    order = services().cis.get_work_order(number) if number else None
    return order if order and order.status not in ("withdrawn", "closed") else None


def refined_address(old: str, new: str | None) -> str | None:
    """The place of an order made more precise: a district added, or more detail on the same street."""
    if not new or not old or new == old:
        return None
    d_old, d_new = places.district(old) or "", places.district(new) or ""
    if new == d_new:
        return None if d_old else new + old
    bare_old, bare_new = old.replace(d_old, "", 1), new.replace(d_new, "", 1)
    if bare_old in bare_new:
        return (d_new or d_old) + bare_new
    if re.search(r"\d+号$", bare_old) and re.match(r"[\u4e00-\u9fa5]{2,6}?(?:小区|花园|苑|家园|公寓|大厦)", bare_new):
        return (d_new or d_old) + bare_old + bare_new  # "要加上幸福小区4栋1203室" after "北京东路39号"
    renumbered = re.fullmatch(r"(.+?)\d+号", bare_new)
    rest = renumbered and re.match(re.escape(renumbered[1]) + r"\d+号(.+)$", bare_old)
    if rest:
        return (d_new or d_old) + bare_new + rest[1]  # "是珠江路26号 不是20号": the unit and room kept
    streets = re.findall(r"[\u4e00-\u9fa5]{1,6}?(?:路|街|巷|大道|村|小区|花园|苑)", bare_old)
    if streets and any(st in bare_new for st in streets):
        return (d_new or d_old) + bare_new
    if (
        not re.search(r"路(?!口)|街|巷|大道|村|小区|花园|苑|号", bare_new)
        and (not d_old or d_old == d_new or not d_new)
        and (not bare_new or re.search(r"路口|交叉口|门口|对面|旁边|附近|楼下|后面|前面|隔壁|那边|一带", bare_new))
        and not re.search(r"\d", bare_new)
    ):
        return (d_new or d_old) + bare_old + bare_new  # "在城北区 就那个十字路口 公交站旁边"
    return None


def tell_progress(dispatcher: CollectingDispatcher, tracker: Tracker) -> list | None:
    """ "现在复电到哪一步了", "那啥时候再来人啊" after filing: how the order filed here stands (whatever the NLU
    made of the words: the same request again, a detail, out of scope)."""
    order = recent_order(tracker)
    text = tracker.latest_message.get("text") or ""
    if order is None or order.conversation_id != tracker.sender_id:
        return None
    staff_phone = acts.asks_staff_phone(text)  # "给我张师傅的电话"
    chased = chasing(tracker, text, order.number)
    if (
        not (order_status.asks_progress(text) or staff_phone or chased)
        or extract.mobile(text)
        or extract.dangerous(text)
    ):
        return None
    name = services().catalog.name(order.function_id)
    told = order_status.state(tracker, order, order_status.now_utc())
    number = wording.order_number(tracker, order.number)
    lead = order_status.CHASED.format(number=number) if chased and chase(text, [order], hurried=True) else ""
    lead += order_status.STAFF_PHONE_WITHHELD if staff_phone else ""
    dispatcher.utter_message(text=f"{lead}您的{name}工单{number}，{told}。{wording.CLOSING}")
    return []


def chasing(tracker: Tracker, text: str, number: str) -> bool:
    """A chase: "帮我催一下", or "那麻烦你们快点" right after the bot told this order's progress."""
    return acts.chases(text) or (
        acts.hurries(text) and wording.order_number(tracker, number) in wording.bot_said_last(tracker)
    )


def chase(said: str, orders: list[OrderInfo], hurried: bool = False) -> str | None:
    """ "帮我催一下" (`said`: what was said about the order; `hurried`: a chase already recognised): the chase is
    noted on the order (staff and the supervisor see it in its history); the number of the order chased, None
    when nothing was chased or it is no longer open."""
    if len(orders) != 1 or not (hurried or acts.chases(said)) or not OrderStatus(orders[0].status).open:
        return None
    services().cis.amend_work_order(orders[0].number, {}, f"客户催办：{said[:200]}")
    return orders[0].number


def tell_if_withdrawn(dispatcher: CollectingDispatcher, tracker: Tracker) -> list | None:
    """ "我那个单子还在吧 没被取消吧": how this conversation's order (the one named, else the newest) stands. Asking
    never withdraws it."""
    text = tracker.latest_message.get("text") or ""
    if not acts.asks_if_withdrawn(text):
        return None
    number = extract.order_no(text)
    orders = services().cis.conversation_orders(tracker.sender_id)
    order = next((o for o in orders if not number or o.number == number), None)
    if order is None:
        return None
    name = services().catalog.name(order.function_id)
    told = order_status.state(tracker, order, order_status.now_utc())
    still = "" if order.status == "withdrawn" else "还在，没有撤销，"
    dispatcher.utter_message(
        text=f"您的{name}工单{wording.order_number(tracker, order.number)}{still}{told}。{wording.CLOSING}"
    )
    return []


def answer_after_filing(dispatcher: CollectingDispatcher, tracker: Tracker) -> list | None:
    """ "校验要收钱吗", "要不要我打110" right after filing: a question is answered from the knowledge base, not
    added to the order as more about the problem."""
    text = tracker.latest_message.get("text") or ""
    if not acts.asks(text) or acts.leaving(text) or extract.dangerous(text):
        return None
    hit = services().kb.sure_answer(text)
    if hit is None:
        return None
    dispatcher.utter_message(text=wording.article_line(tracker, hit.spoken) + wording.CLOSING)
    return []


def amend_last_order(dispatcher: CollectingDispatcher, tracker: Tracker) -> list | None:
    """ "我电话13800001111", the district, more about the problem, right after filing: it belongs to that order."""
    order = recent_order(tracker)
    text = tracker.latest_message.get("text") or ""
    if order is None or not text or order.conversation_id != tracker.sender_id:
        return None
    for tell in (tell_progress, tell_if_withdrawn):
        told = tell(dispatcher, tracker)
        if told is not None:
            return told
    if acts.leaving(text) and not extract.mobile(text) and not extract.dangerous(text):
        dispatcher.utter_message(response="utter_goodbye")  # "行吧 没别的了 谢谢": seen off, nothing added
        return []
    answered = answer_after_filing(dispatcher, tracker)
    if answered is not None:
        return answered
    phone = extract.mobile(text) or (
        tracker.get_slot("caller_phone") if extract.caller_means_this_phone(text) else None
    )
    added: dict = {}
    if phone and order.details.get("contact_phone") != phone:
        added["contact_phone"] = phone
    place = refined_address(str(order.details.get("address") or ""), places.address(text))
    if place:
        added["address"] = place
    asked = acts.asks(text) and not phone and not place  # a question with no sure answer in the knowledge base
    if (
        not added
        and (descriptions.describes(text) or asked)
        and named_request(text, {order.function_id}, False) is None
    ):
        # "我咋充值 微信能充不" after a complaint names another service: a new request, not more about this one
        said = f"客户问：{text}" if asked else text
        added["note"] = f"{order.details.get('note') or ''}；{said}".strip("；")[:500]
    urgent = order.priority != "urgent" and extract.dangerous(text)
    if not added and not urgent:
        if phone:  # the number already on the order: confirm it, file nothing new
            dispatcher.utter_message(text=f"好的，会打尾号{phone[-4:]}的电话联系您。{wording.CLOSING}")
            return []
        return None
    services().cis.amend_work_order(
        order.number, added, f"客户补充：{text[:200]}", priority="urgent" if urgent else None
    )
    number = wording.order_number(tracker, order.number)
    if asked and not urgent:  # not told as "补充到工单": the customer asked something and is owed an answer
        dispatcher.utter_message(
            text=f"这个问题我已经记在工单{number}里，工作人员联系您时会一并答复您。{wording.CLOSING}"
        )
        return []
    what = "、".join([f"联系电话{phone}"] * ("contact_phone" in added) + [f"地址{place}"] * bool(place)) or "您说的情况"
    lead = "已改为紧急处理，" if urgent else ""
    dispatcher.utter_message(text=f"好的，{lead}已把{what}补充到工单{number}里，不会重复登记。{wording.CLOSING}")
    return [SlotSet("contact_phone", phone)] if phone else []
