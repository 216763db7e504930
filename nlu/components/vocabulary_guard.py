"""Lowers intent confidence for messages made of characters (or Latin words) the bot was never trained on.

DIET still ranks intents for "呜呜呜呜", "😀😀😀" or "？？？", often confidently, because a message with no known
features lands anywhere. This guard remembers the characters of the training data; when too few of a
message's characters are known, it caps the confidence so the FallbackClassifier asks to clarify instead.

A message of digits only ("0001", a 户号 or a phone number on its own) is `inform`: a number names no request.
DIET read one said after a request was done as goodbye (0.9), and the customer was seen off.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.base import JsonModelComponent

LATIN_WORD = re.compile(r"[A-Za-z]+")
NUMBER_ONLY = re.compile(r"[\d\s,，.。:：;；!！?？~、\-+()（）]*\d[\d\s,，.。:：;；!！?？~、\-+()（）]*")
INFORM = "inform"


def content_chars(text: str) -> list[str]:
    """Content units: each CJK character or digit, and each Latin word as a whole ("app", "script").
    Punctuation, symbols, emoji and spaces do not count. Latin letters one by one would make any English
    or markup look familiar, so a Latin word is known only if it occurred as a word in training."""
    units = [w.lower() for w in LATIN_WORD.findall(text)]
    rest = LATIN_WORD.sub(" ", text)
    return units + [c for c in rest if unicodedata.category(c)[0] in ("L", "N")]


def known_share(text: str, vocabulary: set[str]) -> float:
    chars = content_chars(text)
    if not chars:
        return 0.0
    distinct = set(chars)
    if len(distinct) == 1 and len(chars) >= 3 and chars[0] not in {"嗯", "对", "好", "是", "行"}:
        return 0.0  # one character over and over ("啊啊啊啊") carries no request
    return sum(c in vocabulary for c in chars) / len(chars)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class VocabularyGuard(JsonModelComponent, IntentClassifier):
    MODEL_FILE = "characters.json"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_known_share": 0.6, "capped_confidence": 0.1}

    def fit(self, training_data: TrainingData) -> Any:
        chars: set[str] = set()
        for example in training_data.training_examples:
            chars.update(content_chars(example.get("text") or ""))
        return sorted(chars)

    def from_json(self, data: Any) -> Any:
        return set(data or ())

    def process(self, messages: list[Message]) -> list[Message]:
        cap = float(self.config["capped_confidence"])
        for message in messages:
            text = (message.get("text") or "").strip()
            intent = message.get("intent") or {}
            if not intent.get("name") or text.startswith("/"):
                continue
            if NUMBER_ONLY.fullmatch(text):
                number = {"name": INFORM, "confidence": 1.0}
                rest = [r for r in message.get("intent_ranking") or [] if r.get("name") != INFORM]
                message.set("intent", number, add_to_output=True)
                message.set("intent_ranking", [number, *({**r, "confidence": 0.0} for r in rest)], add_to_output=True)
                continue
            share = known_share(text, self.model)
            if share < float(self.config["min_known_share"]):
                message.set(
                    "intent", {**intent, "confidence": min(cap, intent.get("confidence", 0.0))}, add_to_output=True
                )
                message.set("vocabulary_share", round(share, 2), add_to_output=True)
        return messages
