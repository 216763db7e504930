"""Pre-rendered clips for live numbers and the fixed words around them, as hotline IVRs use.

A reply that carries a live number ("工单号是G26112800123", "电费是123.45元") cannot come from the prompt
cache, and synthesising it whole takes Kokoro 2–4 s on 2 cores. Instead the number is said from short
clips rendered once with the same engine and voice: digits read one by one (幺 for 1), quantities
(二十, 一百, 两千, 十二万 … read greedily as the longest clip that fits: 一百|二十|八|元|五角), units, months,
days, hours, years and letters (G is 吉). The fixed words of the replies that carry numbers (``LEAD_INS``,
taken from the f-strings in actions/ and backend/spoken.py) are clips too.

Clips are kept in a `PromptCache` of their own (one raw int16 file per clip, keyed by engine name and
version, voice, rate and text), so they are rendered once per machine and read from disk afterwards.
Number words are rendered a little faster than the prompts (``NUMBER_SPEED``): an isolated syllable comes
out of Kokoro drawn out (0.3–0.5 s), a hotline reads digits at about three a second.
Each clip is cut to its voiced part, given 5 ms fades and brought to one loudness (``TARGET_DBFS``).

    library = ClipLibrary(cache_dir / "clips", engine)
    library.warm()                    # blocking, ~5 min of CPU on 2 cores once per machine; run it in a thread
    library.number("二十")            # int16 8 kHz, or None while it is not rendered yet
    library.phrase("工单号是")
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import dsp
from .cache import PromptCache
from .say import DIGITS, LETTERS, cardinal

NUMBER_SPEED = 1.2
TARGET_DBFS = -16.0  # loudness of the voiced 10 ms frames of every clip (Kokoro's own is ≈ −15 … −17)
PUNCTUATION = "，,。！？；!?;：:、 "

_ONE_TO_NINE = DIGITS[1:]
_TEENS = [cardinal(n) for n in range(11, 20)]
_COMPOUNDS = [d + "十" for d in _ONE_TO_NINE[1:]] + [d + u for d in (*_ONE_TO_NINE, "两") for u in "百千万"]
NUMBER_WORDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *"零幺一二两三四五六七八九十百千万亿点负到",
            *"元角分度年月日号秒伏",
            "千瓦时",
            "千瓦",
            "千伏",
            "百分之",
            *_TEENS,
            *_COMPOUNDS,
            *(f"{d}角" for d in (*_ONE_TO_NINE, "两")),
            *(f"{d}分" for d in (*_ONE_TO_NINE, "两")),
            *(f"{cardinal(m)}月" for m in range(1, 13)),
            *(f"{cardinal(d)}日" for d in range(1, 32)),
            *(cardinal(h, liang=True) + "点" for h in range(25)),
            *("".join(DIGITS[int(c)] for c in str(y)) + "年" for y in range(2024, 2031)),
            *LETTERS.values(),
        ]
    )
)
_DIGIT_CLIPS = set("零幺一二两三四五六七八九") | set(LETTERS.values())

# Fixed words of the replies that carry numbers, cut at punctuation as `compose.plan` cuts them.
LEAD_INS: tuple[str, ...] = (
    # work orders: actions/forms/outage.py, reports.py, account.py, handoff.py, withdraw.py, followups.py
    "您的工单号是",
    "工单号是",
    "工单号",
    "工单",
    "已为您登记报修",
    "已按紧急情况处理",
    "您的报修也已登记",
    "我们会一并核实您家的情况",
    "抢修人员会尽快和您联系",
    "城区一般四十五分钟内到达现场",
    "请保持电话畅通",
    "还有别的需要帮您的吗",
    "这个地址刚才已经为您报修过了",
    "不会重复登记",
    "这件事刚才已经登记过了",
    "这件事刚才已经为您登记了",
    "新说的情况我已经补充进去",
    "工作人员会尽快处理并和您联系",
    "已经为您撤销",
    "刚才的",
    "已为您登记复电",
    "您缴清后",
    "系统会自动安排复电并发短信通知您",
    "一般二十四小时内来电",
    "不用再联系我们",
    "一般二十四小时内恢复供电",
    "如果超时没来电",
    "请再联系我们",
    "下个抄表周期起生效",
    "已为您受理开通峰谷电价",
    "已为您受理取消峰谷电价",
    "已把联系电话改为尾号",
    "的号码",
    "以后的通知会发到这个号码",
    "我已经为您登记了人工回复",
    # the read-back before filing: actions/forms/confirm.py
    "好的",
    "没有危险情况",
    "我跟您核对一下",
    # bills and balances: actions/forms/account.py
    "您",
    "的电费是",
    "用电",
    "已经缴清",
    "还没有缴费",
    "您可以在网上国网诶批批或者微信",
    "支付宝生活缴费里交",
    "这个月多了",
    "这个月少了",
    "电量多了",
    "电量少了",
    "是",
    "和",
    "一样",
    "您的电费余额是",
    "余额不多了",
    "建议尽快充值",
    "您的电费账户目前欠费",
    "请尽快充值",
    "以免影响用电",
    "系统显示还欠费",
    "缴清后",
    "复电一般在二十四小时内完成",
    "最近一期",
    "的电费",
    "还没有缴",
    "的账单还没出",
    "还没有出账单",
    "可以查最近一年内已出账的月份",
    # outages and progress: actions/forms/outage.py, progress.py, backend/spoken.py, channels/wording.py
    # (the outage area's name between them is added per call: `ClipLibrary.add_phrase`)
    "您家停电应该就是",
    "这次停电",
    "疑似发生停电",
    "您所在的",
    "目前有故障停电",
    "目前有计划停电",
    "原因是",
    "预计",
    "恢复供电",
    "今天",
    "明天",
    "后天",
    "凌晨",
    "上午",
    "中午",
    "下午",
    "晚上",
    "目前",
    "的",
    "另外还有",
    "张工单",
)


class ClipLibrary:
    """Clips of `numbers` and `phrases`: looked up without ever synthesising on the caller's time."""

    def __init__(
        self,
        directory: str | os.PathLike,
        engine,
        numbers: Iterable[str] = NUMBER_WORDS,
        phrases: Iterable[str] = LEAD_INS,
    ):
        self.engine = engine
        number_engine = engine.with_speed(NUMBER_SPEED) if hasattr(engine, "with_speed") else engine
        self._numbers = PromptCache(Path(directory) / "numbers", number_engine, memory_items=64)
        self._phrases = PromptCache(Path(directory) / "phrases", engine, memory_items=64)
        self.vocabulary = tuple(dict.fromkeys(w for w in numbers if w))
        self.phrases = tuple(dict.fromkeys(p for p in phrases if p))
        self._words, self._phrase_set = frozenset(self.vocabulary), frozenset(self.phrases)
        self._longest = max(map(len, self.phrases), default=0)
        self._ready: dict[str, np.ndarray] = {}  # "n:<word>" / "p:<phrase>" -> finished clip

    def number(self, word: str) -> np.ndarray | None:
        return self._clip("n", word, self._numbers) if word in self._words else None

    def phrase(self, text: str) -> np.ndarray | None:
        """A lead-in; one-character ones (您, 的, 是) are read at the number words' pace, like them."""
        return self._clip("p", text, self._phrase_cache(text))

    def _phrase_cache(self, text: str) -> PromptCache:
        return self._numbers if len(text) == 1 else self._phrases  # one character: at the number words' pace

    def cover(self, text: str) -> list[np.ndarray] | None:
        """Fixed words as rendered phrases, the whole phrase first, else the longest at each point
        (的故障报修工单 → 的|故障报修|工单); None unless every character is covered."""
        whole = self.phrase(text)
        if whole is not None:
            return [whole]
        out, at = [], 0
        while at < len(text):
            for end in range(min(len(text), at + self._longest), at, -1):
                clip = self.phrase(text[at:end]) if text[at:end] in self._phrase_set else None
                if clip is not None:
                    out.append(clip)
                    at = end
                    break
            else:
                return None
        return out

    def add_phrase(self, text: str) -> bool:
        """A phrase known only at run time (the name of an area with an outage), rendered now if not on disk
        and covered from then on; False when it was a phrase already (blocking: run it in a thread)."""
        if not text or text in self._phrase_set:
            return False
        self._phrase_cache(text).get(text)  # from disk, else synthesised
        self.phrases = tuple(dict.fromkeys((*self.phrases, text)))  # after the clip is ready: `cover` never waits
        self._phrase_set = self._phrase_set | {text}
        self._longest = max(self._longest, len(text))
        return True

    def warm(self) -> int:
        """Render the clips not on disk yet; returns how many were synthesised (blocking: run it in a thread)."""
        return sum(cache.warm(texts) for cache, texts in self._sources())

    def rendered(self) -> bool:
        """Whether every clip is on disk: until then a reply's numbers go to Kokoro on the caller's time."""
        return all(text in cache for cache, texts in self._sources() for text in texts)

    def _sources(self) -> list[tuple[PromptCache, list[str]]]:
        short = [p for p in self.phrases if len(p) == 1]  # read at the number words' pace, like them
        return [(self._numbers, [*self.vocabulary, *short]), (self._phrases, [p for p in self.phrases if len(p) > 1])]

    def _clip(self, kind: str, text: str, cache: PromptCache) -> np.ndarray | None:
        key = f"{kind}:{text}"
        clip = self._ready.get(key)
        if clip is None and text in cache:  # rendered (by `warm`): read it, never synthesise here
            clip = finish(cache.get(text), cache.engine.sample_rate, tight=cache is self._numbers)
            clip.setflags(write=False)
            self._ready[key] = clip
        return clip


