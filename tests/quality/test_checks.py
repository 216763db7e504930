"""Rules 1-12 of quality/rules.yml, each violated and in a near miss that must stay clean. Contacts are written
compactly: ("bot", "您好…", 0.0) is a spoken turn, ("system", "verified", 20.0) an event, ("bot!", "…", 21.0) a
bot turn that discloses account data."""

from __future__ import annotations

from functools import cache
from typing import Any

from quality.contact import InspectedContact, from_dict
from quality.inspect import Finding, Inspector

Row = tuple[str, str, float]


def contact(*turns: Row, channel: str = "chat", facts: dict[str, Any] | None = None) -> InspectedContact:
    rows: list[dict[str, Any]] = []
    for who, text, at in turns:
        if who == "system":
            rows.append({"who": "system", "event": text, "at": at})
        else:
            rows.append({"who": who.rstrip("!"), "text": text, "at": at, "discloses": who.endswith("!")})
    has_agent = any(r["who"] == "agent" for r in rows)
    return from_dict(
        {
            "id": "t1",
            "channel": channel,
            "handled_by": "agent" if has_agent else "bot",
            "agent": {"id": "1001", "name": "张敏", "team": "一班"} if has_agent else None,
            "turns": rows,
            "facts": facts or {"outcome": "agent" if has_agent else "contained", "resolved": True},
        }
    )


@cache
def rule_inspector() -> Inspector:
    """The shipped rules without the emotion model: rules 1-12 are deterministic."""
    return Inspector(use_emotion=False)


def findings(c: InspectedContact) -> dict[str, Finding]:
    return {f.rule_id: f for f in rule_inspector().inspect(c).findings}


def highlighted(f: Finding) -> list[str]:
    return [e.text[a:b] for e in f.evidence for a, b in e.spans]


GREET: Row = ("bot", "您好，欢迎使用95598智能客服，请问有什么可以帮您？", 0.0)
BYE: Row = ("bot", "好的，感谢您的咨询，祝您生活愉快，再见。", 90.0)


def agent_contact(*middle: Row, channel: str = "chat", facts: dict[str, Any] | None = None) -> InspectedContact:
    """A bot greeting, a transfer, an agent who greets; `middle` after that, then the agent's goodbye."""
    return contact(
        GREET,
        ("customer", "转人工", 5.0),
        ("system", "transferred", 6.0),
        ("system", "agent_joined", 20.0),
        ("agent", "您好，我是客服张敏，请问有什么可以帮您？", 21.0),
        *middle,
        ("agent", "好的，感谢您的耐心，再见。", max([21.0] + [at for _, _, at in middle]) + 10.0),
        channel=channel,
        facts=facts,
    )


def test_a_polite_complete_bot_contact_has_no_finding() -> None:
    c = contact(
        GREET,
        ("customer", "我想查一下这个月的电费", 5.0),
        ("bot", "请告诉我您的户号和预留手机号的后四位。", 6.0),
        ("customer", "3201000001，尾号0001", 15.0),
        ("system", "verified", 16.0),
        ("bot!", "您本月电费236.5元，用电412度。", 17.0),
        ("customer", "好的，谢谢", 25.0),
        BYE,
    )
    assert findings(c) == {}


# 1 greeting
def test_a_bot_that_starts_without_a_greeting_is_flagged() -> None:
    c = contact(("bot", "请说出您要办理的业务。", 0.0), ("customer", "查电费", 3.0), BYE)
    assert findings(c)["greeting"].evidence[0].turn == 0


def test_on_wechat_the_bot_is_greeted_for_on_subscribing_but_an_agent_still_must_greet() -> None:
    bot = contact(
        ("customer", "家里停电了", 0.0), ("bot", "好的，马上帮您报修。请问地址是哪里？", 1.0), BYE, channel="wechat"
    )
    assert "greeting" not in findings(bot)
    agent = contact(
        ("customer", "转人工", 0.0),
        ("system", "transferred", 1.0),
        ("system", "agent_joined", 20.0),
        ("agent", "说吧，什么事？", 21.0),
        ("agent", "感谢您的咨询，再见。", 60.0),
        channel="wechat",
    )
    assert findings(agent)["greeting"].evidence[0].who == "agent"


