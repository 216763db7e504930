"""One phone call: caller lookup and greeting, speech and keys in, the bot's answers spoken back.

`CallSession` is driven by the gateway's receive loop (`on_media`, `on_dtmf`, `on_mark`, `end`); it owns
three kinds of task: the dialogue worker (one Rasa turn at a time, in order), the speaker (paced playback)
and two timers (no input after a prompt; the pause that ends a key sequence).

The Rasa conversation id is "voice:<caller number>" when the number is known, else "voice:<CallSid>": a
caller who hangs up in the middle of a form and calls back within Rasa's session time goes on
where they stopped. Work orders already created are never touched by the gateway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from channels.phone import national_number
from channels.rasa import RasaClient, RasaUnavailable, handoff_of
from voice import prompts, rating
from voice.audio import VoiceActivity
from voice.call_log import CallRecord, Turn
from voice.config import VoiceConfig
from voice.dtmf import Keypad
from voice.lookup import CallerLookup
from voice.playback import Speaker, Voice
from voice.twiml import StreamEvent

log = logging.getLogger(__name__)
BARGE_IN_FRAMES = 6  # 120 ms of speech cut a prompt
SIMPLE_PATIENCE = 1.5  # a caller given the simple menu (prompts.wants_simple_menu) has this much longer to answer


@dataclass(frozen=True)
class CallerInput:
    text: str
    source: str  # "speech" | "dtmf"
    at: float  # loop time the input was complete (end of speech as the recogniser saw it, last key)


class CallSession:
    def __init__(
        self,
        start: StreamEvent,
        *,
        send: Callable[[str], Awaitable[None]],
        hangup: Callable[[], Awaitable[None]],
        rasa: RasaClient,
        lookup: CallerLookup,
        voice: Voice,
        recognizer,
        config: VoiceConfig,
        record: CallRecord,
        simple_voice: Voice | None = None,
    ):
        self.call_sid = start.call_sid or start.parameters.get("callSid", "")
        self.raw_caller = start.parameters.get("caller", "")
        self.caller = national_number(self.raw_caller)
        self.sender = f"voice:{self.caller or self.call_sid}"
        self.metadata = {"channel": "voice", "caller": self.caller or "", "call_sid": self.call_sid}
        self.config, self.record = config, record
        self._rasa, self._lookup, self._recognizer, self._hangup = rasa, lookup, recognizer, hangup
        self._voice = voice
        self.speaker = Speaker(send, start.stream_sid, voice, lead_ms=config.playback_lead_ms, on_idle=self._idle)
        self.keypad = Keypad()
        self.vad = VoiceActivity(min_frames=BARGE_IN_FRAMES)
        self._inputs: asyncio.Queue[CallerInput] = asyncio.Queue()
        self._dialogue: asyncio.Task | None = None
        self._no_input: asyncio.Task | None = None
        self._digit_pause: asyncio.Task | None = None
        self._in_turn = False
        self._speaking = False  # VAD state of the caller
        self._silences = 0  # no-input timeouts in a row
        self._hangup_when_idle = False
        self._hangup_task: asyncio.Task | None = None
        self.ended = False
        self.simple = False  # a known elderly caller: the simple menu, a slower voice, more time to answer
        self._simple_voice = simple_voice
        record.caller, record.sender = record.caller or self.caller, self.sender

    def _told_outage(self) -> None:
        """The outage notice is being spoken: the caller's messages say so to the analytics feed."""
        self.metadata["told_outage"] = True

    # --- driven by the receive loop -------------------------------------------------------------------
    async def begin(self) -> None:
        """Look the caller up (and any form they left half-done), greet, then take turns."""
        pending = self._rasa.pending_form(self.sender) if self.caller else asyncio.sleep(0, None)
        caller, resume = await asyncio.gather(self._lookup.find(self.raw_caller), pending)
        if caller.customer:
            self.record.customer = caller.customer.account_no
        if caller.outage is not None:
            self._voice.expect_name(caller.outage.area_name)  # the replies about it name the area
        if prompts.wants_simple_menu(caller.customer):
            self.simple = True
            if self._simple_voice is not None:
                self.speaker.use(self._simple_voice)
        text = prompts.greeting(
            caller.customer,
            caller.outage,
            dtmf_only=self._recognizer is None,
            resume_question=resume.question if resume else None,
        )
        self.keypad.expect(resume.question if resume else "")
        told = caller.customer is not None and caller.outage is not None  # the greeting tells the outage first
        self.say(text, on_start=self._told_outage if told else None)
        self._dialogue = asyncio.create_task(self._dialogue_loop(), name=f"dialogue-{self.call_sid}")

    async def on_media(self, audio: bytes) -> None:
        speaking = self.vad.update_ulaw(audio)
        if speaking and not self._speaking:
            await self._caller_started("voice")
        elif self._speaking and not speaking and self._waiting_for_caller():
            self._start_no_input()  # a noise, or speech the recogniser made nothing of
        self._speaking = speaking
        if self._recognizer is None:
            return
        for event in await self._recognizer.feed_ulaw(audio):
            text = event.text.strip()
            if event.kind == "partial" and text:
                await self._caller_started("partial")
            elif event.kind == "final" and text:
                self.keypad.spoke()
                await self._submit(text, "speech")

    async def on_dtmf(self, key: str) -> None:
        self.record.note("caller", f"[按键 {key}]")
        result = self.keypad.press(key)
        if not (result.text or result.pending or result.unknown):
            return  # the # that closes an entry already sent: the next prompt plays on, uncut
        await self._caller_started("key")
        if result.text:
            self._cancel("_digit_pause")
            await self._submit(result.text, "dtmf")
        elif result.pending:
            self._restart("_digit_pause", self._after_digit_pause())
        elif result.unknown and self.keypad.mode is None:
            self.say(prompts.UNKNOWN_KEY_SIMPLE if self.simple else prompts.UNKNOWN_KEY)

    def on_mark(self, name: str) -> None:
        """Twilio played a prompt to its end (or dropped it on `clear`)."""
        if self.speaker.heard(name) is not None:
            self.record.note("system", f"played {name}")

    async def end(self, reason: str) -> None:
        if self.ended:
            return
        self.ended = True
        self.record.note("system", f"通话结束: {reason}")
        for name in ("_no_input", "_digit_pause", "_dialogue"):
            self._cancel(name)
        await self.speaker.close()
        if self._recognizer is not None:
            try:
                await self._recognizer.finish()  # the caller is gone: a last partial utterance is dropped
            except Exception:
                log.exception("recogniser did not finish cleanly")

    # --- speaking --------------------------------------------------------------------------------------
    def say(self, text: str, *, on_start: Callable[[], None] | None = None) -> None:
        self.record.note("bot", text)
        self.speaker.play(text, on_start=on_start)

    def _idle(self) -> None:
        """The speaker played everything out."""
        if self._hangup_when_idle:
            self._hangup_task = asyncio.create_task(self._hangup(), name=f"hangup-{self.call_sid}")
        elif self._waiting_for_caller():
            self._start_no_input()

    def _waiting_for_caller(self) -> bool:
        return (
            not self._in_turn
            and self._inputs.empty()
            and not self.speaker.busy
            and not self.keypad.digits
            and not self.ended
        )

    # --- caller input ----------------------------------------------------------------------------------
    async def _caller_started(self, how: str) -> None:
        """Speech (VAD or a partial) or a key: stop the silence timer, and cut the prompt (barge-in)."""
        self._cancel("_no_input")
        if self.speaker.busy and await self.speaker.interrupt():
            self.record.note("system", f"barge-in ({how})")

    async def _submit(self, text: str, source: str) -> None:
        self._cancel("_no_input")
        self._silences = 0
        await self.speaker.interrupt()
        self.record.note("caller", text)
        self._inputs.put_nowait(CallerInput(text, source, asyncio.get_running_loop().time()))

    async def _after_digit_pause(self) -> None:
        await asyncio.sleep(self.config.inter_digit_seconds)
        digits = self.keypad.flush()
        if digits:
            await self._submit(digits, "dtmf")
        elif self._waiting_for_caller():
            self._start_no_input()

    def _start_no_input(self) -> None:
        self._restart("_no_input", self._after_silence())

    async def _after_silence(self) -> None:
        await asyncio.sleep(self.config.no_input_seconds * (SIMPLE_PATIENCE if self.simple else 1))
        self._silences += 1
        if self._silences <= self.config.no_input_reprompts:
            self.say(prompts.NO_INPUT[min(self._silences, len(prompts.NO_INPUT)) - 1])
        else:
            self._hangup_when_idle = True
            self.say(prompts.NO_INPUT_GOODBYE)

    # --- the dialogue ----------------------------------------------------------------------------------
    async def _dialogue_loop(self) -> None:
        while True:
            item = await self._inputs.get()
            self._in_turn = True
            try:
                await self._take_turn(item)
            except Exception:  # one bad turn must not leave the caller talking to nobody
                log.exception("%s: turn %r failed", self.call_sid, item.text[:20])
                self.say(prompts.BOT_UNAVAILABLE)
            finally:
                self._in_turn = False

    async def _take_turn(self, item: CallerInput) -> None:
        loop = asyncio.get_running_loop()
        turn = Turn(item.text, item.source)
        self.record.turns.append(turn)
        sent = loop.time()
        try:
            messages = await self._rasa.send(self.sender, item.text, self.metadata)
        except RasaUnavailable as e:
            log.warning("%s: %s", self.call_sid, e)
            messages = [{"text": prompts.BOT_UNAVAILABLE}]
        turn.rasa_ms = (loop.time() - sent) * 1000
        handoff = handoff_of(messages)
        if handoff:  # an agent takes the call: say where they are in the queue, then leave the stream
            self.record.transfer_case = int(handoff.get("case") or 0) or None
            self._hangup_when_idle = True
        turn.bot = [t for t in (prompts.spoken_message(m) for m in messages) if t]
        if not self._inputs.empty():  # the caller already said something else: answer that instead
            return
        if not turn.bot:
            self._in_turn = False
            self._idle()
            return
        self.keypad.expect(turn.bot[-1])
        if turn.bot[-1].rstrip("。！!").endswith("再见"):
            self._hangup_when_idle = True
            # a request served and a goodbye (not a caller who only said goodbye): rated after the stream
            self.record.bot_completed = len(self.record.turns) >= rating.MIN_TURNS
        for i, text in enumerate(turn.bot):
            self.say(text, on_start=self._latency_probe(turn, item) if i == 0 else None)

    def _latency_probe(self, turn: Turn, item: CallerInput) -> Callable[[], None]:
        def first_frame() -> None:
            turn.first_audio_ms = (asyncio.get_running_loop().time() - item.at) * 1000
            log.info(
                "%s turn %r: rasa %.0f ms, first audio %.0f ms",
                self.call_sid,
                item.text[:20],
                turn.rasa_ms or 0,
                turn.first_audio_ms,
            )

        return first_frame

    # --- tasks -----------------------------------------------------------------------------------------
    def _restart(self, name: str, coro) -> None:
        self._cancel(name)
        setattr(self, name, asyncio.create_task(coro, name=f"{name}-{self.call_sid}"))

    def _cancel(self, name: str) -> None:
        task = getattr(self, name)
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        setattr(self, name, None)
