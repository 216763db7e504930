"""Call recording in the gateway: one `Recordings` object on the app (`RECORDINGS`), opened in cleanup_ctx.

- the bot leg: `start(call_sid, …)` when a Media Stream starts gives the call's `CallRecorder` (voice/recorder.py);
  the gateway hands it every inbound frame and every message it sends; `finish(…)` at the stream's end closes
  the WAV and writes the `Recording` row with the transcript from the call's own record;
- the agent leg: `status` answers Twilio's recording callbacks (voice/recording_callbacks.py);
- retention: a task deletes expired audio every `recording_sweep_seconds` (the rows stay, marked deleted).

Off (no recordings directory, or no database to note them in): calls go on unrecorded, callbacks get a 404
once their signature is checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from backend.db import make_engine, make_sessionmaker
from backend.models_recordings import RecordingLeg
from voice.config import VoiceConfig
from voice.recorder import CallRecorder
from voice.recording_callbacks import AgentLegRecordings, SignedForm
from voice.recording_store import RecordingStore
from voice.recording_transcript import bot_leg_transcript
from voice.transcribe import Transcriber

log = logging.getLogger(__name__)


@dataclass
class BotLeg:
    recorder: CallRecorder
    relative: str
    started: float  # unix time of the first frame


@dataclass
class Recordings:
    signed_form: SignedForm
    store: RecordingStore | None = None
    agent: AgentLegRecordings | None = None
    calls: dict[str, BotLeg] = field(default_factory=dict)  # CallSid -> its bot leg, while the stream is open

    def start(self, call_sid: str, prompt_text: Callable[[str], str | None]) -> CallRecorder | None:
        if self.store is None or not call_sid:
            return None
        relative = self.store.new_path(RecordingLeg.BOT, call_sid)
        try:
            recorder = CallRecorder(self.store.absolute(relative), prompt_text)
        except OSError as e:  # a full or read-only disk: the call goes on unrecorded
            log.error("call %s not recorded: %s", call_sid, e)
            return None
        self.calls[call_sid] = BotLeg(recorder, relative, time.time())
        return recorder

    def recorder(self, call_sid: str) -> CallRecorder | None:
        leg = self.calls.get(call_sid)
        return leg.recorder if leg is not None else None

    async def finish(self, call_sid: str, conversation_id: str | None, events: list[tuple[str, str, float]]) -> None:
        """The stream ended: close the file, and note it with its transcript (in a thread: disk and database)."""
        leg = self.calls.pop(call_sid, None)
        if leg is None or self.store is None:
            return
        store = self.store
        try:
            duration = await asyncio.to_thread(leg.recorder.close)
            recorder = leg.recorder
            transcript = bot_leg_transcript(
                [e for e in events if e[2] >= leg.started - 1], recorder.call_time, recorder.speech, recorder.prompts
            )
            await asyncio.to_thread(store.add_bot_leg, call_sid, conversation_id, leg.relative, duration, transcript)
        except Exception:  # noqa: BLE001 - the call is over whatever happens to its recording
            log.exception("bot leg of %s not stored", call_sid)

    async def status(self, request: web.Request) -> web.Response:
        if self.agent is None:
            if await self.signed_form(request) is None:
                raise web.HTTPForbidden(text="invalid signature")
            raise web.HTTPNotFound(text="call recording is off on this gateway")
        return await self.agent.status(request)


RECORDINGS = web.AppKey("recordings", Recordings)


async def recording_status(request: web.Request) -> web.Response:
    return await request.app[RECORDINGS].status(request)


def recordings_context(
    config: VoiceConfig,
    store: RecordingStore | None,
    signed_form: SignedForm,
    conversation_of: Callable[[str], str | None],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup_ctx of call recording: its store (over `config.db_url` unless given), the HTTP session that
    fetches Twilio's recordings, the retention sweep."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        with contextlib.ExitStack() as owned:
            own = store if store is not None else _own_store(config, owned)
            recordings = app[RECORDINGS] = Recordings(signed_form, own)
            if own is None:
                yield
                return
            transcriber = Transcriber(config.vosk_model) if config.vosk_model else None

            def conversation(call_sid: str) -> str | None:
                return conversation_of(call_sid) or own.conversation_of(call_sid)

            async with aiohttp.ClientSession() as http:
                recordings.agent = AgentLegRecordings(
                    own,
                    http,
                    signed_form=signed_form,
                    api_base=config.twilio_api_base,
                    account_sid=config.account_sid,
                    auth_token=config.auth_token,
                    transcriber=transcriber,
                    conversation_of=conversation,
                )
                recordings.agent.resume(await asyncio.to_thread(own.unfetched_agent_legs))
                sweep = asyncio.create_task(retention_sweep(own, config.recording_sweep_seconds))
                try:
                    yield
                finally:
                    sweep.cancel()
                    await asyncio.gather(sweep, return_exceptions=True)
                    await recordings.agent.close()
                    for call_sid in list(recordings.calls):
                        await recordings.finish(call_sid, None, [])

    return ctx


def _own_store(config: VoiceConfig, owned: contextlib.ExitStack) -> RecordingStore | None:
    if not config.recordings_dir:
        log.info("call recording is off (P95598_RECORDINGS_DIR is empty)")
        return None
    if "://" not in config.db_url:
        log.warning("call recording is off: no database URL to note recordings in")
        return None
    engine = make_engine(config.db_url)
    owned.callback(engine.dispose)
    return RecordingStore(make_sessionmaker(engine), Path(config.recordings_dir), config.recording_days)


async def retention_sweep(store: RecordingStore, interval: float) -> None:
    """Deletes expired recordings now and then every `interval` seconds, for the gateway's life."""
    while True:
        try:
            deleted = await asyncio.to_thread(store.delete_expired)
            if deleted:
                log.info("deleted the audio of %d expired recordings", len(deleted))
        except Exception:  # noqa: BLE001 - a database hiccup: the next round tries again
            log.exception("retention sweep failed")
        await asyncio.sleep(interval)
