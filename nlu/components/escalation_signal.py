"""Marks a message whose words call for a person now: danger to life or anger (nlu.escalation).

The mark is `escalation: {"reason": "safety" | "anger"}` in the parse result; the intent is left alone, so a
message routes as before when nobody can take over. nlu.escalation_policy reads the mark and runs
action_escalate_signal, which hands the customer over when an agent is online. Channels only carry messages.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message

from nlu.components.base import ConfiguredComponent
from nlu.escalation import escalation_reason

SIGNAL = "escalation"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EscalationSignal(ConfiguredComponent):
    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = (message.get("text") or "").strip()
            if not text or text.startswith(("/", "EXTERNAL")):
                continue
            reason = escalation_reason(text)
            if reason:
                message.set(SIGNAL, {"reason": reason}, add_to_output=True)
        return messages
