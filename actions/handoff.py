"""Handing the customer to a person: a case in the agents' queue (the bot pauses), or a callback order.

With agents online the conversation is paused in Rasa and a case with the full context joins the queue;
the customer hears their place and an honest wait. With nobody online a callback work order carries the
same context. Channels learn of the handoff from a custom payload {"handoff": {...}} in the reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionReverted, ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import acts, case_context, descriptions, extract, wording
from actions.forms.identity import known_account
from actions.forms.opening import safety_advice
from actions.forms.record import file_order
from actions.services import services
from backend.contact_centre import Channel, EscalationReason, Priority

SIGNAL = "escalation"  # nlu.components.escalation_signal: danger to life or anger


def _spoken_code(code: str) -> str:
    return " ".join("幺" if d == "1" else d for d in code)


def _queue_message(position: int, minutes: int, channel: str) -> str:
    ahead = "马上就为您接通" if position <= 1 else f"您前面还有{position - 1}位客户，预计等待大约{minutes}分钟"
    stay = "请不要挂机。" if channel == Channel.VOICE else "您可以继续留言，客服接入后都能看到。"
    return f"好的，正在为您转接人工客服，{ahead}。您刚才说的情况客服都能看到，不用再说一遍。{stay}"


def escalate(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, priority: str = Priority.NORMAL
) -> list | None:
    """Queues the case when an agent is online (and pauses the bot); None when nobody is online."""
    contact = services().contact
    if not contact.agents_online():
        return None
    summary, context = case_context.build(tracker, reason)
    who = context.get("profile") or {}
    case, _ = contact.escalate(
        tracker.sender_id,
        context["channel"],
        reason,
        summary=summary,
        context=context,
        account_no=who.get("account_no"),
        phone=tracker.get_slot("caller_phone"),
        priority=priority,
    )
    position = contact.position(case)
    minutes = contact.wait_minutes(position)
    dispatcher.utter_message(text=_queue_message(position, minutes, context["channel"]))
    dispatcher.utter_message(
        json_message={"handoff": {"case": case.id, "position": position, "wait_minutes": minutes, "reason": reason}}
    )
    return [SlotSet("fallback_count", 0), ConversationPaused()]


def callback_order(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list:
    summary, context = case_context.build(tracker, reason)
    context["summary"] = summary
    said = extract.mobile(tracker.latest_message.get("text") or "")
    phone = said or tracker.get_slot("contact_phone") or tracker.get_slot("caller_phone")
    context["contact_phone"] = phone
    order, new = file_order(tracker, "human_agent", context, account_no=known_account(tracker))
    if not new and phone and order.details.get("contact_phone") != phone:  # "让人工回我电话，我号码…"
        services().cis.amend_work_order(order.number, {"contact_phone": phone}, f"客户留了回电号码：{phone}")
    callback = f"客服会打尾号{phone[-4:]}的电话回复您" if phone else "客服会尽快回复您"
    text = (
        f"好的。现在人工坐席都在忙，我已经为您登记了人工回复，工单号{wording.order_number(tracker, order.number)}，"
        f"{callback}，您刚才说的情况客服都能看到。"
    )
    if tracker.get_slot("channel") == Channel.VOICE:
        code = services().contact.issue_code(tracker.sender_id)
        text += f"您也可以在微信或网页客服里发送“续办{_spoken_code(code)}”，接着办理。"
    dispatcher.utter_message(text=text)
    return [SlotSet("last_order_no", order.number), SlotSet("fallback_count", 0)]


OPENERS = {"anger": "非常抱歉给您添麻烦了。", "safety": "您的安全最重要。"}
PEOPLE_THERE = (  # "有人工客服吗 我就问问 现在先不找": nothing is filed, nobody is queued
    "有人工客服的。您需要的时候发送“转人工”就可以，有什么事我也可以先帮您办。",
    "有人工客服的。需要的时候说转人工，或者按0，就可以。",
)


async def off_loop(handler: Callable[[CollectingDispatcher, Tracker, str], list], *args: Any) -> list:
    """Runs a handoff in a worker thread: opening a case or filing a callback is a few blocking database reads and
    a commit (an fsync on SQLite), and on the action server's event loop it stalled every other conversation's
    action meanwhile; escalations come in bursts (an outage, an angry crowd)."""
    return await asyncio.to_thread(handler, *args)


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list:
    if reason == EscalationReason.SAFETY:  # what to do now comes first: the queue may take minutes
        dispatcher.utter_message(text=OPENERS[reason] + safety_advice(tracker.latest_message.get("text") or ""))
    elif reason in OPENERS:
        dispatcher.utter_message(text=OPENERS[reason])
    return escalate(dispatcher, tracker, reason) or callback_order(dispatcher, tracker, reason)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        text = tracker.latest_message.get("text") or ""
        if acts.declines_person(text):
            dispatcher.utter_message(text=wording.pick(tracker, *PEOPLE_THERE))
            return []
        if descriptions.supplements(text) and not acts.wants_person(text):
            from actions import followups  # "再补充一下…" after an order: it belongs to that order

            amended = followups.amend_last_order(dispatcher, tracker)
            if amended is not None:
                return amended
        return await off_loop(hand_off, dispatcher, tracker, EscalationReason.CUSTOMER_REQUEST)


class ActionEscalateSignal(Action):
    """The NLU marked danger to life or anger in the customer's words (nlu.escalation_policy runs this first):
    a person takes over at once when one is online. Otherwise the action undoes itself and the message gets
    the bot's ordinary answer (danger then becomes an urgent order)."""

    def name(self) -> str:
        return "action_escalate_signal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        reason = (tracker.latest_message.get(SIGNAL) or {}).get("reason")
        if reason not in case_context.REASONS or not services().contact.agents_online():
            return [ActionReverted()]
        stop_form = [ActiveLoop(None), SlotSet("requested_slot", None)] if tracker.active_loop_name else []
        return stop_form + await off_loop(hand_off, dispatcher, tracker, reason)