def test_the_bots_own_anything_else_question_is_a_closing() -> None:
    for last in ("好的。还有别的需要帮忙吗？", "好的。还有别的需要帮您的吗？", "请问还有其他问题吗？"):
        assert "closing" not in findings(contact(GREET, ("customer", "查电费", 3.0), ("bot", last, 4.0))), last
    assert "closing" in findings(contact(GREET, ("customer", "查电费", 3.0), ("bot", "您本月电费236元。", 4.0)))


def test_a_customer_who_leaves_while_being_asked_something_leaves_no_closing_to_judge() -> None:
    told = contact(GREET, ("customer", "查电费", 3.0), ("bot", "您本月电费236元。", 4.0))
    assert "closing" in findings(told)  # told, not asked: the server ended without a closing
    left = contact(GREET, ("customer", "查电费", 3.0), ("bot", "请问您的十位户号是多少？", 4.0))
    assert "closing" not in findings(left)
    told_to = contact(GREET, ("customer", "查电费", 3.0), ("bot", "请告诉我您的十位户号。户号在电费单上。", 4.0))
    assert "closing" not in findings(told_to)  # asked in the imperative, as the bot does
    answered = contact(
        GREET, ("customer", "查电费", 3.0), ("bot", "您的户号是多少？", 4.0), ("customer", "不记得", 9.0)
    )
    assert "closing" in findings(answered)  # the customer answered and was left without a reply


def test_an_agent_who_skips_the_greeting_is_flagged_even_after_the_bot_greeted() -> None:
    c = contact(
        GREET,
        ("customer", "人工", 4.0),
        ("system", "transferred", 5.0),
        ("system", "agent_joined", 30.0),
        ("agent", "嗯，说吧，什么事？", 31.0),
        ("customer", "我家停电了", 40.0),
        ("agent", "已经帮您登记了，感谢来电，再见。", 50.0),
    )
    f = findings(c)["greeting"]
    assert [e.turn for e in f.evidence] == [4] and f.evidence[0].who == "agent"


def test_nin_hao_xiang_is_not_a_greeting_but_an_agents_greeting_is() -> None:
    rude = contact(("bot", "您好像还没有说户号。", 0.0), BYE)
    assert "greeting" in findings(rude)
    assert "greeting" not in findings(agent_contact(("customer", "我家停电了", 30.0)))


# 2 closing
def test_a_contact_that_ends_without_a_closing_phrase_is_flagged() -> None:
    c = contact(
        GREET, ("customer", "停电了", 3.0), ("bot", "已为您登记抢修。", 8.0), ("bot", "单号G26120300043。", 9.0)
    )
    assert findings(c)["closing"].evidence[0].turn == 3


def test_a_closing_in_the_second_last_server_turn_or_an_abandoned_contact_is_clean() -> None:
    second_last = contact(GREET, ("bot", "还有其他问题我可以帮您吗？", 10.0), ("bot", "单号已发短信。", 11.0))
    assert "closing" not in findings(second_last)
    abandoned = contact(GREET, ("customer", "等一下", 3.0), facts={"outcome": "abandoned", "resolved": False})
    assert "closing" not in findings(abandoned)


# 3 identity before disclosure
def test_an_agent_stating_the_bill_before_verification_is_flagged_with_the_amount_highlighted() -> None:
    c = agent_contact(
        ("customer", "帮我看看我家这个月电费多少", 30.0),
        ("agent", "您这个月电费是236元，比上个月多了四十块。", 40.0),
        ("system", "verified", 60.0),
    )
    f = findings(c)["identity_before_disclosure"]
    assert f.severity == 3 and f.evidence[0].turn == 6 and "236元" in highlighted(f)
    spoken = agent_contact(("agent", "您家欠了两百三十六块钱", 40.0), channel="voice")
    assert "两百三十六块" in highlighted(findings(spoken)["identity_before_disclosure"])


