"""A stored recording as timed text: Vosk over each channel of the WAV (left the caller, right the agent), with
word timestamps, merged into [{who, start, end, text}] in time order. Blocking: run it in a thread.

`read_wav` refuses what cannot be inspected with a reason a person can read (not a WAV, cut short, empty,
an encoding other than 16-bit PCM); the caller marks the recording not inspectable with it.
"""

from __future__ import annotations

import json
import os
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.asr import join_tokens, kaldi_input_rate, load_model
from voice.audio import resample

CHUNK_SECONDS = 0.5  # audio handed to Kaldi at a time (the real-time path uses 20 ms; a file needs no latency)
WHO = ("caller", "agent")  # channel 0, channel 1 of a dual-channel recording


class UnreadableAudio(ValueError):
    """The file cannot be inspected; the message says why, in Chinese, for the quality staff."""


@dataclass(frozen=True)
class Audio:
    rate: int
    channels: list[npt.NDArray[np.int16]]  # int16 samples, one array per channel

    @property
    def seconds(self) -> float:
        return len(self.channels[0]) / self.rate if self.channels else 0.0


def read_wav(path: Path) -> Audio:
    if not path.exists() or path.stat().st_size == 0:
        raise UnreadableAudio("录音文件为空")
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, rate, declared = w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes()
            data = w.readframes(declared)
    except (wave.Error, EOFError) as e:
        raise UnreadableAudio(f"录音文件损坏，不是可用的 WAV 文件（{e}）") from None
    if width != 2:
        raise UnreadableAudio(f"录音编码不支持（每个采样 {width} 字节，需要 16 位 PCM）")
    got = len(data) // (width * channels)
    if got < declared:
        raise UnreadableAudio(f"录音文件不完整：应有 {declared / rate:.1f} 秒，只有 {got / rate:.1f} 秒")
    if got == 0:
        raise UnreadableAudio("录音没有声音数据")
    samples = np.frombuffer(data[: got * width * channels], dtype="<i2").reshape(-1, channels)
    return Audio(rate, [samples[:, c].copy() for c in range(channels)])


class Transcriber:
    """Vosk with the gateway's model (P95598_VOSK_MODEL), loaded once per process and shared."""

    def __init__(self, model_path: str | os.PathLike[str]):
        self.model_path = str(model_path)
        self.rate = kaldi_input_rate(self.model_path)

    def transcribe(self, path: Path, who: tuple[str, ...] = WHO) -> list[dict[str, Any]]:
        audio = read_wav(path)
        lines: list[dict[str, Any]] = []
        for index, samples in enumerate(audio.channels):
            name = who[index] if index < len(who) else f"channel{index + 1}"
            lines += self.channel(samples, audio.rate, name)
        return sorted(lines, key=lambda line: (line["start"], line["end"]))

    def channel(self, samples: npt.NDArray[np.int16], rate: int, who: str) -> list[dict[str, Any]]:
        import vosk

        recognizer = vosk.KaldiRecognizer(load_model(self.model_path), self.rate)
        recognizer.SetWords(True)
        pcm = resample(samples, rate, self.rate) if rate != self.rate else samples
        step = int(self.rate * CHUNK_SECONDS)
        results = []
        for start in range(0, len(pcm), step):
            if recognizer.AcceptWaveform(np.asarray(pcm[start : start + step], dtype="<i2").tobytes()):
                results.append(json.loads(recognizer.Result()))
        results.append(json.loads(recognizer.FinalResult()))
        return [line for result in results if (line := _line(result, who)) is not None]


def _line(result: dict[str, Any], who: str) -> dict[str, Any] | None:
    words = [w for w in result.get("result", []) if w.get("word") != "[unk]"]
    text = join_tokens(result.get("text", ""))
    if not words or not text:
        return None
    return {
        "who": who,
        "start": round(float(words[0]["start"]), 2),
        "end": round(float(words[-1]["end"]), 2),
        "text": text,
    }
