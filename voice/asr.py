"""Streaming speech recognition for a call: Twilio's μ-law 8 kHz in, partial and final transcripts out.

One Vosk model per process (`load_model`, loaded once and shared by every call); one `CallRecognizer` per
call, whose `feed_ulaw` runs Kaldi in a thread pool so no call blocks the event loop or another call.
An utterance ends by Vosk's own endpointing (trailing silence), by `silence_timeout` seconds of audio in
which a non-empty partial did not change, or at `max_utterance` seconds. `ScriptedRecognizer` has the same
interface and emits given transcripts: the Chinese call flows are tested with it. The gateway uses::

    config = from_env()                                  # P95598_VOSK_MODEL (and the rate Kaldi accepts)
    recognizer = CallRecognizer(load_model(config.model_path), config, phrases)
    for event in await recognizer.feed_ulaw(payload):    # each 20 ms media frame
        ...                                              # AsrEvent("partial" | "final", text)
    await recognizer.finish()                            # the call ended
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from voice.audio import SAMPLE_RATE, Resampler, ulaw_to_pcm16

if TYPE_CHECKING:  # vosk is imported when a model is loaded: DTMF-only and tests need none
    import vosk

log = logging.getLogger(__name__)

MODEL_ENV = "P95598_VOSK_MODEL"
UNKNOWN_WORD = "[unk]"

_models: dict[str, vosk.Model] = {}
_models_lock = threading.Lock()


def load_model(path: str | os.PathLike) -> vosk.Model:
    """The Vosk model in folder `path`, loaded on first use and then shared (thread-safe, once per process)."""
    import vosk

    key = str(Path(path).resolve())
    with _models_lock:
        model = _models.get(key)
        if model is None:
            if not (Path(key) / "am").is_dir() and not (Path(key) / "final.mdl").exists():
                raise FileNotFoundError(f"{key} is not a Vosk model folder (see voice/README.md)")
            vosk.SetLogLevel(-1)  # Kaldi warnings and errors only, not its per-load LOG lines
            model = _models[key] = vosk.Model(key)
            log.info("loaded Vosk model %s", key)
        return model


@dataclass(frozen=True)
class AsrConfig:
    """Recognition settings; times are seconds of call audio, not wall-clock time."""

    model_path: str
    sample_rate: int = SAMPLE_RATE  # rate given to Kaldi; 8 kHz μ-law is resampled to it if it differs
    silence_timeout: float = 1.2  # a non-empty partial unchanged this long ends the utterance
    max_utterance: float = 15.0  # an utterance is cut (final) after this long
    recycle_after: float = 60.0  # a fresh Kaldi recogniser at the first utterance end after this much audio

    def __post_init__(self):
        if not self.model_path:
            raise ValueError(f"no Vosk model folder: set {MODEL_ENV} (see voice/README.md)")
        if min(self.sample_rate, self.silence_timeout, self.max_utterance, self.recycle_after) <= 0:
            raise ValueError("sample rate and timeouts must be positive")


def from_env(env: dict | None = None) -> AsrConfig:
    """AsrConfig with the model folder from P95598_VOSK_MODEL (ValueError if it is not set)."""
    env = os.environ if env is None else env
    path = env.get(MODEL_ENV, "")
    return AsrConfig(model_path=path, sample_rate=kaldi_input_rate(path) if path else SAMPLE_RATE)


def kaldi_input_rate(model_path: str | os.PathLike) -> int:
    """The rate to hand Kaldi telephone audio at: 8000 when the model takes it (its features are 8 kHz, or
    conf/mfcc.conf says --allow-upsample=true, as Vosk's published models do), else the model's own rate
    (CallRecognizer then upsamples). Kaldi stops with an error on 8 kHz audio that it may not upsample."""
    options = {}
    for conf in (Path(model_path) / "conf" / "mfcc.conf", Path(model_path) / "mfcc.conf"):
        if conf.exists():
            for line in conf.read_text(encoding="utf-8").splitlines():
                name, _, value = line.strip().lstrip("-").partition("=")
                options[name] = value
            break
    rate = int(float(options.get("sample-frequency", 16000)))
    return SAMPLE_RATE if rate == SAMPLE_RATE or options.get("allow-upsample") == "true" else rate


@dataclass(frozen=True)
class AsrEvent:
    kind: Literal["partial", "final"]
    text: str


class TranscriptSource(Protocol):
    """What the gateway needs from a recogniser: `CallRecognizer` for real audio, `ScriptedRecognizer` in tests."""

    async def feed_ulaw(self, payload: bytes) -> list[AsrEvent]: ...

    async def finish(self) -> list[AsrEvent]: ...


def _is_cjk(char: str) -> bool:
    """Han ideographs and CJK/full-width punctuation: written without spaces between words."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x303F
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x2FFFF
    )


