"""The test conversation each catalog function carries (catalog/service_functions.yml `test`), over the real
stack in chat and as a call (the voice channel's wording and read-out), judged by the database afterwards:
exactly one work order of that function, from that channel, holding what the catalog expects."""

from __future__ import annotations

import re

import pytest

from knowledge.catalog import load_catalog
from tests.test_dialogue_quality import orders

CATALOG = load_catalog()
CASES = [(f.id, channel) for f in CATALOG.functions.values() if f.test and f.form for channel in ("chat", "voice")]
CHAT_ONLY_NOT = ("请说", "没听清", "按1", "按键")


@pytest.mark.parametrize("function_id, channel", CASES)
def test_the_catalog_conversation_files_exactly_one_correct_order(conversation, seeded_db_url, function_id, channel):
    test = CATALOG.functions[function_id].test or {}
    c = conversation(metadata={"channel": channel})
    replies = [c.say(text) for text in test["turns"]]
    said = "\n".join(f"customer: {t}\nbot: {r}" for t, r in zip(test["turns"], replies))
    filed = orders(seeded_db_url, c.sender)
    assert len(filed) == 1, said
    [order] = filed
    assert order.function_id == function_id and order.channel == channel and order.status != "withdrawn", said
    for key, pattern in test["order"].items():
        assert re.fullmatch(str(pattern), str(order.details.get(key))), f"{key}={order.details.get(key)!r}\n{said}"
    assert "核对" in replies[-2] and order.number[1:5] in replies[-1].replace(" ", ""), said  # read back, then filed
    if channel == "chat":
        assert order.number in replies[-1] and not any(w in said for w in CHAT_ONLY_NOT), said
    else:
        n = order.number  # read out group by group
        assert f"{n[0]} {n[1:5]} {n[5:9]} {n[9:]}" in replies[-1], said
