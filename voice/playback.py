"""Outbound audio of one call: prompts synthesised, cut into 20 ms μ-law frames and paced in real time.

Twilio plays what it receives as soon as it arrives and buffers the rest, so the speaker keeps only a small
lead (`lead_ms`) over the real-time clock: a `clear` (barge-in) then cuts the prompt within that lead.
After each prompt a `mark` is sent; Twilio echoes it back when the prompt has been heard to its end (or was
cleared). Only the call's receive loop reads the websocket; this task only sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import numpy as np

from voice import twiml
from voice.audio import FRAME_BYTES, SAMPLE_RATE, pcm16_to_ulaw
from voice.tts.clips import ClipLibrary
from voice.tts.compose import Composer
from voice.tts.dsp import silence
from voice.tts.engine import split_text

log = logging.getLogger(__name__)
FRAME = twiml.FRAME_SECONDS
SYNTH_AHEAD = 4  # chunks (clauses) synthesised ahead of playback
RECURRING = re.compile(r"[^0-9A-Za-z０-９Ａ-Ｚａ-ｚ]+")  # no digits, no letters: the same words in every call


class Voice:
    """A TTS engine (`stream(text)` -> int16 8 kHz chunks) and an optional prompt cache.

    A text already in the cache is played from it at once. Any other is spoken piece by piece (clauses, as
    the engine splits them): a piece without digits or Latin letters ("好的，已经为您登记了报修") recurs
    across calls, so once synthesised it is kept in memory (not on disk: a piece may hold a caller's name)
    and plays at once next time, while the variable pieces (numbers, names) are synthesised live behind it.
    `reusable` texts (fixed prompts and the bot's fixed responses) are rendered to the disk cache by `warm`.

    With `clips` (a `ClipLibrary`), a text not in the cache is composed instead (`voice.tts.compose`):
    live numbers and the fixed words around them from pre-rendered clips, so a reply with an order number
    starts at once; Kokoro says the rest, synthesised ahead while the clips play.
    """

    def __init__(
        self,
        engine,
        cache=None,
        reusable: Iterable[str] = (),
        learned_items: int = 512,
        clips: ClipLibrary | None = None,
    ):
        self.engine, self.cache, self.clips = engine, cache, clips
        self.composer = Composer(engine, clips, stats=self, learned_items=learned_items) if clips else None
        self.reusable = list(dict.fromkeys(reusable))
        self._learned: OrderedDict[str, np.ndarray] = OrderedDict()
        self._learned_items = learned_items
        self.hits = self.misses = 0
        self._expecting: set[asyncio.Task] = set()

    def slower(self, speed: float) -> Voice:
        """This voice at `speed` (a known elderly caller's whole call) when the engine can change speed (Kokoro),
        else this voice itself. Its prompts are cached beside this voice's (the engine's name carries the speed);
        numbers are read by the engine too, not from the clips (recorded at the usual speed)."""
        with_speed = getattr(self.engine, "with_speed", None)
        if with_speed is None:
            return self
        engine = with_speed(speed)
        cache = type(self.cache)(self.cache.directory, engine) if self.cache is not None else None
        return Voice(engine, cache, learned_items=self._learned_items)

    def expect_name(self, text: str) -> None:
        """A name the replies of this call are likely to say (the area of the caller's outage): rendered as a
        clip in the background, so a reply naming it is composed from clips rather than synthesised whole
        while the caller waits. Once per name per machine (on disk)."""
        if self.clips is None or not text or text in self.clips.phrases:
            return
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.clips.add_phrase, text))
        self._expecting.add(task)
        task.add_done_callback(self._expecting.discard)

    def cached(self, text: str) -> bool:
        return self.cache is not None and text in self.cache

    def warm(self) -> int:
        """Render the reusable texts not yet in the cache, then the clips (blocking; run it in a thread)."""
        n = self.cache.warm(self.reusable) if self.cache is not None else 0
        return n + (self.clips.warm() if self.clips is not None else 0)

    async def chunks(self, text: str) -> AsyncIterator[np.ndarray]:
        if await asyncio.to_thread(self.cached, text):
            self.hits += 1
            yield await asyncio.to_thread(self.cache.get, text)
            return
        if self.composer is not None:
            async with contextlib.aclosing(self.composer.chunks(text)) as composed:
                async for chunk in composed:
                    yield chunk
            return
        pieces = split_text(text)
        for i, piece in enumerate(pieces):
            pause = silence(piece.pause, SAMPLE_RATE) if i < len(pieces) - 1 else None
            audio = self._learned.get(piece.text)
            if audio is not None:
                self.hits += 1
                self._learned.move_to_end(piece.text)
                yield audio if pause is None else np.concatenate([audio, pause])
                continue
            self.misses += 1
            parts = []
            stream = iter(await asyncio.to_thread(self.engine.stream, piece.text))
            while (chunk := await asyncio.to_thread(next, stream, None)) is not None:
                parts.append(chunk)
                yield chunk
            if pause is not None:
                yield pause
            if parts and RECURRING.fullmatch(piece.text):
                self._learn(piece.text, np.concatenate(parts))

    def _learn(self, text: str, audio: np.ndarray) -> None:
        self._learned[text] = audio
        while len(self._learned) > self._learned_items:
            self._learned.popitem(last=False)


class Speaker:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        stream_sid: str,
        voice: Voice,
        *,
        lead_ms: int = 100,
        on_idle: Callable[[], None] | None = None,
    ):
        self._send, self._sid, self._voice = send, stream_sid, voice
        self._lead = lead_ms / 1000
        self._on_idle = on_idle
        self._queue: deque[tuple[str, Callable[[], None] | None]] = deque()
        self._task: asyncio.Task | None = None
        self._t0 = 0.0  # pacing clock: frame n is due at t0 + n * 20 ms - lead
        self._sent = 0
        self._count = 0
        self.marks: dict[str, str] = {}  # mark name -> prompt text, until Twilio echoes it
        self.frames_sent = 0

    @property
    def busy(self) -> bool:
        """A prompt is being sent, or Twilio still has audio of ours to play."""
        loop = asyncio.get_running_loop()
        return bool(self._task and not self._task.done()) or loop.time() < self._t0 + self._sent * FRAME

    def use(self, voice: Voice) -> None:
        """Prompts played from now on are spoken by `voice`."""
        self._voice = voice

    def play(self, text: str, *, on_start: Callable[[], None] | None = None) -> None:
        """Queue a prompt; `on_start` runs when its first frame is sent."""
        if not text.strip():
            return
        self._queue.append((text, on_start))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"speaker-{self._sid}")

    async def interrupt(self) -> bool:
        """Barge-in: drop what is queued, stop sending, tell Twilio to drop its buffer. True if it cut something."""
        was_busy = self.busy or bool(self._queue)
        self._queue.clear()
        if self._task and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise
        self._task = None
        self._t0, self._sent = asyncio.get_running_loop().time(), 0
        if was_busy:
            await self._send(twiml.clear(self._sid))
        return was_busy

    def heard(self, mark: str) -> str | None:
        """Twilio echoed a mark: the prompt it closes has been played (or cleared)."""
        return self.marks.pop(mark, None)

    async def close(self) -> None:
        self._queue.clear()
        if self._task and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            text, on_start = self._queue.popleft()
            try:
                await self._speak(text, on_start)
            except ConnectionError as e:  # the websocket closed under us
                log.info("playback stopped: %r", e)
                return
            except Exception:
                log.exception("could not speak %r", text[:40])
            if not self._queue:  # Twilio plays the rest out; a prompt queued meanwhile goes on from here
                await asyncio.sleep(max(0.0, self._t0 + self._sent * FRAME - loop.time()))
        if self._on_idle:  # after this task is done, so `busy` is False for the callback
            loop.call_soon(self._on_idle)

    async def _speak(self, text: str, on_start) -> None:
        # Synthesis runs ahead of pacing (a few chunks), so the next clause is ready when this one ends.
        ahead: asyncio.Queue[np.ndarray | None] = asyncio.Queue(maxsize=SYNTH_AHEAD)
        producer = asyncio.create_task(self._synthesise(text, ahead), name=f"synth-{self._sid}")
        pending = b""
        try:
            while (pcm := await ahead.get()) is not None:
                pending += pcm16_to_ulaw(np.asarray(pcm))
                while len(pending) >= FRAME_BYTES:
                    frame, pending = pending[:FRAME_BYTES], pending[FRAME_BYTES:]
                    await self._frame(frame)
                    if on_start:
                        on_start()
                        on_start = None
            await producer  # re-raises a synthesis error (logged by _run)
        finally:
            producer.cancel()
        if pending:
            await self._frame(pending + b"\xff" * (FRAME_BYTES - len(pending)))
        self._count += 1
        name = f"prompt-{self._count}"
        self.marks[name] = text
        await self._send(twiml.mark(self._sid, name))

    async def _synthesise(self, text: str, ahead: asyncio.Queue) -> None:
        try:  # closed at once on barge-in, so the voice stops synthesising what will not be heard
            async with contextlib.aclosing(self._voice.chunks(text)) as chunks:
                async for pcm in chunks:
                    await ahead.put(pcm)
        except asyncio.CancelledError:  # barge-in or hang-up: the player is gone
            raise
        except Exception:
            await ahead.put(None)  # wake the player; it re-raises this through `await producer`
            raise
        await ahead.put(None)

    async def _frame(self, ulaw: bytes) -> None:
        loop = asyncio.get_running_loop()
        ahead = self._t0 + self._sent * FRAME - loop.time()  # audio Twilio still has buffered
        if ahead < 0:  # synthesis fell behind: Twilio ran dry, restart the clock from now
            self._t0, self._sent = loop.time(), 0
        elif ahead > self._lead:
            await asyncio.sleep(ahead - self._lead)
        await self._send(twiml.media(self._sid, ulaw))
        self._sent += 1
        self.frames_sent += 1