def test_a_disclosing_bot_turn_without_any_verification_is_flagged() -> None:
    c = contact(GREET, ("customer", "查余额", 3.0), ("bot!", "您的账户余额为12.30元。", 4.0), BYE)
    assert findings(c)["identity_before_disclosure"].evidence[0].turn == 2


def test_after_verification_a_tariff_or_a_question_discloses_nothing() -> None:
    c = agent_contact(
        ("agent", "请问您的地址是哪里？", 25.0),
        ("agent", "居民第一档电价是每度0.4883元，超过230度的部分按第二档算。", 30.0),
        ("system", "verified", 60.0),
        ("agent", "核实好了，您上个月用了320度，电费168元。", 70.0),
    )
    assert "identity_before_disclosure" not in findings(c)
    c = agent_contact(
        ("agent", "如果欠费超过一百元，系统会提醒您。", 25.0),
        ("agent", "这一块业务是营业厅办的。", 30.0),
    )
    assert "identity_before_disclosure" not in findings(c)


# 4 impolite words
def test_an_agents_forbidden_words_are_flagged_and_highlighted() -> None:
    c = agent_contact(
        ("customer", "那我家什么时候来电啊", 30.0),
        ("agent", "这个我不知道，你自己去查吧，说了多少遍了", 40.0),
    )
    f = findings(c)["impolite_words"]
    assert f.severity == 3 and set(highlighted(f)) == {"不知道", "你自己去查", "说了多少遍"}


def test_the_bot_and_a_polite_agent_are_not_flagged_but_the_words_inside_a_polite_sentence_are() -> None:
    bot_only = contact(GREET, ("bot", "抱歉，这个问题我不知道，帮您转人工。", 5.0), BYE)
    assert "impolite_words" not in findings(bot_only)
    polite = agent_contact(("agent", "您别着急，我马上帮您查询。", 30.0))
    assert "impolite_words" not in findings(polite)
    wrapped = agent_contact(("agent", "不好意思，这事真的没办法，请您谅解。", 30.0))
    assert highlighted(findings(wrapped)["impolite_words"]) == ["没办法"]


# 5 callback kept
PROMISE: Row = ("agent", "我这边记录下来，两个小时内给您回电。", 40.0)


def test_a_promised_callback_without_record_or_late_is_flagged() -> None:
    assert "回电" in highlighted(findings(agent_contact(PROMISE))["callback_kept"])
    late = {"outcome": "agent", "resolved": True, "callbacks": [{"promised_at": 40, "due_at": 7240, "done_at": 9000}]}
    assert findings(agent_contact(PROMISE, facts=late))["callback_kept"].message.endswith("回电晚于约定时间")
    never = {"outcome": "agent", "resolved": True, "callbacks": [{"promised_at": 40, "due_at": 7240}]}
    assert "callback_kept" in findings(agent_contact(PROMISE, facts=never))


def test_a_callback_done_in_time_or_only_offered_is_clean() -> None:
    kept = {"outcome": "agent", "resolved": True, "callbacks": [{"promised_at": 40, "due_at": 7240, "done_at": 3600}]}
    assert "callback_kept" not in findings(agent_contact(PROMISE, facts=kept))
    offered = agent_contact(("agent", "需要我们稍后给您回电吗？", 40.0), ("customer", "不用了", 45.0))
    assert "callback_kept" not in findings(offered)


