"""`answer`-kind functions: a short spoken answer from the knowledge base plus the best channels."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import acts, context, extract, followups, wording
from actions.forms.base import latest_intent
from actions.forms.identity import known_account
from actions.services import services


def channel_advice(function_id: str, tracker: Tracker) -> str:
    svc = services()
    account = known_account(tracker)
    customer = svc.cis.get_customer(account) if account else None
    channels = svc.catalog.recommend_channels(function_id, customer.channels if customer else None)
    channels = [c for c in channels if c != "hotline"] or channels
    if not channels:
        return ""
    return "您也可以通过" + "或".join(svc.catalog.channel_name(c) for c in channels) + "办理。"


class ActionAnswerFunction(Action):
    def name(self) -> str:
        return "action_answer_function"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        intent, _ = latest_intent(tracker)
        text = tracker.latest_message.get("text") or ""
        if intent == "out_of_scope":  # "那啥时候再来人啊" after filing reads as nothing the bot serves
            if acts.leaving(text):  # "哦 8月开空调多 懂了 没别的了 谢谢哈": a remark on the way out
                dispatcher.utter_message(response="utter_goodbye")
                return [SlotSet("fallback_count", 0)]
            told = followups.tell_progress(dispatcher, tracker)
            if told is not None:
                return told
            carried = context.follow_up(tracker, text)  # "那再往前一个月呢" after a bill
            if carried is not None:
                return carried
        elif extract.month_before_told(text, tracker.get_slot("last_bill_month")):
            carried = context.bill_follow_up(tracker, text)  # "那它前面那个月呢", whatever the NLU guessed
            if carried is not None:
                return carried
        if intent == "account_binding" and extract.account_no(text):
            carried = context.route(dispatcher, tracker, domain)
            if carried is not None:
                return carried
        # out of scope by the NLU, the whole knowledge base is asked: "这个算紧急的吗" has an article of its own, and
        # the out-of-scope articles (物业, 自来水) still win for what they are about
        hit = (intent == "out_of_scope" and services().kb.sure_answer(text)) or services().kb.answer(text, intent)
        if hit is None:
            dispatcher.utter_message(response="utter_default")
            return []
        advice = "" if intent == "out_of_scope" else channel_advice(intent, tracker)
        dispatcher.utter_message(
            text=wording.article_line(tracker, hit.spoken) + advice,
            custom={"kb_article": hit.article_id, "title": hit.title, "detail": hit.text},
        )
        events = [SlotSet("last_function", intent), SlotSet("fallback_count", 0)]
        pending = followups.second_request(text, intent) if intent != "out_of_scope" else None
        if pending:  # "问一下X，顺便帮我Y": Y is done right after the answer
            return events + followups.next_request(dispatcher, tracker, domain, pending)
        return events
