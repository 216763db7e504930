"""The three-line case summary an agent reads first stays short whatever the customer pasted."""

from __future__ import annotations

from actions.case_context import summary


def test_a_long_detail_is_cut_short_in_the_summary_not_dumped_whole():
    pasted = "我家电表是不是坏了，" * 200
    text = summary("customer_request", "chat", None, [], {"details": pasted, "address": "城东区和平路12号"}, [])
    facts = text.splitlines()[-1]
    assert facts.startswith("已收集：") and "城东区和平路12号" in facts
    assert len(facts) < 120 and "…" in facts