# 6 customer repeats / 7 bot repeats
def test_a_customer_saying_the_same_thing_three_times_is_flagged() -> None:
    c = contact(
        GREET,
        ("customer", "我要转人工", 3.0),
        ("bot", "请问您要办理什么业务？", 4.0),
        ("customer", "转人工！", 8.0),
        ("bot", "您可以说查电费、报修等。", 9.0),
        ("customer", "喂，我说我要转人工啊", 14.0),
        BYE,
    )
    assert [e.turn for e in findings(c)["customer_repeats"].evidence] == [1, 3, 5]


def test_the_same_complaint_in_other_words_is_a_repeat() -> None:
    c = contact(
        GREET,
        ("customer", "喂，我家停电了", 3.0),
        ("bot", "请问您的户号是多少？", 6.0),
        ("customer", "我家没电了啊", 12.0),
        ("bot", "请说一下户号。", 15.0),
        ("customer", "我说我家停电了！", 20.0),
        BYE,
        channel="voice",
    )
    assert len(findings(c)["customer_repeats"].evidence) == 3


def test_answers_and_requests_with_other_numbers_are_not_repeats() -> None:
    c = contact(
        GREET,
        *[("customer", "好的好的", 3.0 + k) for k in range(4)],
        ("customer", "查一下10月的电费", 10.0),
        ("bot", "您10月电费236元。", 11.0),
        ("customer", "查一下9月的电费", 20.0),
        ("bot", "您9月电费198元。", 21.0),
        ("customer", "查一下8月的电费", 30.0),
        ("bot", "您8月电费175元。", 31.0),
        BYE,
    )
    assert not {"customer_repeats", "bot_repeats"} & set(findings(c))


def test_short_answers_and_a_request_said_twice_are_not_repeats() -> None:
    c = contact(
        GREET,
        ("customer", "嗯", 3.0),
        ("customer", "对", 5.0),
        ("customer", "嗯", 7.0),
        ("customer", "我要报修，家里停电了", 9.0),
        ("customer", "我要报修家里停电了", 20.0),
        ("customer", "地址是东风路88号", 30.0),
        BYE,
    )
    assert "customer_repeats" not in findings(c)


def test_a_bot_giving_the_same_reply_three_times_is_flagged_but_a_shared_tail_is_not() -> None:
    again = "抱歉，我没有听清，请您再说一遍。"
    stuck = contact(GREET, ("bot", again, 3.0), ("bot", "抱歉，我没听清，请您再说一遍", 6.0), ("bot", again, 9.0), BYE)
    assert len(findings(stuck)["bot_repeats"].evidence) == 3
    tail = "还有什么可以帮您？"
    varied = contact(
        GREET,
        ("bot", "您本月电费已结清。" + tail, 3.0),
        ("bot", "您所在区域今天没有计划停电。" + tail, 6.0),
        ("bot", "峰谷电价申请已经提交，次月生效。" + tail, 9.0),
        BYE,
    )
    assert "bot_repeats" not in findings(varied)


# 8 long silence
def test_a_silent_gap_or_a_long_hold_on_a_call_is_flagged() -> None:
    bye = ("bot", "感谢您的来电，再见。", 50.0)
    gap = contact(GREET, ("customer", "我查下电费", 5.0), ("bot", "请说户号。", 45.0), bye, channel="voice")
    assert [e.turn for e in findings(gap)["long_silence"].evidence] == [1, 2]
    hold = agent_contact(
        ("system", "hold_start", 30.0), ("system", "hold_end", 200.0), ("agent", "让您久等了", 201.0), channel="voice"
    )
    assert findings(hold)["long_silence"].message.endswith("保持170秒")