def join_tokens(text: str) -> str:
    """Vosk's space-separated words as written text: no space next to a Chinese character, no [unk]."""
    out = ""
    for token in text.split():
        if token == UNKNOWN_WORD:
            continue
        if out and not _is_cjk(out[-1]) and not _is_cjk(token[0]):
            out += " "
        out += token
    return out


def grammar_phrases(model: vosk.Model, phrases: Iterable[str]) -> list[str]:
    """The phrases Kaldi can use as a runtime grammar: every word must be in the model's vocabulary.

    A Chinese phrase that is not one vocabulary word is tried as its single characters. "[unk]" is added
    when the model knows it, so speech outside the list becomes "[unk]" instead of a forced phrase.
    """
    usable = []
    for phrase in phrases:
        words = phrase.split()
        if words and all(model.vosk_model_find_word(w) >= 0 for w in words):
            usable.append(" ".join(words))
            continue
        chars = list("".join(words))
        if chars and all(_is_cjk(c) for c in chars) and all(model.vosk_model_find_word(c) >= 0 for c in chars):
            usable.append(" ".join(chars))
    if usable and model.vosk_model_find_word(UNKNOWN_WORD) >= 0:
        usable.append(UNKNOWN_WORD)
    return usable


class CallRecognizer:
    """One call's recogniser. Feed it Twilio media payloads in order; it returns the events they produced.

    `phrases` (optional) restricts recognition to those phrases when the model has a runtime graph (small
    models); words missing from the vocabulary are dropped, and with none left recognition is free.
    `grammar` is what was passed to Kaldi (a large model without a runtime graph ignores it: free too).
    """

    def __init__(
        self, model: vosk.Model, config: AsrConfig, phrases: list[str] | None = None, executor: Executor | None = None
    ):
        self.config = config
        self._model = model
        self.grammar: list[str] | None = (grammar_phrases(model, phrases) or None) if phrases else None
        if phrases and self.grammar is None:
            log.warning("none of the %d phrases is in the model's vocabulary: free recognition", len(phrases))
        self._recognizer = self._new_recognizer()
        self._worn = False  # replace the recogniser before the next audio (see _final)
        self._recognizer_since = 0.0  # audio time the current Kaldi recogniser started
        self._executor = executor  # None: the event loop's default thread pool
        self._resampler = Resampler(SAMPLE_RATE, config.sample_rate) if config.sample_rate != SAMPLE_RATE else None
        self._lock = asyncio.Lock()  # one Kaldi call at a time, in arrival order
        self._closed = False
        self.audio_seconds = 0.0  # call audio fed so far
        self._partial = ""
        self._partial_since = 0.0  # audio time the current partial text appeared
        self._utterance_start: float | None = None

    def _new_recognizer(self) -> vosk.KaldiRecognizer:
        """A Kaldi recogniser with the phrase list, or a free one if the model refuses the list."""
        import vosk

        if self.grammar:
            try:
                return vosk.KaldiRecognizer(
                    self._model, self.config.sample_rate, json.dumps(self.grammar, ensure_ascii=False)
                )
            except Exception as exc:  # noqa: BLE001 - vosk raises a bare Exception when Kaldi refuses
                log.warning("the model refused the phrase list (%s): free recognition", exc)
                self.grammar = None
        return vosk.KaldiRecognizer(self._model, self.config.sample_rate)

    async def feed_ulaw(self, payload: bytes) -> list[AsrEvent]:
        """Recognise one μ-law payload (any length, 160 bytes per Twilio frame); returns partial/final events."""
        if not payload:
            return []
        async with self._lock:
            if self._closed:
                raise RuntimeError("feed_ulaw after finish")
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._feed, bytes(payload))

    async def finish(self) -> list[AsrEvent]:
        """End of the call's audio: the last utterance's final, if it had any words. Idempotent."""
        async with self._lock:
            if self._closed:
                return []
            self._closed = True
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._final, "FinalResult")

    def _feed(self, payload: bytes) -> list[AsrEvent]:
        """Runs in the thread pool: Kaldi, then the partial, the silence timeout and the length cap."""
        if self._worn:
            self._recognizer, self._worn = self._new_recognizer(), False
            self._recognizer_since = self.audio_seconds
        pcm = ulaw_to_pcm16(payload)
        if self._resampler is not None:
            pcm = self._resampler.process(pcm)
        self.audio_seconds += len(payload) / SAMPLE_RATE
        if self._recognizer.AcceptWaveform(pcm.tobytes()):
            return self._final("Result")
        text = join_tokens(json.loads(self._recognizer.PartialResult()).get("partial", ""))
        now = self.audio_seconds
        if not text:
            return []
        if self._utterance_start is None:
            self._utterance_start = now - len(payload) / SAMPLE_RATE
        events = []
        if text != self._partial:
            self._partial, self._partial_since = text, now
            events.append(AsrEvent("partial", text))
        settled = now - self._partial_since >= self.config.silence_timeout
        too_long = now - self._utterance_start >= self.config.max_utterance
        if settled or too_long:
            events += self._final("FinalResult")
        return events

    def _final(self, method: str) -> list[AsrEvent]:
        """Kaldi's Result() (its endpoint) or FinalResult() (forced); resets the utterance state.

        Once the Kaldi recogniser has decoded `recycle_after` seconds, the next feed replaces it (after the
        final has gone out): its decoder caches grow with use (+60 MB in a minute of speech). Not after
        every utterance: a fresh recogniser costs ≈ 70 ms and decodes ~1.6× slower while its caches refill.
        """
        text = join_tokens(json.loads(getattr(self._recognizer, method)()).get("text", ""))
        self._worn = self.audio_seconds - self._recognizer_since >= self.config.recycle_after
        self._partial, self._utterance_start = "", None
        return [AsrEvent("final", text)] if text else []


