"""quality/rules.yml: the shipped file loads with the 13 rules of issue 20, and a broken file is refused with a
message naming the rule and its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quality.rules import RULES_FILE, RuleFileError, load_rules

SHIPPED = RULES_FILE.read_text(encoding="utf-8")
RULE_IDS = {
    "greeting": 1,
    "closing": 1,
    "identity_before_disclosure": 3,
    "impolite_words": 3,
    "callback_kept": 2,
    "customer_repeats": 2,
    "bot_repeats": 2,
    "long_silence": 1,
    "transfer_unresolved": 2,
    "complaint_no_apology": 2,
    "safety_not_urgent": 3,
    "agent_slow_reply": 1,
    "emotion_escalation": 2,
}


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert SHIPPED.count(old) == 1, old
    text = SHIPPED.replace(old, new)
    path = tmp_path / "rules.yml"
    path.write_text(text, encoding="utf-8")
    return path, text


def refusal(path: Path) -> str:
    with pytest.raises(RuleFileError) as e:
        load_rules(path)
    return str(e.value)


def test_the_shipped_file_has_exactly_the_thirteen_rules_with_their_severities() -> None:
    rules = load_rules()
    assert {r.id: r.severity for r in rules.rules} == RULE_IDS
    assert all(r.description and r.line > 0 for r in rules.rules)
    assert rules.weights == {1: 5, 2: 15, 3: 30}
    assert re.fullmatch(r"[0-9a-f]{16}", rules.version)


def test_the_version_is_a_hash_of_the_file(tmp_path: Path) -> None:
    same = tmp_path / "same.yml"
    same.write_text(SHIPPED, encoding="utf-8")
    changed, _ = broken(tmp_path, "max_reply_seconds: 60", "max_reply_seconds: 90")
    assert load_rules(same).version == load_rules().version != load_rules(changed).version
    assert load_rules(changed).rule("agent_slow_reply").params["max_reply_seconds"] == 90.0


def test_a_yaml_syntax_error_is_refused_with_the_rule_and_the_parsers_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    max_silence_seconds: 30\n", "    max_silence_seconds: [30\n")
    message = refusal(path)
    assert "rule 'long_silence'" in message and "not valid YAML" in message
    reported = int(re.search(r"line (\d+)", message).group(1))  # type: ignore[union-attr]
    assert line_of(text, "max_silence_seconds") <= reported <= line_of(text, "max_hold_seconds") + 1


@pytest.mark.parametrize(
    ("rule_id", "old", "new", "says"),
    [
        ("closing", "check: closing_phrase", "check: closing_phrases", "unknown check 'closing_phrases'"),
        ("greeting", "'早上好', ", "'早上好(', ", "does not compile"),
        (
            "bot_repeats",
            "    severity: 2\n    check: repeated_turns\n    who: bot",
            "    severity: 4\n    check: repeated_turns\n    who: bot",
            "severity must be 1, 2 or 3",
        ),
        ("transfer_unresolved", "    description: 转人工后问题没有解决\n", "", "missing 'description'"),
        ("agent_slow_reply", "max_reply_seconds: 60", "max_reply_seconds: 一分钟", "must be a number"),
        (
            "customer_repeats",
            "    times: 3\n    similarity: 0.7",
            "    times: 3\n    similarity: 0.7\n    similar: 0.9",
            "no parameter 'similar'",
        ),
        ("emotion_escalation", "    rise: 2", "    rise: 两级", "must be a whole number"),
        ("greeting", "patterns: ['您好(?!像)', ", "patterns: '您好' #", "must be a list of text"),
    ],
)
def test_a_wrong_rule_is_refused_with_its_id_and_line(
    tmp_path: Path, rule_id: str, old: str, new: str, says: str
) -> None:
    path, text = broken(tmp_path, old, new)
    message = refusal(path)
    assert f"rule '{rule_id}', line {line_of(text, f'- id: {rule_id}')}" in message
    assert says in message


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "- id: bot_repeats", "- id: customer_repeats")
    assert f"rule 'customer_repeats', line {line_of(text, 'description: 机器人重复') - 1}" in refusal(path)


def test_a_missing_or_empty_file_is_refused(tmp_path: Path) -> None:
    assert "cannot read" in refusal(tmp_path / "nowhere.yml")
    empty = tmp_path / "empty.yml"
    empty.write_text("version: 1\n", encoding="utf-8")
    assert "non-empty list under 'rules:'" in refusal(empty)
