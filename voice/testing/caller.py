"""The simulated caller of `python -m voice.testing.simulate`: talks and presses keys on a FakeTwilioCall, follows
what the gateway says, times every turn, and writes the whole call to a WAV file.

The caller hears the bot through the media stream (each frame plays when it arrives, or after the one
before it, as Twilio plays them; `clear` drops what was not played yet); what the bot *said* as text is
read from the gateway's call record, which the simulator can see because it runs the gateway in-process.
"""

from __future__ import annotations

import asyncio
import base64
import wave
from dataclasses import dataclass, field

import numpy as np

from voice.audio import pcm16_to_ulaw, ulaw_to_pcm16
from voice.testing.fake_twilio import FakeTwilioCall, tone

RATE = 8000


@dataclass
class TurnTiming:
    caller: str  # what the caller said or pressed
    how: str  # "speech" | "keys"
    input_s: float  # how long the caller took to say / key it
    recognised: str | None = None  # what the gateway sent to the bot
    bot: str = ""
    rasa_ms: float | None = None  # the gateway's request to Rasa
    first_audio_ms: float | None = None  # gateway: end of input (final transcript, last key) → first frame sent
    heard_ms: float | None = None  # caller: last frame of speech / last key sent → first bot frame received


@dataclass
class SimCaller:
    """One caller on one call. `voice`: a TTS engine for the caller's own lines (None: a tone as long as
    the line would take); `inject`: the ASR boundary (ScriptedRecognizer.inject), None when a real
    recogniser listens; `patient`: wait for the bot to finish before answering (else talk over it)."""

    tw: FakeTwilioCall
    session: object  # voice.call.CallSession
    voice: object | None = None
    inject: object | None = None
    patient: bool = True
    key_gap: float = 0.15
    timings: list[TurnTiming] = field(default_factory=list)

    @property
    def record(self):
        return self.session.record

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    # --- listening -------------------------------------------------------------------------------------
    async def greeting(self, timeout: float = 120) -> str:
        await self.tw.wait_for(lambda: self.tw.events("media") and self.record.said(), timeout)
        if self.patient:
            await self.until_quiet()
        return self.record.said()[0]

    async def until_quiet(self, timeout: float = 300, pause: float = 0.3) -> None:
        """The bot has finished speaking and Twilio has played it out (then a short human pause)."""
        await self.tw.wait_for(lambda: not self.session.speaker.busy and self._now() > self.playing_until(), timeout)
        await asyncio.sleep(pause)

    def playing_until(self) -> float:
        end = 0.0
        for r in self.tw.received:
            if r.msg["event"] == "media":
                end = max(end, r.at) + 0.02
            elif r.msg["event"] == "clear":
                end = min(end, r.at)
        return end

    # --- talking ---------------------------------------------------------------------------------------
    async def say(self, text: str, timeout: float = 120) -> TurnTiming:
        audio = await asyncio.to_thread(self._render, text)
        timing = TurnTiming(text, "speech", len(audio) / RATE)
        n = len(self.record.turns)
        await self.tw.play(audio)
        ended = self._now()
        if self.inject is not None:
            self.inject(text)  # the recogniser's final, at the end of the utterance
        return await self._answer(timing, n, ended, timeout)

    async def press(self, keys: str, timeout: float = 120) -> TurnTiming:
        timing = TurnTiming(" ".join(keys), "keys", len(keys) * self.key_gap)
        n = len(self.record.turns)
        ended = None
        for key in keys:  # the input ends at the key that completes it ("#" after a whole 户号 is extra)
            sent = self._now()
            await self.tw.press(key, gap=self.key_gap)
            if ended is None and len(self.record.turns) > n:
                ended = sent
        return await self._answer(timing, n, ended or sent, timeout)

    def _render(self, text: str) -> bytes:
        if self.voice is None:
            return tone(0.25 * len(text))
        from voice.tts import normalize

        pcm = self.voice.synthesize(normalize(text))
        return pcm16_to_ulaw(np.asarray(pcm, dtype=np.int16))

    async def _answer(self, timing: TurnTiming, n: int, ended: float, timeout: float) -> TurnTiming:
        """Waits for the gateway's turn n+1 to be answered (first audio, or an empty answer)."""

        def answered() -> bool:
            if len(self.record.turns) <= n:
                return False
            turn = self.record.turns[n]  # answered, or left unanswered for a later input (n + 1)
            return (
                turn.first_audio_ms is not None
                or (turn.rasa_ms is not None and not turn.bot)
                or len(self.record.turns) > n + 1
            )

        await self.tw.wait_for(answered, timeout)
        turn = self.record.turns[n]
        timing.recognised, timing.bot = turn.user, "".join(turn.bot)
        timing.rasa_ms, timing.first_audio_ms = turn.rasa_ms, turn.first_audio_ms
        first = lambda: next((r.at for r in self.tw.events("media") if r.at > ended), None)
        if turn.bot:  # sent by now: give it the time to arrive
            await self.tw.wait_for(lambda: first() is not None, 5)
        first = first()
        timing.heard_ms = (first - ended) * 1000 if first is not None else None
        if self.patient:
            await self.until_quiet()
        self.timings.append(timing)
        return timing


def call_audio(tw: FakeTwilioCall) -> np.ndarray:
    """Both directions of the call mixed into one int16 track at 8 kHz: the caller's frames when they were
    sent, the bot's as Twilio would have played them (in order, none before it arrived, cut by `clear`)."""
    if not tw.sent:
        return np.zeros(0, dtype=np.int16)
    t0 = tw.sent[0][0]
    placed: list[tuple[int, bytes]] = []
    cursor = 0.0
    for r in tw.received:
        kind = r.msg["event"]
        if kind == "media":
            start = max(r.at - t0, cursor)
            placed.append((int(start * RATE), base64.b64decode(r.msg["media"]["payload"])))
            cursor = start + 0.02
        elif kind == "clear":
            cut = int((r.at - t0) * RATE)
            placed = [(at, ulaw) for at, ulaw in placed if at < cut]
            cursor = min(cursor, r.at - t0)
    ends = [int((at - t0) * RATE) + len(ulaw) for at, ulaw in tw.sent] + [at + len(u) for at, u in placed]
    mix = np.zeros(max(ends), dtype=np.int32)
    for at, ulaw in tw.sent:
        i = int((at - t0) * RATE)
        mix[i : i + len(ulaw)] += ulaw_to_pcm16(ulaw)
    for i, ulaw in placed:
        mix[i : i + len(ulaw)] += ulaw_to_pcm16(ulaw)
    return np.clip(mix, -32768, 32767).astype(np.int16)


def write_wav(path: str, pcm: np.ndarray) -> None:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.astype("<i2").tobytes())
