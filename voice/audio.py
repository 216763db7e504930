"""Telephone audio with numpy only: G.711 μ-law, resampling, 20 ms frames, levels and a barge-in detector.

Twilio Media Streams carry μ-law 8 kHz mono. `ulaw_to_pcm16` / `pcm16_to_ulaw` are table lookups that give
the same codes and samples as the standard library's deprecated `audioop` (gone in Python 3.13).
`Resampler` is a stateful polyphase windowed-sinc FIR for one direction of one call (8k↔16k, 24k→8k …);
`resample` is its one-shot form. `VoiceActivity` says "speech" after a few consecutive loud 20 ms frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import gcd

import numpy as np

SAMPLE_RATE = 8000  # Twilio's μ-law rate
FRAME_BYTES = 160  # 20 ms of μ-law at 8 kHz
ULAW_SILENCE = 0xFF  # μ-law code of a zero sample
SILENCE_DBFS = -100.0  # what rms_dbfs reports for digital silence


def _decode_table() -> np.ndarray:
    """The 256 linear samples of the μ-law codes (G.711, as audioop.ulaw2lin)."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def _encode_table() -> np.ndarray:
    """The μ-law code of every int16 sample, indexed by the sample's uint16 bit pattern (as audioop.lin2ulaw)."""
    pcm = np.arange(65536, dtype=np.int32)
    pcm = np.where(pcm >= 32768, pcm - 65536, pcm) >> 2  # 14-bit, arithmetic shift like audioop
    negative = pcm < 0
    magnitude = np.minimum(np.where(negative, -pcm, pcm), 8159) + (0x84 >> 2)
    segment_ends = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    segment = np.searchsorted(segment_ends, magnitude)  # first end >= magnitude
    code = (np.minimum(segment, 7) << 4) | ((magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    mask = np.where(negative, 0x7F, 0xFF)
    return (code ^ mask).astype(np.uint8)


_DECODE = _decode_table()
_ENCODE = _encode_table()


def ulaw_to_pcm16(ulaw: bytes) -> np.ndarray:
    """μ-law bytes → int16 samples (one sample per byte)."""
    return _DECODE[np.frombuffer(ulaw, dtype=np.uint8)]


def pcm16_to_ulaw(pcm: np.ndarray) -> bytes:
    """int16 samples → μ-law bytes. Other integer or float arrays are rounded and clipped to int16 first."""
    return _ENCODE[_as_int16(pcm).view(np.uint16)].tobytes()


def _as_int16(pcm: np.ndarray) -> np.ndarray:
    pcm = np.asarray(pcm)
    if pcm.dtype == np.int16:
        return pcm
    return np.clip(np.rint(pcm), -32768, 32767).astype(np.int16)


def frames(ulaw: bytes, size: int = FRAME_BYTES) -> Iterator[bytes]:
    """Split μ-law audio into frames of `size` bytes (160 = 20 ms); the last one is padded with silence."""
    if size <= 0:
        raise ValueError("frame size must be positive")
    for start in range(0, len(ulaw), size):
        frame = bytes(ulaw[start : start + size])
        yield frame + bytes([ULAW_SILENCE]) * (size - len(frame))


def rms_dbfs(pcm: np.ndarray) -> float:
    """Root-mean-square level of int16 samples in dB relative to full scale; SILENCE_DBFS for none or zeros."""
    samples = np.asarray(pcm, dtype=np.float64)
    if samples.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(samples * samples)))
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * np.log10(rms / 32768.0))


