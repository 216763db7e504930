"""Combines DIET's intent ranking with the knowledge service's synonym/embedding matcher.

Called over HTTP (channels.knowledge, the one client of that service) like Rasa's DucklingEntityExtractor calls
Duckling: the matcher needs the embedding model, which lives in the Python 3.11 process. The mass DIET gives to
service functions is shared out between DIET and the matcher (dialogue acts such as affirm/inform keep DIET's
confidence), so the result is still a distribution and the FallbackClassifier's threshold keeps its meaning.
If the service is down, DIET's result stands (warning).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message

from channels.knowledge import KnowledgeClient, knowledge_url
from nlu.components.base import ConfiguredComponent
from nlu.opening import after_opening, chinese_chars

# dialogue acts that name no request of their own: details ("inform") and a greeting opening a request
# ("喂 你好 我家又停电了", how a phone call starts); with a service named outright, the service is the request
YIELDING = ("inform", "greet")
GREET = "greet"
UNSURE = 0.6  # below this DIET's greeting is a guess (the greetings it was trained on score 0.74 and more)


def combine(diet: dict[str, float], matcher: dict[str, float], weight: float) -> list[dict[str, Any]]:
    """Ranking over DIET's intents where service-function mass is split (1-weight) DIET / weight matcher."""
    functions = set(matcher)
    function_mass = sum(p for name, p in diet.items() if name in functions)
    total = sum(matcher.values()) or 1.0
    scores = {name: p for name, p in diet.items() if name not in functions}
    for name in functions | {n for n in diet if n in functions}:
        scores[name] = (1 - weight) * diet.get(name, 0.0) + weight * function_mass * matcher.get(name, 0.0) / total
    ranking = sorted(({"name": n, "confidence": float(p)} for n, p in scores.items()), key=lambda r: -r["confidence"])
    return ranking


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MatcherIntentClassifier(ConfiguredComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # lexical_weight: the matcher's share when the text names a catalog synonym outright (strong evidence)
        return {"url": None, "timeout": 1.5, "matcher_weight": 0.5, "lexical_weight": 0.7, "retry_after": 30}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.knowledge = KnowledgeClient(
            config.get("url") or knowledge_url(default=""),
            timeout=float(config["timeout"]),
            retry_after=float(config["retry_after"]),
        )
        self.weight = float(config["matcher_weight"])
        self.lexical_weight = float(config.get("lexical_weight", self.weight))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = (message.get("text") or "").strip()
            intent = message.get("intent") or {}
            if not text or text.startswith("/") or not intent.get("name"):
                continue
            result = self.knowledge.match(text, top_k=50)
            if not result:
                continue
            diet = {r["name"]: float(r["confidence"]) for r in message.get("intent_ranking") or []}
            matcher = {f["function"]: float(f["score"]) for f in result.get("functions", [])}
            top = (result.get("functions") or [{}])[0]
            named = result.get("decision") == "confident" and bool(top.get("matched"))
            if (named and intent.get("name") in YIELDING) or self.opens_a_request(text, intent, result):
                # "上月账单", "想报修，地址是…": details given with a service named in so many words are a
                # request for it, not only an answer; DIET's "inform" mass goes to the service functions
                diet[top["function"]] = diet.get(top["function"], 0.0) + diet.pop(intent["name"], 0.0)
            ranking = combine(diet, matcher, self.lexical_weight if named else self.weight)
            message.set("diet_intent", intent, add_to_output=True)
            message.set(
                "matcher",
                {"decision": result.get("decision"), "functions": result.get("functions", [])[:3]},
                add_to_output=True,
            )
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[:10], add_to_output=True)
        return messages

    @staticmethod
    def opens_a_request(text: str, intent: dict[str, Any], result: dict[str, Any]) -> bool:
        """A greeting that carries a request ("喂 喂 我那个电卡里头还有钱没得"): DIET leans on the greeting words
        but is unsure, the matcher is confident of a service, and more than greetings and fillers was said.
        The matcher alone is no proof: it is confident of 转人工 for "在吗在吗" and "客服你好"."""
        return (
            intent.get("name") == GREET
            and float(intent.get("confidence") or 0.0) < UNSURE
            and result.get("decision") == "confident"
            and chinese_chars(after_opening(text)) >= 6
        )
