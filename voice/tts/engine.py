"""Text-to-speech engines for the hotline: a small protocol and Kokoro-82M (the default; voice.tts.factory picks).

Every engine takes raw reply text (``say.normalize`` runs inside) and returns int16 mono PCM at
``sample_rate`` (8000 Hz for the phone). ``stream`` yields one clause or sentence at a time, each with
its pause appended, so the first audio can leave while the rest of the reply is being synthesised; the
first piece is cut short (first comma after six characters) for that reason.

    engine = voice.tts.make_engine(TtsConfig.from_env())   # Kokoro when its model folder exists, else espeak-ng
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from . import dsp
from .say import normalize

ENGINES = ("auto", "kokoro", "espeak")


class TtsUnavailable(RuntimeError):
    """No usable TTS engine (model folder missing, binary missing, bad configuration)."""


@runtime_checkable
class TtsEngine(Protocol):
    name: str  # engine and model, e.g. "kokoro-v1.0-int8"
    voice: str  # speaker, e.g. "zf_xiaoxiao"
    sample_rate: int  # of the audio returned (8000 for the phone)

    def synthesize(self, text: str) -> np.ndarray: ...  # int16 mono, whole reply

    def stream(self, text: str) -> Iterator[np.ndarray]: ...  # int16 mono, clause by clause


class Piece(NamedTuple):
    text: str
    pause: float  # seconds of silence after it


_SENTENCE = re.compile(r"(?<=[。！？；!?;\n])")
_CLAUSE = re.compile(r"(?<=[，,：:])")


def split_text(
    text: str, max_chars: int = 30, first_min: int = 6, sentence_pause: float = 0.35, clause_pause: float = 0.15
) -> list[Piece]:
    """Split normalised text into pieces of ≤ ``max_chars`` at punctuation, sentences never merged.

    The first piece ends at the first comma after ``first_min`` characters, so a stream's first
    chunk is short and leaves early; at a real-time factor ≤ 0.5 each later piece (≤ ``max_chars``)
    is ready before the previous one has finished playing.
    """
    pieces: list[Piece] = []
    for sentence in filter(str.strip, _SENTENCE.split(text)):
        clauses = [c for c in _CLAUSE.split(sentence.strip()) if c.strip()]
        current = ""
        for i, clause in enumerate(clauses):
            while len(clause) > max_chars:  # no punctuation to break at: hard cut
                if current:
                    pieces.append(Piece(current, clause_pause))
                    current = ""
                pieces.append(Piece(clause[:max_chars], clause_pause))
                clause = clause[max_chars:]
            if current and len(current) + len(clause) > max_chars:
                pieces.append(Piece(current, clause_pause))
                current = ""
            current += clause
            if not pieces and len(current) >= first_min and i < len(clauses) - 1:
                pieces.append(Piece(current, clause_pause))
                current = ""
        if current:
            pieces.append(Piece(current, sentence_pause))
    return pieces


class ChunkedEngine:
    """Shared machinery: normalise, split, render each piece at the native rate, trim, resample, int16."""

    name = "base"
    voice = ""
    native_rate = 24000

    def __init__(self, sample_rate: int = 8000):
        self.sample_rate = sample_rate

    def _render(self, text: str) -> np.ndarray:
        """Float32 audio at ``native_rate`` for one piece of normalised text."""
        raise NotImplementedError

    def stream(self, text: str) -> Iterator[np.ndarray]:
        pieces = split_text(normalize(text))
        for i, piece in enumerate(pieces):
            audio = dsp.trim_silence(self._render(piece.text), self.native_rate)
            pcm = dsp.to_int16(dsp.resample(audio, self.native_rate, self.sample_rate))
            if i < len(pieces) - 1:
                pcm = np.concatenate([pcm, dsp.silence(piece.pause, self.sample_rate)])
            if pcm.size:
                yield pcm

    def synthesize(self, text: str) -> np.ndarray:
        chunks = list(self.stream(text))
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


class KokoroEngine(ChunkedEngine):
    """Kokoro-82M v1.0 int8 ONNX with a Mandarin voice; see ``voice.tts.assemble`` for the folder."""

    MAX_TOKENS = 510

    def __init__(
        self,
        model_dir: str | os.PathLike,
        voice: str = "zf_xiaoxiao",
        speed: float = 1.0,
        threads: int = 2,
        sample_rate: int = 8000,
        sandhi: bool = True,
        warm_up: bool = True,
    ):
        super().__init__(sample_rate)
        import onnxruntime as ort

        from .g2p import MandarinG2P

        folder = Path(model_dir)
        model, vocab, style = (
            folder / "kokoro-v1.0.int8.onnx",
            folder / "vocab.json",
            folder / "voices" / f"{voice}.bin",
        )
        for path in (model, vocab, style):
            if not path.is_file():
                raise TtsUnavailable(f"Kokoro: {path} is missing (python -m voice.tts.assemble {folder})")
        self.voice, self.speed, self._sandhi = voice, float(speed), sandhi
        self.name = self._name()
        self._vocab: dict[str, int] = json.loads(vocab.read_text(encoding="utf-8"))["vocab"]
        self._style = np.fromfile(style, dtype="<f4").reshape(-1, 256)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        # Idle threads sleep instead of spinning: on a box shared with Rasa and ASR, spinning burns
        # ~50 % more CPU per second of speech for no gain in latency.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])
        self._g2p = MandarinG2P(sandhi=sandhi)
        if warm_up:  # the first run of a session is several times slower; pay it at start-up
            self._render("您好。")

    def _name(self) -> str:
        """Covers every setting that changes the audio (prompt cache keys depend on it)."""
        return (
            "kokoro-v1.0-int8" + ("" if self.speed == 1 else f"-x{self.speed:g}") + ("" if self._sandhi else "-legacy")
        )

    def with_speed(self, speed: float) -> KokoroEngine:
        """The same session, voice and G2P at another speed (number clips are read a little faster)."""
        clone = copy.copy(self)
        clone.speed = float(speed)
        clone.name = clone._name()
        return clone

    def phonemes(self, text: str) -> str:
        """The phoneme string the model reads for already normalised ``text`` (for tests and debugging)."""
        return self._g2p(text)

    def _render(self, text: str) -> np.ndarray:
        ids = [self._vocab[c] for c in self.phonemes(text) if c in self._vocab]
        parts = [self._infer(batch) for batch in _batches(ids, self.MAX_TOKENS, self._vocab)]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def _infer(self, ids: list[int]) -> np.ndarray:
        style = self._style[min(len(ids), len(self._style)) - 1][None, :]
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                "style": style.astype(np.float32),
                "speed": np.array([self.speed], dtype=np.float32),
            },
        )[0]
        return np.asarray(audio, dtype=np.float32).ravel()


def _batches(ids: list[int], limit: int, vocab: dict[str, int]) -> Iterator[list[int]]:
    """Cut a token list longer than ``limit`` after the last pause or space before the limit."""
    breaks = {vocab[c] for c in ",.;:!? " if c in vocab}
    while len(ids) > limit:
        cut = max((i + 1 for i in range(limit) if ids[i] in breaks), default=limit)
        yield ids[:cut]
        ids = ids[cut:]
    if ids:
        yield ids


@dataclass(frozen=True)
class TtsConfig:
    engine: str = "auto"  # auto | kokoro | espeak
    model_dir: str | None = None  # Kokoro folder; None = assemble.default_model_dir()
    voice: str = "zf_xiaoxiao"  # Kokoro voice (zf_* female, zm_* male)
    speed: float = 1.0
    threads: int = 2  # onnxruntime intra-op threads
    sample_rate: int = 8000

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise TtsUnavailable(f"P95598_TTS_ENGINE must be one of {ENGINES}, got {self.engine!r}")
        if not 0.5 <= self.speed <= 2.0:
            raise TtsUnavailable(f"TTS speed must be between 0.5 and 2.0, got {self.speed}")
        if self.threads < 1 or self.sample_rate < 8000:
            raise TtsUnavailable("TTS threads must be ≥ 1 and sample rate ≥ 8000")

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> TtsConfig:
        env = os.environ if env is None else env
        values = dict(
            engine=env.get("P95598_TTS_ENGINE", "auto"),
            model_dir=env.get("P95598_TTS_MODEL") or None,
            voice=env.get("P95598_TTS_VOICE", "zf_xiaoxiao"),
            speed=float(env.get("P95598_TTS_SPEED", "1.0")),
            threads=int(env.get("P95598_TTS_THREADS", "2")),
        )
        values.update(overrides)
        return cls(**values)

    def kokoro_dir(self) -> Path:
        from .assemble import default_model_dir

        return Path(self.model_dir).expanduser() if self.model_dir else default_model_dir()
