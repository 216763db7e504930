"""A simulated phone call (`python -m voice.testing.simulate`, through the real gateway, TTS and the `stack` fixture)
for each catalog function whose test has a `call`: the caller answers the bot's spoken questions as the
catalog says, and the work order read out is in the back end, filed by voice for that function."""

from __future__ import annotations

import re

import pytest

from knowledge.catalog import Function, load_catalog
from voice.testing import simulate
from voice.testing.scenarios import SCENARIOS, Scenario, Step

CALLS = [f for f in load_catalog().functions.values() if f.test and f.test.get("call")]
CALLER = "+8613912340008"


@pytest.fixture(autouse=True)
def no_vosk(monkeypatch):
    monkeypatch.delenv("P95598_VOSK_MODEL", raising=False)


def scenario(function: Function) -> Scenario:
    def check(match, cis):
        order = cis.get_work_order("G" + match.group(1))
        ok = order is not None and order.function_id == function.id and order.channel == "voice"
        return f"work order G{match.group(1)} is in the back end: {order.function_id if order else None}", ok

    test = function.test or {}
    steps = tuple(Step((words,), answer) for words, answer in test["call"].items())
    return Scenario(
        function.name,
        CALLER,
        opening=Step((), test["turns"][0]),
        steps=steps,
        done=re.compile(r"G ?(\d{11})"),
        check=check,
    )


@pytest.mark.parametrize("function", CALLS, ids=lambda f: f.id)
def test_the_catalog_call_files_the_order_by_voice(function, stack, seeded_db_url, capsys, monkeypatch):
    monkeypatch.setitem(SCENARIOS, function.id, scenario(function))
    code = simulate.main([function.id, "--rasa-url", stack.rasa_url, "--db-url", seeded_db_url, "--barge-in"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"is in the back end: {function.id}" in printed and "first audio" in printed
