"""Replies with live numbers spoken from clips: the first audio leaves at once, Kokoro fills the gaps ahead.

``plan`` cuts a reply into parts: fixed words (cut at punctuation, which gives the pauses) and live
numbers (runs that `say.normalize` produced from digits). ``Composer.chunks`` then speaks each part from
the first source that has it:

1. a number from its clip words (`clips.tokenize`: 吉|二|六|幺 …, 一百|二十|八|元|五角),
2. a fixed part from memory if this process synthesised it before, else from lead-in clips when they
   cover all of it (的故障报修工单 → 的|故障报修|工单, longest first; a part only partly covered goes to
   Kokoro whole, so it never waits in the middle of a phrase),
3. Kokoro, for everything else: all such parts are synthesised in order by one background task that
   starts at once, so a part later in the reply is ready while the clips before it play. A clause
   (between punctuation) that is not covered entirely is said by Kokoro whole, for its prosody.

Joins: digits read one by one get a 50 ms gap, "、" between digit groups 150 ms, quantity words a 15 ms
crossfade (一百|二十|八 runs on), a fixed part and a number 40 ms, punctuation the pauses of
`engine.split_text` (0.15 s clause, 0.35 s sentence). Everything is brought to one loudness
(`clips.level`). The chunks are int16 at the engine's rate; the speaker turns them into 8 kHz μ-law
frames. Leaving the iteration (barge-in, hang-up) cancels the background synthesis.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from . import say
from .clips import ClipLibrary, finish, is_digit_clip, tokenize

SENTENCE_PAUSE, CLAUSE_PAUSE = 0.35, 0.15
JOIN_GAP = 0.04  # between a fixed part and a number, no punctuation between them
DIGIT_GAP = 0.05  # digits read one by one
GROUP_PAUSE = 0.15  # "、" between digit groups (幺三九、幺二三四)
CROSSFADE = 0.015  # quantity words run on: 一百|二十|八
_PUNCT = re.compile(r"([^，,。！？；!?;：:、\n]*)([，,。！？；!?;：:、\n]*)")


@dataclass
class Part:
    text: str  # spoken text (normalised, no punctuation)
    number: bool  # a live number (from digits), else fixed words
    pause: float = JOIN_GAP  # silence after it
    clause: int = 0  # parts between the same punctuation share a number


def plan(text: str) -> list[Part]:
    """The reply as fixed and number parts, with the pause after each (none after the last)."""
    parts: list[Part] = []
    clause = 0
    for run, number in say.spans(text):
        if number:
            parts.append(Part(run.strip(), True, clause=clause))
            continue
        for words, punct in _PUNCT.findall(run):
            pause = SENTENCE_PAUSE if re.search(r"[。！？；!?;\n]", punct) else CLAUSE_PAUSE if punct else JOIN_GAP
            if words.strip():
                parts.append(Part(words.strip(), False, pause, clause))
            elif punct and parts:
                parts[-1].pause = max(parts[-1].pause, pause)
            clause += bool(punct)
    parts = [p for p in parts if p.text]
    if parts:
        parts[-1].pause = 0.0
    return parts


def number_pieces(tokens: list[str]) -> list[tuple[str, float]]:
    """(clip word, join before it) for a tokenised number: > 0 a gap, < 0 a crossfade, in seconds."""
    out: list[tuple[str, float]] = []
    gap = 0.0
    for word in tokens:
        if word == "、":
            gap = GROUP_PAUSE
            continue
        if out and not gap:
            gap = DIGIT_GAP if is_digit_clip(word) and is_digit_clip(out[-1][0]) else -CROSSFADE
        out.append((word, gap))
        gap = 0.0
    return out


class Joiner:
    """Appends audio after a gap (silence) or with a crossfade, handing back what can be played already;
    the last few milliseconds are held back for the next crossfade."""

    def __init__(self, rate: int, hold: float = 2 * CROSSFADE):
        self.rate, self._hold = rate, int(hold * rate)
        self._tail = np.zeros(0, np.float32)

    def add(self, audio: np.ndarray, join: float = 0.0) -> np.ndarray:
        x = np.asarray(audio, np.float32)
        if join > 0:
            out = np.concatenate([self._tail, np.zeros(int(round(join * self.rate)), np.float32)])
        else:
            n = min(int(round(-join * self.rate)), len(self._tail), len(x))
            ramp = np.linspace(0, 1, n, dtype=np.float32)
            mixed = self._tail[len(self._tail) - n :] * (1 - ramp) + x[:n] * ramp
            out = np.concatenate([self._tail[: len(self._tail) - n], mixed])
            x = x[n:]
        keep = min(len(x), self._hold)
        self._tail = x[len(x) - keep :]
        return _int16(np.concatenate([out, x[: len(x) - keep]]))

    def pause(self, seconds: float) -> np.ndarray:
        out = np.concatenate([self._tail, np.zeros(int(round(seconds * self.rate)), np.float32)])
        self._tail = np.zeros(0, np.float32)
        return _int16(out)

    def flush(self) -> np.ndarray:
        return self.pause(0.0)


def _int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


class Composer:
    """``async for pcm in composer.chunks(reply)``: int16 chunks at ``engine.sample_rate``.

    `stats`: any object with ``hits`` and ``misses`` counters (the `Voice`): each part played from a clip
    or from memory counts as a hit, each part Kokoro had to synthesise as a miss, when it is played.
    """

    def __init__(self, engine, library: ClipLibrary | None, stats=None, learned_items: int = 512):
        self.engine, self.library, self.stats = engine, library, stats
        self.rate = engine.sample_rate
        self._learned: OrderedDict[str, np.ndarray] = OrderedDict()
        self._learned_items = learned_items

    def ready(self, part: Part) -> list[tuple[np.ndarray, float]] | None:
        """The part as (clip, join before it) from clips or memory; None if Kokoro must say it. Reads disk."""
        if part.number:
            tokens = tokenize(part.text, self.library.vocabulary) if self.library is not None else None
            pieces = number_pieces(tokens) if tokens else None
            clips = [self.library.number(word) for word, _ in pieces or ()]
            if pieces and all(c is not None for c in clips):
                return [(clip, join) for clip, (_, join) in zip(clips, pieces)]
            return None
        clip = self._learned.get(part.text)
        if clip is not None:
            self._learned.move_to_end(part.text)
            return [(clip, 0.0)]
        words = self.library.cover(part.text) if self.library is not None else None
        return None if words is None else [(clip, -CROSSFADE if i else 0.0) for i, clip in enumerate(words)]

    def resolve(self, text: str) -> tuple[list[Part], list[list[tuple[np.ndarray, float]] | None]]:
        """The parts of the reply and, for each, its clips (None: Kokoro). A clause whose numbers or
        words are not all covered goes to Kokoro whole: 这里是95598智能客服 keeps its prosody."""
        parts = plan(text)
        ready = [self.ready(p) for p in parts]
        merged: list[tuple[Part, list | None]] = []
        for i, part in enumerate(parts):
            same = [j for j, p in enumerate(parts) if p.clause == part.clause]
            if len(same) == 1 or all(ready[j] is not None for j in same):
                merged.append((part, ready[i]))
            elif i == same[0]:
                words = "".join(parts[j].text for j in same)
                merged.append((Part(words, True, parts[same[-1]].pause, part.clause), None))
        return [p for p, _ in merged], [r for _, r in merged]

    async def chunks(self, text: str) -> AsyncIterator[np.ndarray]:
        parts, ready = await asyncio.to_thread(self.resolve, text)
        loop = asyncio.get_running_loop()
        pending = {i: loop.create_future() for i, r in enumerate(ready) if r is None}
        task = asyncio.create_task(self._synthesise(parts, pending)) if pending else None
        joiner = Joiner(self.rate)
        try:
            for i, part in enumerate(parts):
                pieces = ready[i] if ready[i] is not None else [(await pending[i], 0.0)]
                self._count("hits" if ready[i] is not None else "misses")
                for k, (audio, join) in enumerate(pieces):
                    out = joiner.add(audio, join if k else 0.0)
                    if out.size:
                        yield out
                if i < len(parts) - 1:
                    yield joiner.pause(part.pause)  # out at once: covers the next part's synthesis
            out = joiner.flush()
            if out.size:
                yield out
        finally:
            if task is not None:
                task.cancel()

    async def _synthesise(self, parts: list[Part], pending: dict[int, asyncio.Future]) -> None:
        """Kokoro for the parts no clip covers, in order, each handed over as soon as it is done."""
        try:
            for i, future in pending.items():
                audio = await asyncio.to_thread(self._render, parts[i])
                if not future.done():
                    future.set_result(audio)
        except Exception as e:  # noqa: BLE001 - handed to the player, which re-raises it
            for future in pending.values():
                if not future.done():
                    future.set_exception(e)

    def _render(self, part: Part) -> np.ndarray:
        clip = finish(self.engine.synthesize(part.text), self.rate)
        if not part.number:  # fixed words recur across calls; memory only (they may hold a name)
            self._learned[part.text] = clip
            while len(self._learned) > self._learned_items:
                self._learned.popitem(last=False)
        return clip

    def _count(self, name: str) -> None:
        if self.stats is not None:
            setattr(self.stats, name, getattr(self.stats, name, 0) + 1)
