"""The checks rules.yml may name, with the parameters each one takes and their kinds (see quality.rules)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from quality import checks_flow, checks_promises, checks_repeats, checks_words
from quality.checks import ContactView, Hit

# Parameter kinds: patterns (a list of regexes, compiled into one), words (a list of strings), int, number,
# text, levels (a mapping of emotion label to an integer level).
PARAM_KINDS = ("patterns", "words", "int", "number", "text", "levels")


@dataclass(frozen=True)
class CheckKind:
    run: Callable[[ContactView, Mapping[str, Any]], Hit | None]
    params: Mapping[str, str]


CHECKS: dict[str, CheckKind] = {
    "first_server_turn_has": CheckKind(
        checks_words.first_server_turn_has, {"patterns": "patterns", "bot_greets_elsewhere": "words"}
    ),
    "closing_phrase": CheckKind(
        checks_words.closing_phrase, {"patterns": "patterns", "last_turns": "int", "asking": "patterns"}
    ),
    "disclosure_before_verified": CheckKind(
        checks_words.disclosure_before_verified,
        {"account_data": "patterns", "general_words": "words", "public_numbers": "words"},
    ),
    "agent_says": CheckKind(checks_words.agent_says, {"patterns": "patterns"}),
    "promised_callback_kept": CheckKind(
        checks_promises.promised_callback_kept,
        {
            "patterns": "patterns",
            "offers": "patterns",
            "not_promises": "patterns",
            "asked": "patterns",
            "accepted": "patterns",
            "declined": "patterns",
        },
    ),
    "complaint_apology": CheckKind(
        checks_words.complaint_apology, {"complaint_patterns": "patterns", "apology_patterns": "patterns"}
    ),
    "hazard_without_urgent": CheckKind(checks_words.hazard_without_urgent, {}),
    "repeated_turns": CheckKind(
        checks_repeats.repeated_turns,
        {
            "who": "text",
            "times": "int",
            "similarity": "number",
            "min_chars": "int",
            "fillers": "words",
            "answers": "words",
            "synonyms": "words",
            "markers": "patterns",
        },
    ),
    "restated_turns": CheckKind(
        checks_repeats.restated_turns,
        {
            "who": "text",
            "times": "int",
            "similarity": "number",
            "min_chars": "int",
            "fillers": "words",
            "answers": "words",
            "synonyms": "words",
            "markers": "patterns",
            "light_words": "words",
        },
    ),
    "silence_and_hold": CheckKind(
        checks_flow.silence_and_hold,
        {"channels": "words", "max_silence_seconds": "number", "max_hold_seconds": "number"},
    ),
    "transferred_unresolved": CheckKind(checks_flow.transferred_unresolved, {}),
    "slow_agent_reply": CheckKind(checks_flow.slow_agent_reply, {"channels": "words", "max_reply_seconds": "number"}),
    "emotion_rises": CheckKind(checks_flow.emotion_rises, {"levels": "levels", "rise": "int", "end_at_least": "int"}),
}
