"""JiebaTokenizer with the domain dictionary and text normalisation applied before segmentation."""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from nlu.components.text_normalizer import load_homophones, normalize


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class DomainJiebaTokenizer(JiebaTokenizer):
    """Tokens come from the normalised text (capped length, folded width, homophones fixed)."""

    _homophones: dict[str, str] | None = None

    @classmethod
    def homophones(cls) -> dict[str, str]:
        if cls._homophones is None:
            cls._homophones = load_homophones()
        return cls._homophones

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:  # {"text": 123} on /model/parse: read as the text "123", never a crash
            text = message.get("text")
            if text is not None and not isinstance(text, str):
                message.set("text", str(text) if isinstance(text, (int, float)) else "")
        return super().process(messages)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        import jieba

        text = normalize(message.get(attribute) or "", self.homophones())
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(text) if word.strip()]
        if not tokens:  # empty or whitespace-only text still needs one token for the featurizers
            tokens = [Token(text or " ", 0)]
        return self._apply_token_pattern(tokens)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**JiebaTokenizer.get_default_config(), "dictionary_path": "nlu/lexicon/jieba"}