def test_holds_under_two_minutes_queue_time_and_chat_gaps_are_not_silence() -> None:
    quiet = [("customer", "稍等我找下户号", 5.0), ("system", "hold_start", 6.0)]
    short_hold = agent_contact(*quiet, ("system", "hold_end", 100.0), ("agent", "感谢等待", 101.0), channel="voice")
    queued = contact(
        GREET,
        ("customer", "转人工", 5.0),
        ("system", "transferred", 6.0),
        ("system", "agent_joined", 70.0),
        ("agent", "您好，我是张敏。", 71.0),
        ("agent", "感谢来电，再见。", 90.0),
        channel="voice",
    )
    chat_gap = contact(GREET, ("customer", "我查下电费", 5.0), ("bot", "请输入户号。", 300.0), BYE)
    for c in (short_hold, queued, chat_gap):
        assert "long_silence" not in findings(c)


# 9 transfer unresolved
def test_a_transfer_that_ends_unresolved_or_abandoned_is_flagged_and_a_resolved_one_is_not() -> None:
    for facts in ({"outcome": "agent", "resolved": False}, {"outcome": "abandoned", "resolved": True}):
        assert findings(agent_contact(facts=facts))["transfer_unresolved"].evidence[0].turn == 2
    assert "transfer_unresolved" not in findings(agent_contact())


# 10 complaint without apology
def test_a_complaint_without_an_apology_is_flagged() -> None:
    said = agent_contact(("customer", "你们这服务态度太差了，我要投诉！", 30.0), ("agent", "好的，已经记录。", 40.0))
    assert set(highlighted(findings(said)["complaint_no_apology"])) == {"态度太差", "投诉"}
    by_facts = agent_contact(facts={"outcome": "agent", "resolved": True, "complaint": True})
    assert "complaint_no_apology" in findings(by_facts)


def test_an_apology_or_a_denied_complaint_is_clean() -> None:
    sorry = agent_contact(("customer", "太不负责了你们", 30.0), ("agent", "非常抱歉给您添麻烦了", 40.0))
    assert "complaint_no_apology" not in findings(sorry)
    denied = agent_contact(("customer", "我不是要投诉，就是问一下进度", 30.0))
    assert "complaint_no_apology" not in findings(denied)


# 11 safety not urgent
def test_a_reported_hazard_without_urgent_handling_is_flagged() -> None:
    c = contact(GREET, ("customer", "门口电线掉地上了，还在打火花", 5.0), ("bot", "已为您登记报修。", 9.0), BYE)
    f = findings(c)["safety_not_urgent"]
    assert f.severity == 3 and f.evidence[0].turn == 1 and highlighted(f) == ["电线掉", "打火"]


def test_a_negated_hazard_or_one_handled_as_urgent_is_clean() -> None:
    negated = contact(GREET, ("customer", "家里停电了，没冒烟也没打火", 5.0), BYE)
    assert "safety_not_urgent" not in findings(negated)
    handled = contact(
        GREET, ("customer", "电线冒烟了", 5.0), ("system", "urgent", 6.0), ("customer", "还在冒烟", 20.0), BYE
    )
    assert "safety_not_urgent" not in findings(handled)
    before = contact(GREET, ("system", "urgent", 2.0), ("customer", "电线冒烟了", 5.0), BYE)
    assert "safety_not_urgent" in findings(before)


# 12 agent slow reply
def test_an_agent_answering_a_chat_after_more_than_a_minute_is_flagged() -> None:
    c = agent_contact(("customer", "在吗？", 30.0), ("customer", "我家停电了", 40.0), ("agent", "您好，请讲", 100.0))
    assert [e.turn for e in findings(c)["agent_slow_reply"].evidence] == [5, 7]


def test_hold_time_quick_replies_and_calls_are_not_slow_replies() -> None:
    held = agent_contact(
        ("customer", "帮我查下", 30.0),
        ("system", "hold_start", 31.0),
        ("system", "hold_end", 120.0),
        ("agent", "查到了", 125.0),
    )
    quick = agent_contact(("customer", "在吗", 30.0), ("agent", "在的", 85.0))
    voice = agent_contact(("customer", "喂", 30.0), ("agent", "您请讲", 100.0), channel="voice")
    for c in (held, quick, voice):
        assert "agent_slow_reply" not in findings(c)
