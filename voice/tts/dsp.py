"""Small numpy-only signal helpers for TTS output: silence trimming, band-limited resampling, int16.

``resample`` is a windowed-sinc (Kaiser) polyphase resampler for any rational ratio: the low-pass sits
at 91 % of the lower Nyquist frequency (3.64 kHz for 24 kHz → 8 kHz), so nothing above 4 kHz folds
back into the telephone band. It works on whole utterances (no state between calls).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


def trim_silence(
    audio: np.ndarray, rate: int, threshold: float = 0.01, lead: float = 0.03, tail: float = 0.08
) -> np.ndarray:
    """Cut leading/trailing samples below ``threshold`` (≈ −40 dBFS), keeping short pads."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    start = max(0, int(loud[0] - lead * rate))
    end = min(len(audio), int(loud[-1] + tail * rate) + 1)
    return audio[start:end]


@lru_cache(maxsize=8)
def _kernel(up: int, down: int, zeros: int, rolloff: float, beta: float) -> tuple[np.ndarray, int]:
    """Weights[phase, tap] for output phase ``p`` (position p/up past an input sample); each row sums to 1."""
    cutoff = 0.5 * min(1.0, up / down) * rolloff  # cycles per input sample
    half = math.ceil(zeros / (2 * cutoff))  # kernel half-width in input samples
    taps = np.arange(-half + 1, half + 1)  # input offsets relative to floor(position)
    dist = np.arange(up)[:, None] / up - taps[None, :]  # distance from each input sample
    window = np.i0(beta * np.sqrt(np.clip(1 - (dist / half) ** 2, 0, None))) / np.i0(beta)
    weights = 2 * cutoff * np.sinc(2 * cutoff * dist) * window
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.astype(np.float32), half


def resample(
    audio: np.ndarray, src: int, dst: int, zeros: int = 32, rolloff: float = 0.91, beta: float = 8.6, block: int = 4096
) -> np.ndarray:
    """Resample float ``audio`` from ``src`` Hz to ``dst`` Hz with an anti-aliasing low-pass."""
    audio = np.asarray(audio, dtype=np.float32)
    if src == dst or audio.size == 0:
        return audio.copy()
    g = math.gcd(src, dst)
    up, down = dst // g, src // g
    weights, half = _kernel(up, down, zeros, rolloff, beta)
    padded = np.concatenate([np.zeros(half, np.float32), audio, np.zeros(half + 1, np.float32)])
    n_out = (len(audio) * up) // down
    offsets = np.arange(-half + 1, half + 1) + half
    out = np.empty(n_out, np.float32)
    for start in range(0, n_out, block):
        pos = np.arange(start, min(start + block, n_out), dtype=np.int64) * down
        base, phase = pos // up, pos % up
        frames = padded[base[:, None] + offsets[None, :]]
        out[start : start + len(pos)] = np.einsum("ij,ij->i", frames, weights[phase])
    return out


def to_int16(audio: np.ndarray, ceiling: float = 0.97) -> np.ndarray:
    """Float [-1, 1] → int16; a chunk that would exceed ``ceiling`` is scaled down instead of clipped."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > ceiling:
        audio = audio * (ceiling / peak)
    return np.round(audio * 32767).astype(np.int16)


def silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), np.int16)
