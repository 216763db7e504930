"""The bot leg of a call: both directions of the Media Stream kept in one stereo WAV (left what the caller sent,
right what the bot played, on one timeline) and a Recording row whose transcript comes from the gateway's own
record. The caller's words are real speech (espeak-ng's Korean) recognised by real Vosk (the Korean model); the
bot's voice is a tone, so each channel can be told apart and measured."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import wave
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from twilio_fake import open_gateway

from backend.models_recordings import Recording, RecordingStatus
from voice.asr import AsrConfig, CallRecognizer, kaldi_input_rate, load_model
from voice.audio import SAMPLE_RATE, ulaw_to_pcm16
from voice.playback import Voice
from voice.recorder import CallRecorder
from voice.recording_transcript import bot_leg_transcript
from voice.testing.recording_audio import speech_ulaw
from voice.twiml import media

REPLY = "好的，马上帮您报修。"
CALLER = "+8613912340001"


class ToneEngine:
    """The bot speaks a 440 Hz tone, 10 ms per character."""

    def stream(self, text: str) -> Iterator[np.ndarray]:
        t = np.arange(80 * len(text)) / SAMPLE_RATE
        return iter([(8000 * np.sin(2 * math.pi * 440 * t)).astype(np.int16)])


class ScriptedRasa:
    def __init__(self) -> None:
        self.received: list[str] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        return app

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body["message"])
        return web.json_response([{"recipient_id": body["sender"], "text": REPLY}])


def loud(channel: np.ndarray) -> np.ndarray:
    """Which 20 ms frames of a channel are louder than -40 dBFS."""
    frames = channel[: len(channel) // 160 * 160].reshape(-1, 160).astype(np.float64)
    return np.sqrt((frames**2).mean(axis=1)) > 32768 * 10 ** (-40 / 20)


def test_a_call_is_kept_as_a_stereo_wav_with_both_directions_and_a_timed_transcript(cis, store, model):
    rasa = ScriptedRasa()
    recognizers: list[CallRecognizer] = []

    def recognizer() -> CallRecognizer:
        recognizers.append(CallRecognizer(load_model(model), AsrConfig(str(model), kaldi_input_rate(model))))
        return recognizers[-1]

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        server = TestServer(rasa.app())
        await server.start_server()
        try:
            async with open_gateway(
                cis,
                str(server.make_url("")).rstrip("/"),
                Voice(ToneEngine()),
                recognizer_factory=recognizer,
                recordings=store,
            ) as h:
                async with h.dial(CALLER, call_sid="CA" + "7" * 32, record_audio=True) as tw:
                    await tw.wait_marks(1)  # the greeting was heard to its end
                    await tw.play(speech_ulaw("안녕하세요. 전기가 나갔어요."))
                    await tw.wait_marks(2, timeout=60)  # Vosk's final went to the bot, whose answer was played
                    await asyncio.sleep(0.3)
                    sent = [frame for _, frame in tw.sent]
                    played = list(_payloads(tw))
        finally:
            await server.close()
        return sent, played

    sent, played = asyncio.run(asyncio.wait_for(scenario(), 180))
    with store.sessions() as s:
        (row,) = s.scalars(select(Recording))
    assert row.leg == "bot" and row.call_sid == "CA" + "7" * 32 and row.conversation_id == "voice:13912340001"
    assert row.status == RecordingStatus.TRANSCRIBED and row.channels == 2
    assert row.expires_at - row.created_at == dt.timedelta(days=180)
    with wave.open(str(store.directory / (row.path or "")), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, SAMPLE_RATE)
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert row.duration_seconds == pytest.approx(len(samples) / SAMPLE_RATE, abs=0.01)
    caller_sent = ulaw_to_pcm16(b"".join(sent))
    left, right = samples[:, 0], samples[:, 1]
    # left: exactly what the caller sent, in order; right: all the bot's audio, none lost or doubled
    assert np.array_equal(left[: min(len(left), len(caller_sent))], caller_sent[: len(left)])
    bot_audio = ulaw_to_pcm16(b"".join(played)).astype(np.int64)
    assert int((right.astype(np.int64) ** 2).sum()) == int((bot_audio**2).sum()) > 0
    # on one timeline: greeting (right), then the caller (left), then the reply (right)
    left_loud, right_loud = np.flatnonzero(loud(left)), np.flatnonzero(loud(right))
    assert right_loud[0] < left_loud[0] < left_loud[-1] < right_loud[-1]

    said = rasa.received
    assert len(said) == 1 and said[0]  # Vosk's words reached the bot once
    transcript = row.transcript
    assert [line["who"] for line in transcript] == ["bot", "caller", "bot"], transcript
    greeting, caller, reply = transcript
    assert greeting["start"] == pytest.approx(right_loud[0] * 0.02, abs=0.1)
    assert caller["text"] == said[0] and caller["start"] == pytest.approx(left_loud[0] * 0.02, abs=0.2)
    assert caller["start"] < caller["end"] <= reply["start"]
    assert reply["text"] == REPLY and reply["end"] == pytest.approx((right_loud[-1] + 1) * 0.02, abs=0.1)


def _payloads(tw: Any) -> Iterator[bytes]:
    import base64

    for event in tw.events("media"):
        yield base64.b64decode(event.msg["media"]["payload"])


def test_barge_in_drops_what_twilio_had_buffered_and_the_cut_prompt_keeps_its_text(tmp_path):
    recorder = CallRecorder(tmp_path / "call.wav", {"prompt-1": "第一句"}.get)
    tone = b"\x10" * 160  # a loud μ-law frame
    for _ in range(10):  # 200 ms of the call
        recorder.inbound(b"\xff" * 160)
    for _ in range(20):  # 400 ms of prompt sent at once: Twilio buffers it
        recorder.outbound(media("MZ1", tone))
    recorder.inbound(b"\xff" * 160 * 5)  # 100 ms later the caller barges in
    recorder.outbound('{"event": "clear", "streamSid": "MZ1"}')
    recorder.inbound(b"\xff" * 160 * 10)
    recorder.outbound("not json")  # garbage is skipped, not a crash
    recorder.outbound('{"event": "media", "media": {"payload": "%%%"}}')
    duration = recorder.close()
    with wave.open(str(tmp_path / "call.wav"), "rb") as w:
        right = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)[:, 1]
    assert duration == pytest.approx(0.5)
    assert np.count_nonzero(right) == 5 * 160  # only what played before the clear
    (prompt,) = recorder.prompts
    assert (prompt.start, prompt.end, prompt.cut) == (0.2, 0.3, True)
    events = [("bot", "您好，请问有什么可以帮您？", 0.0), ("caller", "停电了", 100.45)]
    lines = bot_leg_transcript(events, lambda t: round(t - 100.0, 2), [(0.3, 0.35), (0.38, 0.42)], recorder.prompts)
    assert lines == [
        {"who": "bot", "start": 0.2, "end": 0.3, "text": "您好，请问有什么可以帮您？", "cut": True},
        {"who": "caller", "start": 0.3, "end": 0.45, "text": "停电了"},
    ]


def test_notes_are_placed_by_the_calls_clock_when_the_gateway_falls_behind(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from voice import recorder as recorder_module

    now = [1000.0]
    monkeypatch.setattr(recorder_module, "time", SimpleNamespace(time=lambda: now[0]))
    recorder = CallRecorder(tmp_path / "call.wav")
    for i in range(50):  # one second on time
        now[0] = 1000.0 + i * 0.02
        recorder.inbound(b"\xff" * 160)
    now[0] = 1002.5  # a stall of 1.5 s, then the next second of frames taken at once
    for _ in range(50):
        recorder.inbound(b"\xff" * 160)
    assert recorder.call_time(999.0) == 0.0
    assert recorder.call_time(1000.5) == 0.5
    assert recorder.call_time(1002.0) == 1.0  # during the stall the call did not move on
    assert recorder.call_time(1002.6) == 2.0  # after the burst: two seconds of call, not 2.6
    assert recorder.close() == 2.0
