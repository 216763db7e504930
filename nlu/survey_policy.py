"""Routes a typed score right after a satisfaction survey to action_record_survey.

The console's work-order loop pushes the survey into the conversation and sets the slot survey_order. A chat
customer may press a button (/survey_answer{...}: a rule), but a WeChat customer types "5", "满意" or "不太满意",
words the NLU reads as goodbye, affirm or deny. While survey_order is set and no form is running, a message
that is a score, alone or followed by a comment (backend.survey_scale), runs action_record_survey, which
clears the slot; any other message goes on as usual and leaves the survey waiting. A survey button pressed
while a form runs is answered too, and the form then asks its question again.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from backend.survey_scale import survey_reply
from nlu.policy_base import AheadOfRulesPolicy

ACTION = "action_record_survey"
INTENT = "survey_answer"
SLOT = "survey_order"


def latest_turn(tracker: DialogueStateTracker) -> tuple[UserUttered | None, list[str]]:
    """The latest customer message (after undone actions are taken out) and the actions run since, in order."""
    ran: list[str] = []
    for event in reversed(list(tracker.applied_events())):
        if isinstance(event, ActionExecuted) and event.action_name:
            ran.insert(0, event.action_name)
        elif isinstance(event, UserUttered):
            return event, ran
    return None, ran


def button_in_form(tracker: DialogueStateTracker) -> bool:
    """A survey button pressed while a form runs (the rule would lose to the form, which reads it as an answer)."""
    message, ran = latest_turn(tracker)
    if message is None or ran or not tracker.active_loop_name:
        return False
    return (message.intent or {}).get("name") == INTENT and (message.text or "").startswith("/")


def typed_score(tracker: DialogueStateTracker) -> bool:
    """A survey waits, no form runs, and the message just said is a score and has not been answered yet."""
    if not tracker.get_slot(SLOT) or tracker.active_loop_name:
        return False
    message, ran = latest_turn(tracker)
    text = (message.text or "") if message else ""
    return not ran and not text.startswith("/") and survey_reply(text) is not None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True)
class SurveyPolicy(AheadOfRulesPolicy):
    def predict_action_probabilities(
        self, tracker: DialogueStateTracker, domain: Domain, rule_only_data: dict[str, Any] | None = None, **kwargs: Any
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if ACTION not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        pressed = (tracker.latest_message.intent or {}).get("name") == INTENT if tracker.latest_message else False
        if not (tracker.get_slot(SLOT) or pressed or tracker.latest_action_name == ACTION):
            return self._prediction(probabilities)  # no survey in sight (nearly every turn): the events are not read
        message, ran = latest_turn(tracker)
        if message is not None and ran == [ACTION]:  # answered: wait for the customer (no rule covers a typed score)
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        elif typed_score(tracker):
            probabilities[domain.index_for_action(ACTION)] = 1.0
        elif button_in_form(tracker):  # before the form; the form then asks its question again
            probabilities[domain.index_for_action(ACTION)] = 1.0
            return self._prediction(probabilities, is_no_user_prediction=True)
        return self._prediction(probabilities)
