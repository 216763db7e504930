"""The customer's answer to the satisfaction survey (回访) that the work-order loop pushed into the conversation.

A button (/survey_answer{"survey_score": "5"}) reaches this through a rule; a typed "5", "满意" or "不太满意"
right after a survey through nlu.survey_policy. The desk (backend.workorders) stores the score and reopens the
order or puts it in the supervisors' review queue; this only passes the answer on and thanks the customer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.services import services
from backend.workorders.wording import SURVEY_THANKS, score_of, survey_reply

DONE = [SlotSet("survey_order", None), SlotSet("survey_score", None)]


def given_answer(tracker: Tracker) -> tuple[int, str] | None:
    """(score, comment): a button's score (its entity), else the words typed ("还行吧，就是来得有点慢")."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "survey_score":
            score = score_of(str(entity.get("value") or ""))
            return (score, "") if score is not None else None
    return survey_reply(tracker.latest_message.get("text") or "")


class ActionRecordSurvey(Action):
    def name(self) -> str:
        return "action_record_survey"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        answer = given_answer(tracker)
        if answer is None:  # "我要评价": ask for the score while a survey waits, else there is nothing to rate
            dispatcher.utter_message(text=SURVEY_THANKS["bad" if tracker.get_slot("survey_order") else "none"])
            return [SlotSet("survey_score", None)]
        score, comment = answer
        outcome = await asyncio.to_thread(services().orders.answer_survey, "chat", tracker.sender_id, score)
        number = tracker.get_slot("survey_order")
        if comment and number and outcome != "none":  # kept with the order, where supervisors read the answer
            await asyncio.to_thread(
                services().cis.amend_work_order, number, {"survey_comment": comment}, f"回访意见：{comment}"
            )
        noted = SURVEY_THANKS["noted"] if comment and outcome != "none" else ""
        thanks = SURVEY_THANKS["unsatisfied" if outcome in ("reopened", "review") else outcome]
        if not tracker.active_loop_name:
            dispatcher.utter_message(text=noted + thanks)
            return DONE
        # a survey button pressed while a form ran: thanks, then the form's question again, and the form waits for
        # the answer (run now, it would read the button as that answer)
        asked = last_question(tracker)
        dispatcher.utter_message(text=noted + thanks + (f"我们接着办刚才的事：{asked}" if asked else ""))
        return [*DONE, FollowupAction("action_listen")]


def last_question(tracker: Tracker) -> str:
    """The bot's last message that was not an order notice (the question a running form asked)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text") and not (event.get("metadata") or {}).get("order_notice"):
            return str(event["text"])
    return ""
