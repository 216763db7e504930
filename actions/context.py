"""Messages that only make sense in context: "那上个月呢" after a bill, "那我妈家呢 户号…" after a query,
"那个单子" after an order, details after "要帮您报修吗？", or a request the NLU missed inside a longer
message. Each returns the events that carry the conversation on, or None (then the caller does its own job)."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import acts, descriptions, extract, followups, places
from actions.services import services
from actions.withdraw import withdraw, withdrawable

QUERIES = ("bill_query", "balance_query")
CLAUSE_MIN_SCORE = 0.8
ASKED_MIN_SCORE = 0.6  # the clause itself asks for something ("查一下我妈家上个月交了多少")


def bill_follow_up(tracker: Tracker, text: str) -> list | None:
    last_month = tracker.get_slot("last_bill_month")
    if acts.leaving(text):  # "8月开空调多 懂了 没别的了 谢谢": thanks, not another month
        return None
    month = extract.month(text)
    earlier = extract.month_before_told(text, last_month)
    if last_month and (earlier or month):
        return [SlotSet("bill_month", earlier or month), FollowupAction("bill_query_form")]
    return None


def order_follow_up(tracker: Tracker, text: str) -> list | None:
    order = withdrawable(tracker) if acts.refers_to_order(text) else None
    if order is None:
        return None
    if acts.withdraws(text) or re.search(r"取消|不要了|不办了", text):
        return [FollowupAction("action_cancel_or_withdraw")]
    return [SlotSet("order_ref", order.number), FollowupAction("progress_query_form")]


def follow_up(tracker: Tracker, text: str) -> list | None:
    """ "那再往前一个月呢" after a bill, "那个单子呢" after an order: read in context before it is taken for a
    goodbye or for something the bot does not serve."""
    return bill_follow_up(tracker, text) or order_follow_up(tracker, text)


def other_account(tracker: Tracker, text: str) -> list | None:
    """ "那我妈家呢？户号…尾号…" right after a query: the same query for that account, with its own check."""
    last = tracker.get_slot("last_function")
    account = extract.account_no(text)
    if last not in QUERIES or not account:
        return None
    wants_balance = re.search(r"欠|余额|还有多少钱", text)
    form = "balance_query_form" if wants_balance else f"{last}_form"
    return [
        SlotSet("account_no", account),
        SlotSet("phone_last4", None),
        SlotSet("bill_month", None),
        FollowupAction(form),
    ]


def accepted_offer(tracker: Tracker, text: str) -> list | None:
    """Details given in reply to "要帮您登记报修吗？" accept it."""
    offered = tracker.get_slot("offered_function")
    if tracker.get_slot("last_bill_month") and extract.month(text):
        return None  # "那去年8月份的呢" after a bill and its offer: another bill, not the offer taken
    if offered and (
        extract.mobile(text) or places.address(text) or descriptions.describes(text) or extract.yes_no(text)
    ):
        return [SlotSet("offered_function", None), FollowupAction(f"{offered}_form")]
    return None


def request_inside(tracker: Tracker, text: str, domain: dict) -> list | None:
    """A service named in one clause of a longer message ("是机器人吧？算了，我家没电了")."""
    catalog = services().catalog
    clauses = [c for c in re.split(r"[，,。；;！!？?\s]+", text) if len(extract.without_numbers(c)) >= 3]
    best, whole = None, None
    for clause in [text] + [c for c in clauses if c != text]:
        top = next(iter(services().kb.match(clause)), None)
        whole = top if clause is text else whole
        needed = CLAUSE_MIN_SCORE if not acts.requests_something(clause) else ASKED_MIN_SCORE
        if (
            not top
            or top["score"] < needed
            or top["function"] not in catalog.functions
            or top["function"] in followups.SKIP
            or f"{top['function']}_form" not in domain.get("forms", {})
        ):
            continue
        if best is None or top["score"] > best["score"]:
            best = top
    if best is None:
        best = agreed(tracker, whole, domain)
    if best is None:
        return None
    return [SlotSet("last_function", best["function"]), FollowupAction(f"{best['function']}_form")]


def agreed(tracker: Tracker, top: dict | None, domain: dict) -> dict | None:
    """Below the clarification threshold, but the NLU's best guess and the synonym matcher's (`top`, for the
    whole message) name the same form-kind service: two independent readings agree, so go ahead."""
    ranking = [r for r in tracker.latest_message.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    if (
        ranking
        and top
        and ranking[0]["name"] == top["function"]
        and ranking[0].get("confidence", 0) >= 0.25
        and top["score"] >= 0.5
        and f"{top['function']}_form" in domain.get("forms", {})
    ):
        return top
    return None


def earlier_unanswered(tracker: Tracker) -> str:
    """The customer's previous message if the bot did not understand it ("帮我查下我家电表余额" misheard)."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    for e in reversed(users[:-1][-2:]):
        if ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "nlu_fallback":
            return e.get("text") or ""
    return ""


def earlier_request(tracker: Tracker) -> str | None:
    """The form-kind service of the customer's previous, not understood, message."""
    said = earlier_unanswered(tracker)
    top = next(iter(services().kb.match(said)), None) if said else None
    form_kinds = {f.id for f in services().catalog.functions.values() if f.kind == "form"} | {"outage_query"}
    return top["function"] if top and top["score"] >= 0.5 and top["function"] in form_kinds else None


def route(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list | None:
    text = tracker.latest_message.get("text") or ""
    if not text or text.startswith("/"):
        return None
    for step in (accepted_offer, bill_follow_up, order_follow_up, other_account):
        events = step(tracker, text)
        if events is not None:
            return events
    order = withdrawable(tracker) if acts.withdraws(text) or acts.undoes(text) else None
    if order is not None:  # "我想了想还是不开了 帮我撤销吧" when the bot was not sure what it was
        return withdraw(dispatcher, tracker, order)
    amended = followups.amend_last_order(dispatcher, tracker)
    if amended is not None:
        return amended
    inside = request_inside(tracker, text, domain)
    if inside is None and (extract.account_no(text) or extract.mobile(text)) and earlier_unanswered(tracker):
        inside = request_inside(tracker, earlier_unanswered(tracker), domain)  # the number is for that request
    return inside