def finish(audio: np.ndarray, rate: int, tight: bool = False) -> np.ndarray:
    """A clip ready to join: voiced part only (short pads), one loudness, 5 ms fades at both ends."""
    x = np.asarray(audio, np.float32) / 32768
    x = dsp.trim_silence(x, rate, threshold=0.02, lead=0.01 if tight else 0.02, tail=0.03 if tight else 0.05)
    x = level(x, rate)
    fade = min(len(x) // 2, int(0.005 * rate))
    if fade:
        ramp = np.linspace(0, 1, fade, dtype=np.float32)
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    return dsp.to_int16(x)


def level(x: np.ndarray, rate: int, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Scale float audio so its voiced 10 ms frames (within 30 dB of the loudest) average ``target_dbfs``."""
    n = max(1, rate // 100)
    frames = x[: len(x) // n * n].reshape(-1, n)
    if not frames.size:
        return x
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    voiced = rms[rms > rms.max() * 10 ** (-30 / 20)]
    current = float(np.sqrt((voiced**2).mean())) if voiced.size else 0.0
    if current <= 1e-6:
        return x
    gain = min(4.0, max(0.25, 10 ** (target_dbfs / 20) / current))
    return (x * gain).astype(np.float32)


def is_digit_clip(word: str) -> bool:
    """Read one by one (a code, a phone number): joined with a short gap, not run together."""
    return word in _DIGIT_CLIPS


def tokenize(number: str, vocabulary: Iterable[str] = NUMBER_WORDS) -> list[str] | None:
    """A spoken number as clip words, longest first (一百二十八元五角 → 一百|二十|八|元|五角); "、" is a
    group pause and stays a token. None when some part has no clip."""
    pattern = _longest_first(tuple(vocabulary))
    out, at = [], 0
    number = number.strip()
    while at < len(number):
        m = pattern.match(number, at)
        if m is None:
            return None
        out.append(m.group())
        at = m.end()
    return out


@lru_cache(maxsize=4)
def _longest_first(vocabulary: tuple[str, ...]) -> re.Pattern:
    words = sorted(set(vocabulary), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)) + "|、")