class ScriptedRecognizer:
    """A TranscriptSource for tests: emits given transcripts as finals instead of recognising audio.

    Each transcript of `transcripts` becomes a final once `seconds_per_utterance` of audio has been fed
    since the previous one (halfway, its first half is a partial); `inject(text)` makes the next
    `feed_ulaw` (or `finish`) return that final whatever the audio.
    """

    def __init__(self, transcripts: Iterable[str] = (), seconds_per_utterance: float = 1.0):
        self._script = deque(transcripts)
        self._injected: deque[str] = deque()
        self.seconds_per_utterance = seconds_per_utterance
        self.audio_seconds = 0.0
        self._utterance_audio = 0.0
        self._closed = False

    def inject(self, text: str) -> None:
        self._injected.append(text)

    async def feed_ulaw(self, payload: bytes) -> list[AsrEvent]:
        if self._closed:
            raise RuntimeError("feed_ulaw after finish")
        events = self._drain()
        seconds = len(payload) / SAMPLE_RATE
        self.audio_seconds += seconds
        if not self._script:
            return events
        before, self._utterance_audio = self._utterance_audio, self._utterance_audio + seconds
        half = self.seconds_per_utterance / 2
        text = self._script[0]
        if before < half <= self._utterance_audio and len(text) > 1:
            events.append(AsrEvent("partial", text[: len(text) // 2]))
        if self._utterance_audio >= self.seconds_per_utterance:
            events.append(AsrEvent("final", self._script.popleft()))
            self._utterance_audio = 0.0
        return events

    async def finish(self) -> list[AsrEvent]:
        self._closed = True
        return self._drain()

    def _drain(self) -> list[AsrEvent]:
        events = [AsrEvent("final", text) for text in self._injected]
        self._injected.clear()
        return events