class Resampler:
    """Rational-ratio resampler (polyphase windowed-sinc low-pass) that keeps its state between chunks.

    Use one per direction per call: chunks of any size give the same output as the whole signal at once.
    The streaming output lags the input by half the filter (about 2 ms); `resample()` removes that lag.
    """

    def __init__(self, src: int, dst: int, zero_crossings: int = 16):
        if src <= 0 or dst <= 0:
            raise ValueError("sample rates must be positive")
        g = gcd(src, dst)
        self.src, self.dst, self.up, self.down = src, dst, dst // g, src // g
        ratio = max(self.up, self.down)
        taps_per_phase = 2 * zero_crossings * ratio // self.up + 1
        length = taps_per_phase * self.up - (1 - self.up % 2)  # odd, so the delay is whole samples
        # Low-pass at 90 % of the lower Nyquist frequency, in units of the upsampled rate; gain `up`.
        cutoff = 0.9 * 0.5 / ratio
        t = np.arange(length) - (length - 1) / 2
        h = 2 * cutoff * np.sinc(2 * cutoff * t) * np.kaiser(length, 8.0)
        h = np.concatenate([h * self.up / h.sum(), np.zeros(taps_per_phase * self.up - length)])
        # phases[p, i] = h[p + i*up]: the taps applied to x[j - i] for an output at upsampled time j*up + p.
        self._phases = h.reshape(taps_per_phase, self.up).T.copy()
        self._taps = taps_per_phase
        self.delay = (length - 1) // 2  # filter delay in upsampled samples
        self._shift = 0  # resample() sets it to `delay` to drop the lag
        self._history = np.zeros(taps_per_phase, dtype=np.float64)
        self._base = -taps_per_phase  # absolute input index of _history[0]
        self._next = 0  # index of the next output sample

    def process(self, pcm: np.ndarray) -> np.ndarray:
        """Feed int16 samples at `src`; returns the int16 samples at `dst` that they complete."""
        return _as_int16(self._run(np.asarray(pcm, dtype=np.float64)))

    def _run(self, pcm: np.ndarray) -> np.ndarray:
        x = np.concatenate([self._history, pcm])
        end = self._base + len(x)  # one past the newest input index
        last = ((end - 1) * self.up - self._shift) // self.down
        n = np.arange(self._next, max(self._next, last + 1))
        upsampled = n * self.down + self._shift
        j = upsampled // self.up
        phase = upsampled - j * self.up
        index = (j - self._base)[:, None] - np.arange(self._taps)[None, :]
        y = np.einsum("ij,ij->i", self._phases[phase], x[index]) if len(n) else np.zeros(0)
        self._next += len(n)
        self._history = x[-self._taps :]
        self._base = end - self._taps
        return y


def resample(pcm: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Resample a whole int16 signal from `src` to `dst` Hz, time-aligned, ceil(len * dst / src) samples."""
    pcm = np.asarray(pcm)
    if src == dst:
        return _as_int16(pcm).copy()
    r = Resampler(src, dst)
    r._shift = r.delay
    wanted = -(-len(pcm) * r.up // r.down)
    tail = np.zeros(r._taps + r.delay // r.up + 2)
    y = np.concatenate([r._run(np.asarray(pcm, dtype=np.float64)), r._run(tail)])
    return _as_int16(y[:wanted])


class VoiceActivity:
    """Energy detector for barge-in, fed one 20 ms frame at a time.

    A frame is voiced when its level is `threshold_db` above the tracked noise floor and above
    `min_dbfs`. `update` returns True ("speech") once `min_frames` consecutive frames were voiced, and keeps
    saying so until `hangover` consecutive unvoiced frames. The floor follows quiet frames quickly downwards
    and slowly upwards, and voiced frames very slowly (so a steady hum is learnt as noise in a few seconds).
    """

    def __init__(
        self,
        threshold_db: float = 12.0,
        min_frames: int = 4,
        hangover: int = 10,
        min_dbfs: float = -45.0,
        initial_floor_dbfs: float = -60.0,
    ):
        if min_frames < 1 or hangover < 0:
            raise ValueError("min_frames must be >= 1 and hangover >= 0")
        self.threshold_db, self.min_frames, self.hangover, self.min_dbfs = threshold_db, min_frames, hangover, min_dbfs
        self.noise_floor = initial_floor_dbfs
        self.speaking = False
        self._voiced_run = 0
        self._quiet_run = 0

    def update(self, pcm: np.ndarray) -> bool:
        """Take one frame of int16 samples; returns whether the caller is speaking now."""
        level = rms_dbfs(pcm)
        voiced = level >= self.min_dbfs and level >= self.noise_floor + self.threshold_db
        if voiced:
            self._voiced_run += 1
            self._quiet_run = 0
            self.noise_floor += 0.01 * (level - self.noise_floor)  # a steady loud hum stops being "speech"
        else:
            self._voiced_run = 0
            self._quiet_run += 1
            rate = 0.5 if level < self.noise_floor else 0.05
            self.noise_floor += rate * (level - self.noise_floor)
        if self._voiced_run >= self.min_frames:
            self.speaking = True
        elif self._quiet_run > self.hangover:
            self.speaking = False
        return self.speaking

    def update_ulaw(self, frame: bytes) -> bool:
        """`update` for a μ-law frame as it arrives from Twilio."""
        return self.update(ulaw_to_pcm16(frame))

    def reset(self) -> None:
        """Forget the current run (e.g. when a new prompt starts playing); the noise floor is kept."""
        self.speaking = False
        self._voiced_run = self._quiet_run = 0
