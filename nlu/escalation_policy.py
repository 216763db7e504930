"""Routes a message the NLU marked as danger to life or anger (nlu.components.escalation_signal) to
action_escalate_signal, once, before any other policy's choice.

That action hands over when an agent is online; otherwise it undoes itself (ActionReverted), the conversation
state is again what it was right after the message, this policy sees it already ran for the message and
abstains, and the rules answer the message as usual.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from nlu.components.escalation_signal import SIGNAL
from nlu.policy_base import AheadOfRulesPolicy

ACTION = "action_escalate_signal"


def signal_pending(tracker: DialogueStateTracker) -> bool:
    """The latest customer message carries the mark and nothing has run since it was said."""
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            return False
        if isinstance(event, UserUttered):
            return bool((event.parse_data or {}).get(SIGNAL, {}).get("reason"))
    return False


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True)
class EscalationPolicy(AheadOfRulesPolicy):
    def predict_action_probabilities(
        self, tracker: DialogueStateTracker, domain: Domain, rule_only_data: dict[str, Any] | None = None, **kwargs: Any
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if ACTION in domain.action_names_or_texts and signal_pending(tracker):
            probabilities[domain.index_for_action(ACTION)] = 1.0
        return self._prediction(probabilities)
