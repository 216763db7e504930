"""Out-of-domain guard: when the bot would ask to clarify, is the message outside power-utility service?

A request about flights, rubbish collection or a sick cat has few features DIET knows, so it falls back
to a clarification ("您是想办理下面哪一项？") offering electricity services. This guard is a naive Bayes
model over character unigrams and bigrams, trained on the same data: the out_of_scope examples against
everything else, with equal priors. It only looks at messages the FallbackClassifier already gave up on,
and turns them into out_of_scope when that is the likelier reading, so they get the polite "I can only help
with electricity" answer and never a form. Content the training data never saw counts towards out of
domain (Laplace smoothing over a larger in-domain corpus makes an unseen feature likelier out of domain).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.base import JsonModelComponent

NUMBER = re.compile(r"[0-9０-９零〇一二三四五六七八九幺两]{4,}")  # a 户号, phone or order number: ours
CJK = re.compile(r"[\u4e00-\u9fff]")
# words of our service, and of a conversation with it ("帮我撤销吧", "刚才那个单子"), even when no synonym is
ANCHORS = re.compile(
    r"电|闸|户号|工单|单子|线|表|停|供|充|光伏|业务|人工|客服|投诉|你们|撤|取消|刚才|申请|开通|办理|不办|峰谷"
)
OUT = "out_of_scope"
FALLBACK = "nlu_fallback"


def features(text: str) -> list[str]:
    chars = [c for c in unicodedata.normalize("NFKC", text or "").lower() if unicodedata.category(c)[0] in ("L", "N")]
    return chars + [a + b for a, b in zip(chars, chars[1:])]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class OutOfDomainGuard(JsonModelComponent, IntentClassifier):
    MODEL_FILE = "domain_guard.json"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"threshold": 0.5}

    def from_json(self, data: Any) -> Any:
        return data or {}

    def fit(self, training_data: TrainingData) -> Any:
        counts: dict[str, Counter[str]] = {"in": Counter(), "out": Counter()}
        for example in training_data.intent_examples:
            side = "out" if example.get("intent") == OUT else "in"
            counts[side].update(features(example.get("text") or ""))
        vocabulary = set(counts["in"]) | set(counts["out"])
        model: dict[str, Any] = {side: {"counts": dict(c), "total": sum(c.values())} for side, c in counts.items()}
        model["vocabulary"] = len(vocabulary)
        return model

    def out_of_domain(self, text: str) -> float:
        """P(out of domain | text) with equal priors."""
        feats = features(text)
        if not feats or not self.model:
            return 0.0
        v = self.model["vocabulary"] + 1
        score = {}
        for side in ("in", "out"):
            c, total = self.model[side]["counts"], self.model[side]["total"]
            score[side] = sum(math.log((c.get(f, 0) + 1) / (total + v)) for f in feats)
        diff = max(-50.0, min(50.0, score["in"] - score["out"]))
        return 1.0 / (1.0 + math.exp(diff))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get("intent") or {}
            text = (message.get("text") or "").strip()
            if (
                intent.get("name") != FALLBACK
                or text.startswith("/")
                or NUMBER.search(re.sub(r"[\s\-]", "", text))
                or (message.get("vocabulary_share") is not None and len(set(CJK.findall(text))) < 4)
            ):
                continue  # gibberish stays a clarification; numbers are account, phone or order numbers
            p = max(self.out_of_domain(text), self.no_domain_evidence(message, text))
            message.set("out_of_domain", round(p, 3), add_to_output=True)
            if p >= float(self.config["threshold"]):
                message.set("intent", {"name": OUT, "confidence": p}, add_to_output=True)
        return messages

    @staticmethod
    def no_domain_evidence(message: Message, text: str) -> float:
        """A sentence that names no service of the catalog (the matcher found none of its synonyms), says
        nothing of electricity and still left DIET unsure is about something else: 0.55; otherwise 0."""
        matcher = message.get("matcher")
        if not isinstance(matcher, dict) or len(set(CJK.findall(text))) < 4:
            return 0.0  # without the matcher's evidence, or too little content ("啊啊啊啊"), naive Bayes decides
        named = any(f.get("matched") for f in matcher.get("functions") or [])
        # 0.55: enough to answer "only electricity" at the top level (threshold 0.5), below the 0.6 at which a
        # form takes a message for a side question, so "对 三结尾的" inside a form is still the form's answer
        return 0.0 if named or ANCHORS.search(text) else 0.55
