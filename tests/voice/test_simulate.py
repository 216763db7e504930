"""`python -m voice.testing.simulate` against the real product (the `stack` fixture): a power cut reported by voice
gets a work order read back that is in the back end; a bill queried with keys only gets the bill's amount.

The voice caller answers as soon as the bot starts talking (--barge-in) so that call takes seconds, not minutes.
"""

from __future__ import annotations

import re

import pytest

from voice.testing import simulate


@pytest.fixture(autouse=True)
def no_vosk(monkeypatch):
    monkeypatch.delenv("P95598_VOSK_MODEL", raising=False)


def run(stack, seeded_db_url, *args: str, barge_in: bool = True) -> int:
    return simulate.main(
        [*args, "--rasa-url", stack.rasa_url, "--db-url", seeded_db_url] + (["--barge-in"] if barge_in else [])
    )


def test_power_cut_reported_by_voice_gets_a_work_order(stack, seeded_db_url, cis, capsys, tmp_path):
    wav = tmp_path / "call.wav"
    code = run(stack, seeded_db_url, "outage", "--caller", "+8613912340004", "--wav", str(wav))
    printed = capsys.readouterr().out
    assert code == 0, printed
    number = re.search(r"work order (G\d{11}) is in the back end", printed).group(1)
    order = cis.get_work_order(number)
    assert order.function_id == "fault_repair" and order.channel == "voice"
    assert order.details["contact_phone"] == "13912340004"
    assert "caller : 我家停电了" in printed and "first audio" in printed
    assert wav.stat().st_size > 8000 * 2 * 5  # more than 5 s of call audio


def test_bill_queried_with_keys_only(stack, seeded_db_url, cis, capsys):
    # keys pressed after each prompt ends, as most callers do (keys over a prompt: test_gateway)
    code = run(stack, seeded_db_url, "bill", "--keys", "--caller", "+8613700000002", barge_in=False)
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "caller : 2   [keys" in printed and "3 2 0 1 0 0 0 0 0 1 #" in printed
    said = re.search(r"(\d{4})年(\d{1,2})月的电费是(\d+\.\d{2})元", printed)
    bill = cis.get_bill("3201000001", f"{said.group(1)}-{int(said.group(2)):02d}")
    assert bill is not None and f"{bill.amount:.2f}" == said.group(3)


def test_no_rasa_is_a_setup_error(seeded_db_url, capsys):
    assert simulate.main(["bill", "--rasa-url", "http://127.0.0.1:9", "--db-url", seeded_db_url]) == 2
    assert "make run" in capsys.readouterr().err
