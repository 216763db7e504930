"""voice.audio: μ-law against audioop, frames, levels, resampling, the barge-in detector."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from voice.audio import (
    FRAME_BYTES,
    SILENCE_DBFS,
    Resampler,
    VoiceActivity,
    frames,
    pcm16_to_ulaw,
    resample,
    rms_dbfs,
    ulaw_to_pcm16,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop  # removed in Python 3.13: only a cross-check here
    except ImportError:
        audioop = None

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


def tone(freq: float, rate: int, seconds: float, amplitude: float = 10000.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def peak_frequency(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[np.argmax(spectrum)])


# --- μ-law -----------------------------------------------------------------------------------------------


@pytest.mark.skipif(audioop is None, reason="audioop is not in this Python (3.13+)")
def test_ulaw_matches_audioop_for_every_code_and_sample():
    codes = bytes(range(256))
    assert np.array_equal(ulaw_to_pcm16(codes), np.frombuffer(audioop.ulaw2lin(codes, 2), dtype="<i2"))
    assert pcm16_to_ulaw(ALL_INT16) == audioop.lin2ulaw(ALL_INT16.tobytes(), 2)


def test_ulaw_round_trip_error_is_within_one_quantisation_step():
    x = ALL_INT16.astype(np.int32)
    error = np.abs(ulaw_to_pcm16(pcm16_to_ulaw(ALL_INT16)).astype(np.int32) - x)
    small = np.abs(x) < 100
    assert error[small].max() < 8  # finest segment: steps of 8
    assert (error[~small] / np.abs(x[~small])).max() < 0.1  # steps of ≈ 1/16 of the magnitude
    assert error.max() <= 1024  # the coarsest step (and the clip)
    codes = bytes(range(256))
    assert set(pcm16_to_ulaw(ulaw_to_pcm16(codes))) - {0x7F} == set(codes) - {0x7F}  # 0x7F and 0xFF are both 0


def test_ulaw_shapes_and_silence():
    assert ulaw_to_pcm16(b"").dtype == np.int16 and len(ulaw_to_pcm16(b"")) == 0
    assert pcm16_to_ulaw(np.zeros(3, dtype=np.int16)) == b"\xff\xff\xff"
    assert np.all(ulaw_to_pcm16(b"\xff" * 5) == 0)
    assert len(ulaw_to_pcm16(b"\x00\x01\x02")) == 3  # odd lengths are fine: 1 byte per sample
    assert pcm16_to_ulaw(np.array([40000.0, -40000.0])) == pcm16_to_ulaw(np.array([32767, -32768], np.int16))


# --- frames and levels -----------------------------------------------------------------------------------


def test_frames_are_20ms_and_the_last_is_padded_with_silence():
    chunks = list(frames(b"\x00" * 400))
    assert [len(c) for c in chunks] == [FRAME_BYTES] * 3
    assert chunks[-1] == b"\x00" * 80 + b"\xff" * 80
    assert list(frames(b"")) == []
    assert [len(c) for c in frames(b"\x01" * 800, size=800)] == [800]


def test_rms_dbfs():
    assert rms_dbfs(np.zeros(160, dtype=np.int16)) == SILENCE_DBFS
    assert rms_dbfs(np.array([], dtype=np.int16)) == SILENCE_DBFS
    assert rms_dbfs(np.full(160, 32767, dtype=np.int16)) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(tone(440, 8000, 0.1, amplitude=32767)) == pytest.approx(-3.01, abs=0.05)


# --- resampling ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("src,dst", [(8000, 16000), (16000, 8000), (24000, 8000), (22050, 8000)])
def test_resample_keeps_a_440_hz_tone(src, dst):
    out = resample(tone(440, src, 1.0), src, dst)
    assert len(out) == dst and out.dtype == np.int16
    assert peak_frequency(out, dst) == pytest.approx(440, abs=2)
    expected = tone(440, dst, 1.0)  # same phase: no delay left over
    assert np.abs(out[100:-100].astype(int) - expected[100:-100]).max() <= 20


def test_resample_24k_to_8k_removes_what_8k_cannot_carry():
    assert rms_dbfs(resample(tone(6000, 24000, 0.5), 24000, 8000)[100:-100]) < -70  # would alias to 2 kHz
    passed = resample(tone(3000, 24000, 0.5), 24000, 8000)[100:-100]
    assert rms_dbfs(passed) == pytest.approx(rms_dbfs(tone(3000, 8000, 0.5)), abs=0.5)


def test_resampler_streamed_in_frames_equals_the_whole_signal():
    x = tone(440, 24000, 0.5)
    whole = Resampler(24000, 8000).process(x)
    streamer = Resampler(24000, 8000)
    parts = [streamer.process(x[i : i + 480]) for i in range(0, len(x), 480)] + [streamer.process(x[:0])]
    assert np.array_equal(np.concatenate(parts), whole)
    assert np.array_equal(resample(x, 8000, 8000), x)


# --- barge-in detector ----------------------------------------------------------------------------------


def run_vad(vad: VoiceActivity, pcm: np.ndarray) -> list[bool]:
    return [vad.update(pcm[i : i + 160]) for i in range(0, len(pcm) - 159, 160)]


def test_vad_fires_on_a_tone_burst_after_n_frames_and_releases_after_hangover():
    rng = np.random.default_rng(0)
    quiet = (rng.normal(0, 30, 8000)).astype(np.int16)  # ≈ -60 dBFS line noise
    burst = tone(300, 8000, 0.3, amplitude=8000) + quiet[:2400]
    vad = VoiceActivity(min_frames=4, hangover=10)
    states = run_vad(vad, np.concatenate([quiet, burst, quiet]))
    onset = states.index(True)
    assert onset == 50 + 3  # 4th voiced frame of the burst
    assert all(states[onset : 50 + 15])
    assert states[-1] is False
    assert vad.update_ulaw(b"\xff" * 160) is False


def test_vad_stays_quiet_on_silence_noise_and_short_clicks():
    rng = np.random.default_rng(1)
    vad = VoiceActivity()
    assert not any(run_vad(vad, np.zeros(8000, dtype=np.int16)))
    assert not any(run_vad(vad, rng.normal(0, 100, 16000).astype(np.int16)))  # ≈ -50 dBFS hiss
    click = np.concatenate([np.zeros(800), tone(1000, 8000, 0.04, 20000), np.zeros(800)]).astype(np.int16)
    assert not any(run_vad(vad, click))  # 2 loud frames < 4


def test_vad_learns_a_steady_hum_as_noise():
    vad = VoiceActivity()
    states = run_vad(vad, tone(100, 8000, 6.0, amplitude=3000))  # 6 s of -20 dBFS mains hum
    assert states[-1] is False
