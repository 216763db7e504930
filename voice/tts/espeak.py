"""Fallback engine: espeak-ng's ``cmn-latn-pinyin`` voice fed pinyin with tone numbers (Debian espeak-ng).

espeak-ng's ``cmn`` voice reads Chinese characters through English rules (您好 → "nin two hao three"),
so the text is turned into pinyin with pypinyin first (您好 → ``nin2 hao3``), which that voice reads as
Mandarin. Fast (real-time factor ≈ 0.005) and always available, but robotic: for when Kokoro is not.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from .engine import ChunkedEngine, TtsUnavailable

_HAN = re.compile(r"[\u4E00-\u9FFF]")
_PUNCT = str.maketrans({"，": ",", "、": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ":"})


def to_pinyin(text: str) -> str:
    """``您好，九五五九八。`` → ``nin2 hao3 , jiu3 wu3 wu3 jiu3 ba1 .`` (neutral tone as 5)."""
    from pypinyin import Style, lazy_pinyin

    words = []
    for item in lazy_pinyin(
        text, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda chars: list(chars.translate(_PUNCT))
    ):
        item = item.strip()
        if item and not _HAN.search(item):
            words.append(item)
    return re.sub(r"\s+([,.!?;:])", r" \1", " ".join(words))


class EspeakEngine(ChunkedEngine):
    """espeak-ng, Mandarin from pinyin; 22.05 kHz output resampled like Kokoro's."""

    native_rate = 22050

    def __init__(self, speed: float = 1.0, sample_rate: int = 8000, binary: str = "espeak-ng"):
        super().__init__(sample_rate)
        self._binary = shutil.which(binary)
        if self._binary is None:
            raise TtsUnavailable(f"{binary} is not installed (Debian: apt-get install espeak-ng)")
        self.name, self.voice = "espeak-ng" + ("" if speed == 1 else f"-x{speed:g}"), "cmn-latn-pinyin"
        self._wpm = str(int(round(160 * speed)))

    def _render(self, text: str) -> np.ndarray:
        pinyin = to_pinyin(text)
        if not pinyin.strip(" ,.!?;:"):
            return np.zeros(0, np.float32)
        with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
            out = Path(tmp) / "out.wav"
            proc = subprocess.run(
                [self._binary, "-v", "cmn-latn-pinyin", "-s", self._wpm, "-w", str(out), "--", pinyin],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if proc.returncode != 0 or not out.exists():
                raise RuntimeError(f"espeak-ng failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
            with wave.open(str(out), "rb") as wav:
                self.native_rate = wav.getframerate()
                pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return pcm.astype(np.float32) / 32768.0
