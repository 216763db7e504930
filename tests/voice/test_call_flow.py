"""Whole Chinese phone calls against the real product: Rasa + action server + knowledge service on free
ports over the seeded SQLite (the `stack` fixture), the gateway in front, real TTS (Kokoro when its model
folder is there, else espeak-ng). Only Twilio's edge is played by the test, and the caller's words are
injected at the ASR boundary (ScriptedRecognizer), as a recogniser would deliver them.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
from pathlib import Path

import pytest

from voice import prompts
from voice.config import VoiceConfig
from voice.playback import Voice
from voice.testing.fake_twilio import open_gateway

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # as tests/conftest.py
ORDER = re.compile(r"G(\d{11})")
LATENCIES: list[dict] = []


@pytest.fixture(scope="module")
def real_voice():
    """The gateway's own voice: the TTS engine, its prompt cache (on disk, as in production) rendered
    ahead for the fixed prompts and the bot's fixed responses, and the number clips — the first run pays
    for that once."""
    from voice.gateway import _default_voice

    voice = _default_voice(VoiceConfig.from_env(auth_token="unused"))
    voice.warm()
    return voice


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 600))


async def bot_answered(tw, record, turns: int, timeout: float = 120) -> str:
    """Waits for the bot's answer to the `turns`-th input to start playing; returns what it said."""
    await tw.wait_for(
        lambda: len(record.turns) >= turns and record.turns[turns - 1].first_audio_ms is not None, timeout
    )
    return "".join(record.turns[turns - 1].bot)


async def say(h, tw, record, text: str, timeout: float = 120) -> str:
    """The caller says `text` (talking over whatever is playing); returns the bot's spoken answer."""
    h.recognizers[-1].inject(text)
    return await bot_answered(tw, record, len(record.turns) + 1, timeout)


def keep(name: str, record, voice: Voice) -> None:
    for t in record.turns:
        LATENCIES.append(
            {
                "call": name,
                "input": t.user,
                "source": t.source,
                "rasa_ms": round(t.rasa_ms),
                "first_audio_ms": round(t.first_audio_ms) if t.first_audio_ms else None,
                "reply_from_prompt_cache": bool(t.bot) and voice.cached(t.bot[0]),
                "tts": voice.engine.name,
            }
        )


def test_known_caller_hears_the_outage_first_then_reports_a_fault(stack, cis, real_voice):
    async def scenario():
        async with open_gateway(cis, stack.rasa_url, real_voice) as h:
            async with h.call(caller="+8613912340001", call_sid="CAflow0001") as tw:
                await tw.wait_for(lambda: tw.events("media"), 120)  # the greeting is playing
                record = h.session("CAflow0001").record
                greeting = record.said()[0]
                assert greeting.startswith("王建国您好") and "城东区一网格" in greeting
                assert greeting.index("故障停电") < greeting.index("报修") and "恢复供电" in greeting
                await tw.wait_for(lambda: "城东区一网格" in real_voice.clips.phrases, 60)  # the notice's name: a clip
                same = await say(h, tw, record, "我家停电了")  # told already: the same outage, not a new order
                assert "恢复供电" in same and "地址" not in same
                assert "地址" in await say(h, tw, record, "邻居家都有电 就我家没电 帮我报修一下")  # a different case
                readback = await say(h, tw, record, "城东区和平路12号3单元501室")  # phone: the calling number
                assert "核对" in readback
                done = await say(h, tw, record, "对")
                number = "G" + ORDER.search(done).group(1)
                order = cis.get_work_order(number)
                assert order is not None and order.function_id == "fault_repair" and order.channel == "voice"
                assert order.details["contact_phone"] == "13912340001"
                assert order.details["address"] == "城东区和平路12号3单元501室"
                from voice.tts import normalize
                from voice.tts.say import group_digits

                assert group_digits(number[1:]) in normalize(done)  # read back digit by digit
                marks = len(tw.events("mark"))
                await tw.wait_marks(marks + 1, 180)  # …and played to its end
                assert record.said()[-1] == done
                keep("fault repair", record, real_voice)

    run(scenario())


def test_dtmf_bill_query_with_keys_and_speech_mixed(stack, cis, real_voice):
    async def scenario():
        async with open_gateway(cis, stack.rasa_url, real_voice, inter_digit_seconds=3.0) as h:
            async with h.call(caller="+8613800138000", call_sid="CAflow0002") as tw:
                await tw.wait_for(lambda: tw.events("media"), 120)
                record = h.session("CAflow0002").record
                assert record.said()[0].startswith(prompts.WELCOME) and "按2" in record.said()[0]
                await tw.press("2")
                assert "户号" in await bot_answered(tw, record, 1)
                await tw.press("3201000001#")  # 10 digits (the # after them is harmless)
                assert "后四位" in await bot_answered(tw, record, 2)
                assert record.turns[1].user == "3201000001" and record.turns[1].source == "dtmf"
                await tw.press("0001")
                assert "哪个月" in await bot_answered(tw, record, 3)
                answer = await say(h, tw, record, "上个月")
                bill = cis.get_bill("3201000001")
                assert f"{bill.amount:.2f}元" in answer
                keep("bill query (DTMF)", record, real_voice)

    run(scenario())


def test_hang_up_mid_form_and_call_back_resumes(stack, cis, real_voice):
    async def scenario():
        async with open_gateway(cis, stack.rasa_url, real_voice) as h:
            async with h.call(caller="+8613912340003", call_sid="CAflow0003") as tw:
                await tw.wait_for(lambda: tw.events("media"), 120)
                record = h.session("CAflow0003").record
                question = await say(h, tw, record, "家里跳闸了推不上去")
                assert "地址" in question
            # the caller hung up (stop + close); the Rasa conversation is kept under voice:<number>
            async with h.call(caller="+8613912340003", call_sid="CAflow0004") as tw:
                await tw.wait_for(lambda: tw.events("media"), 120)
                record = h.session("CAflow0004").record
                assert prompts.RESUME in record.said()[0] and question.split("。")[-2] in record.said()[0]
                assert "核对" in await say(h, tw, record, "城南区中山路8号5栋2单元201室")
                keep("resumed call", record, real_voice)

    run(scenario())


def test_menu_keys_say_what_the_bot_understands(stack):
    import requests

    from voice.dtmf import MENU

    for key, (function_id, text) in MENU.items():
        parse = requests.post(stack.api("/model/parse"), json={"text": text}, timeout=30).json()
        assert parse["intent"]["name"] == function_id, (key, text, parse["intent"])


def test_zz_write_latencies():
    """Turn latency from the end of the caller's input to the first audio frame sent back (artifact)."""
    if not LATENCIES:
        pytest.skip("no call ran")
    first = [t["first_audio_ms"] for t in LATENCIES if t["first_audio_ms"] is not None]
    rasa = [t["rasa_ms"] for t in LATENCIES]
    summary = {
        "turns": LATENCIES,
        "first_audio_ms_median": statistics.median(first),
        "first_audio_ms_max": max(first),
        "rasa_ms_median": statistics.median(rasa),
    }
    (ARTIFACTS / "voice_turn_latency.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
