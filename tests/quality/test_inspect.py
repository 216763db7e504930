"""The inspector: the score, emotions per customer turn and their escalation, and a long contact inspected in
overlapping parts whose findings are merged."""

from __future__ import annotations

import dataclasses

from quality.contact import InspectedContact
from quality.emotion import EmotionModel, read_examples
from quality.inspect import Inspector, Result, parts_of
from quality.rules import Limits, load_rules
from tests.quality.test_checks import GREET, Row, agent_contact, contact


class ScriptedEmotions(EmotionModel):
    """Says the given labels, one per customer turn, whatever the words."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__(classifier=None)
        self.labels = labels

    def predict(self, texts: list[str]) -> list[str]:
        assert len(texts) == len(self.labels)
        return list(self.labels)


def customer_turns(*texts: str) -> list[Row]:
    return [("customer", t, 5.0 + 10 * k) for k, t in enumerate(texts)]


def escalation(labels: list[str]) -> bool:
    c = contact(GREET, *customer_turns(*(f"第{k}句话" for k in range(len(labels)))), ("bot", "感谢来电", 99.0))
    result = Inspector(emotion=ScriptedEmotions(labels)).inspect(c)
    assert result.emotions == labels
    return any(f.rule_id == "emotion_escalation" for f in result.findings)


def test_emotion_escalation_needs_a_rise_of_two_levels_and_an_upset_ending() -> None:
    assert escalation(["calm", "anxious", "angry"])
    assert escalation(["satisfied", "dissatisfied", "dissatisfied"])
    assert not escalation(["anxious", "dissatisfied", "dissatisfied"])  # one level only
    assert not escalation(["calm", "angry", "satisfied"])  # calmed down by the end
    assert not escalation(["dissatisfied", "angry", "angry"])  # upset from the start
    assert not escalation(["angry"])


def test_the_trained_model_sees_a_customer_losing_patience() -> None:
    c = contact(
        GREET,
        *customer_turns(
            "你好，我家停电了，想问一下什么时候能来电",
            "都两个多小时了怎么还没人来啊",
            "你们到底管不管！！！再不来人我就打12345投诉你们！",
        ),
        ("bot", "非常抱歉，已为您加急处理，感谢您的耐心。", 60.0),
    )
    result = Inspector().inspect(c)
    assert result.emotions[0] == "calm" and result.emotions[-1] == "angry"
    escalated = [f for f in result.findings if f.rule_id == "emotion_escalation"]
    assert escalated and escalated[0].evidence[-1].turn == 3


def test_the_score_takes_weights_by_severity_and_never_goes_below_zero() -> None:
    c = agent_contact(
        ("customer", "你们服务态度太差了", 30.0),
        ("agent", "我不知道，你自己去查。", 40.0),
    )
    result = Inspector(use_emotion=False).inspect(c)
    assert {f.rule_id for f in result.findings} == {"impolite_words", "complaint_no_apology"}
    assert result.score == 100 - 30 - 15 and result.findings[0].severity == 3 and result.emotions == []
    worse = agent_contact(
        ("customer", "电线掉地上了在冒火花，你们服务态度太差了", 30.0),
        ("agent", "您这个月电费236元，我不知道，你自己去查。", 40.0),
        ("agent", "爱找谁找谁", 50.0),
        facts={"outcome": "agent", "resolved": False},
    )
    assert Inspector(use_emotion=False).inspect(worse).score == 0.0


def long_contact() -> InspectedContact:
    """300 turns of chat with an agent: verified at the start, a rude reply at turn 110 (in the overlap of the
    first two parts), a hazard without urgent handling at turn 251, a disclosure after verification late on."""
    customer_said = [text for text, label in zip(*read_examples()) if label == "calm"]
    rows: list[Row] = [
        GREET,
        ("customer", "转人工", 2.0),
        ("system", "transferred", 3.0),
        ("system", "agent_joined", 4.0),
        ("agent", "您好，我是客服张敏", 5.0),
        ("system", "verified", 6.0),
    ]
    for k in range(147):
        at = 10.0 + 20 * k
        rows.append(("customer", customer_said[k * 2], at))
        rows.append(("agent", f"好的，第{k + 1}件事我记下了。", at + 10))
    rows[110] = ("agent", "说了多少遍了，听不懂吗", rows[110][2])
    rows[251] = ("customer", "对了，我家门口那根电线断了，还在冒烟", rows[251][2])
    rows[281] = ("agent", "您本月电费236元，用电412度。", rows[281][2])
    rows.append(("agent", "感谢您的耐心，再见。", 9999.0))
    return contact(*rows)


def test_a_long_contact_is_inspected_in_parts_and_each_finding_is_reported_once() -> None:
    c = long_contact()
    assert len(c.turns) == 301
    result: Result = Inspector(use_emotion=False).inspect(c)
    assert result.parts == 3
    found = {f.rule_id: f for f in result.findings}
    assert set(found) == {"impolite_words", "safety_not_urgent"}
    assert [e.turn for e in found["impolite_words"].evidence] == [110]
    assert [e.turn for e in found["safety_not_urgent"].evidence] == [251]


def test_parts_overlap_and_cover_the_contact_by_turns_and_by_characters() -> None:
    limits = load_rules().limits
    windows = parts_of(long_contact(), limits)
    assert windows == [(0, 120), (100, 220), (200, 301)]
    wordy = contact(GREET, *[("customer", "我家的电表" * 600, float(k)) for k in range(1, 9)])
    by_chars = parts_of(wordy, dataclasses.replace(limits, max_chars=12000, max_turns=120))
    assert len(by_chars) > 1 and all(sum(len(t.text) for t in wordy.turns[a + 1 : b]) <= 12000 for a, b in by_chars)
    assert by_chars[0][0] == 0 and by_chars[-1][1] == len(wordy.turns)
    small = Limits(max_turns=120, max_chars=12000, overlap_turns=20)
    assert parts_of(contact(GREET), small) == [(0, 1)]
