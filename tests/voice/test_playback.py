"""voice.playback: synthesis runs ahead of pacing, and recurring clauses are not synthesised twice."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np

from voice.playback import Speaker, Voice

REPLY = "好的，已经为您登记了报修，工单号是G26112800001，请保持电话畅通。"


class CountingEngine:
    """0.3 s of silence per clause, taking 0.1 s to 'synthesise'; remembers what it was asked and when."""

    def __init__(self):
        self.calls: list[tuple[str, float]] = []

    def stream(self, text: str):
        def gen():
            self.calls.append((text, time.monotonic()))
            time.sleep(0.1)
            yield np.zeros(2400, dtype=np.int16)

        return gen()


def test_recurring_clauses_are_synthesised_once_and_numbers_every_time():
    engine = CountingEngine()
    voice = Voice(engine)

    async def speak():
        return [c async for c in voice.chunks(REPLY)]

    first, second = asyncio.run(speak()), asyncio.run(speak())
    texts = [t for t, _ in engine.calls]
    assert np.concatenate(first).size == np.concatenate(second).size  # same audio, pauses included
    numbered = [t for t in texts if any(ch.isdigit() for ch in t)]
    assert numbered and texts.count(numbered[0]) == 2  # the order number is spoken live each time
    assert all(texts.count(t) == 1 for t in texts if t not in numbered)
    assert voice.hits >= 1


def test_next_clause_is_synthesised_while_the_previous_one_plays():
    engine = CountingEngine()
    sent: list[tuple[str, float]] = []

    async def send(msg: str):
        sent.append((json.loads(msg)["event"], time.monotonic()))

    async def play():
        speaker = Speaker(send, "MZ1", Voice(engine), lead_ms=100)
        speaker.play(REPLY)
        while speaker.busy or not sent or sent[-1][0] != "mark":
            await asyncio.sleep(0.05)

    asyncio.run(play())
    media = [t for event, t in sent if event == "media"]
    assert len(engine.calls) >= 2
    second_clause_started = engine.calls[1][1]
    first_clause_frames = 2400 // 160
    assert second_clause_started < media[first_clause_frames - 1]  # before the first clause finished sending
