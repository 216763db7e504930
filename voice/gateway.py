"""The hotline's telephony edge: Twilio webhooks and the Media Streams websocket, as an aiohttp app.

    POST /voice/incoming   TwiML that connects the call's audio to wss://<public>/voice/stream
    POST /voice/status     call status callbacks (recorded in the call log)
    POST /voice/after-stream, /voice/after-queue   what follows the stream / the agents' queue (a rating)
    POST /voice/rating     the caller's key 1-5 for the rating question (voice/rating.py)
    POST /voice/recording-status   Twilio's recording callbacks for the agent leg (voice/recording_callbacks.py)
    GET  /voice/stream     the bidirectional Media Stream (websocket), one CallSession per call; both directions
                           are recorded (voice/recording_service.py)
    GET  /health

Every webhook must carry a valid X-Twilio-Signature for its public URL (403 otherwise, and nothing is
recorded). So must the websocket upgrade (Twilio signs it): a forged stream could claim any caller number
and be greeted with that customer's details. P95598_REQUIRE_STREAM_SIGNATURE=0 lets unsigned upgrades in
(local testing); a bad signature is always refused. Shared resources live on the app under AppKeys and
are opened/closed in cleanup_ctx.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from backend.customer_facts import customer_facts
from backend.ratelimit import SlidingWindow
from channels.phone import national_number
from channels.rasa import RasaClient, RasaUnavailable
from voice import call_token, prompts, rating, twiml
from voice.call import CallSession
from voice.call_log import CallLog
from voice.config import VoiceConfig
from voice.lookup import CallerLookup, CustomerFacts
from voice.playback import Voice
from voice.recording_service import RECORDINGS, recording_status, recordings_context
from voice.recording_store import RecordingStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    rasa: RasaClient
    facts: CustomerFacts  # the back end: callers, outages, handed-over calls
    lookup: CallerLookup
    voice: Voice
    recognizer_factory: Callable[[], object] | None  # None: DTMF only
    simple_voice: Voice | None = None  # slower, for the callers who get the simple menu (prompts.SIMPLE_SPEED)


CONFIG = web.AppKey("config", VoiceConfig)
PER_CALLER = web.AppKey("per_caller", SlidingWindow)
CALLS = web.AppKey("calls", CallLog)
SERVICES = web.AppKey("services", Services)
SESSIONS = web.AppKey("sessions", dict)  # CallSid -> CallSession, while the stream is open
SOCKETS = web.AppKey("sockets", weakref.WeakSet)


def create_app(
    config: VoiceConfig,
    *,
    facts: CustomerFacts | None = None,
    voice: Voice | None = None,
    recognizer_factory: Callable[[], object] | None = None,
    recordings: RecordingStore | None = None,
) -> web.Application:
    """The gateway. Without `facts` the back end of `config.db_url` answers; without `voice` the TTS
    package's engine is made from the config; without `recognizer_factory` a Vosk recogniser is made per
    call from `config.vosk_model` (none: DTMF only)."""
    app = web.Application()
    app[CONFIG], app[CALLS], app[SESSIONS], app[SOCKETS] = config, CallLog(), {}, weakref.WeakSet()
    app[PER_CALLER] = SlidingWindow(limit=6, window=60.0)
    app.cleanup_ctx.append(_services(facts, voice, recognizer_factory))
    app.cleanup_ctx.append(recordings_context(config, recordings, _signed_form, lambda sid: _sender(app, sid)))
    app.on_shutdown.append(_close_sockets)
    app.add_routes(
        [
            web.post("/voice/incoming", incoming),
            web.post("/voice/status", status),
            web.post("/voice/after-stream", after_stream),
            web.post("/voice/after-queue", after_queue),
            web.post("/voice/rating", rating_key),
            web.post("/voice/recording-status", recording_status),
            web.get("/voice/stream", stream),
            web.get("/health", health),
        ]
    )
    return app


def _services(facts: CustomerFacts | None, voice: Voice | None, recognizer_factory):
    async def ctx(app: web.Application):
        config = app[CONFIG]
        with contextlib.ExitStack() as owned:
            facts_ = facts or owned.enter_context(customer_facts(config.db_url))
            factory = recognizer_factory if recognizer_factory is not None else await _vosk_factory(config)
            speech = voice or await asyncio.to_thread(_default_voice, config)
            warm = asyncio.create_task(_warm_prompts(speech))
            async with aiohttp.ClientSession() as http:
                app[SERVICES] = Services(
                    RasaClient(http, config.rasa_url, config.rasa_timeout_seconds),
                    facts_,
                    CallerLookup(facts_),
                    speech,
                    factory,
                    speech.slower(prompts.SIMPLE_SPEED),
                )
                yield
            warm.cancel()

    return ctx


def _sender(app: web.Application, call_sid: str) -> str | None:
    record = app[CALLS].get(call_sid)
    return record.sender if record is not None else None


async def _vosk_factory(config: VoiceConfig):
    if not config.vosk_model:
        log.warning(
            "no Vosk model configured (P95598_VOSK_MODEL): speech cannot be recognised, calls run in DTMF-only mode"
        )
        return None
    from concurrent.futures import ThreadPoolExecutor

    from voice.asr import AsrConfig, CallRecognizer, kaldi_input_rate, load_model

    model = await asyncio.to_thread(load_model, config.vosk_model)
    # the rate the model was trained at: Vosk refuses to upsample 8 kHz for some models' feature config
    asr_config = AsrConfig(model_path=config.vosk_model, sample_rate=kaldi_input_rate(config.vosk_model))
    executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="vosk")
    return lambda: CallRecognizer(model, asr_config, executor=executor)


def _default_voice(config: VoiceConfig, voice_class: type[Voice] = Voice) -> Voice:
    """Kokoro when its model folder is there, else espeak-ng (the TTS package decides); fixed prompts cached,
    number and lead-in clips (voice.tts.clips) next to them."""
    from voice.tts import PromptCache, TtsConfig
    from voice.tts import make_engine as make_tts
    from voice.tts.clips import LEAD_INS, ClipLibrary

    engine = make_tts(TtsConfig.from_env(**({"model_dir": config.tts_model} if config.tts_model else {})))
    log.info("TTS engine %s (%s)", engine.name, getattr(engine, "voice", ""))
    cache = clips = None
    if config.prompt_cache_dir:
        cache = PromptCache(config.prompt_cache_dir, engine)
        clips = ClipLibrary(
            Path(config.prompt_cache_dir) / "clips", engine, phrases=[*LEAD_INS, *prompts.reply_phrases()]
        )
    return voice_class(engine, cache, reusable=[*prompts.FIXED, *prompts.bot_responses()], clips=clips)


async def _warm_prompts(voice: Voice) -> None:
    """Render the fixed prompts, then the clips, once (to disk), so the first caller does not wait for them."""
    if voice.cache is None:
        return
    try:
        n = await asyncio.to_thread(voice.warm)
        log.info("prompt cache ready (%d rendered now)", n)
    except Exception:
        log.exception("prompt cache warm-up failed; prompts are synthesised on first use")


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[SOCKETS]):
        await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")


# --- signatures ----------------------------------------------------------------------------------------
def _signed(request: web.Request, url: str, params: dict) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(request.app[CONFIG].auth_token).validate(url, params, signature)


async def _signed_form(request: web.Request) -> dict | None:
    """The POSTed form if its signature is valid for our public URL, else None."""
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    url = request.app[CONFIG].webhook_url(request.raw_path)  # as Twilio requested it (a rating key's %3A kept)
    if not _signed(request, url, form):
        log.warning("refused %s from %s: missing or bad X-Twilio-Signature", request.path, request.remote)
        return None
    return form


# --- webhooks ------------------------------------------------------------------------------------------
async def incoming(request: web.Request) -> web.Response:
    form = await _signed_form(request)
    if form is None:
        raise web.HTTPForbidden(text="invalid signature")
    call_sid, caller = form.get("CallSid", ""), form.get("From", "")
    if not call_sid:
        raise web.HTTPBadRequest(text="CallSid missing")
    if caller and not request.app[PER_CALLER].allow(caller):  # a dialler loop, not a person
        return web.Response(text=twiml.say_and_hang_up(prompts.TOO_MANY_CALLS), content_type="text/xml")
    request.app[CALLS].status(call_sid, form.get("CallStatus") or "ringing", caller)
    config = request.app[CONFIG]
    token = call_token.mint(config.stream_secret, call_sid, caller)
    body = twiml.connect_stream(
        config.stream_url,
        {"caller": caller, "callSid": call_sid, "token": token},
        action_url=config.webhook_url("/voice/after-stream"),
    )
    return web.Response(text=body, content_type="text/xml")


async def after_stream(request: web.Request) -> web.Response:
    """Twilio asks what follows the stream: the agents' queue if the bot handed the call over, else hang up."""
    form = await _signed_form(request)
    if form is None:
        raise web.HTTPForbidden(text="invalid signature")
    record = request.app[CALLS].get(form.get("CallSid", ""))
    case_id = record.transfer_case if record is not None else None
    number = national_number(form.get("From"))
    if case_id is None and number:
        # the stream ran on another gateway instance: the back end says whether the call was handed over
        case_id = await asyncio.to_thread(request.app[SERVICES].facts.handed_over_case, f"voice:{number}")
    if case_id:
        if record is not None:
            record.note("system", f"转人工排队，会话 #{case_id}")
        after = request.app[CONFIG].webhook_url(f"/voice/after-queue?case={int(case_id)}")
        recorded = request.app[RECORDINGS].agent is not None
        callback = request.app[CONFIG].webhook_url("/voice/recording-status") if recorded else None
        body = twiml.enqueue(request.app[CONFIG].agent_queue, case_id, action_url=after, recording_callback=callback)
    elif record is not None and record.bot_completed and record.sender:  # the bot served the caller: rate it
        body = await _rating_question(request, record.sender, None)
    else:
        body = twiml.hang_up()
    return web.Response(text=body, content_type="text/xml")


async def after_queue(request: web.Request) -> web.Response:
    """The call left the agents' queue: once the agent hung up on a bridged call the caller rates the service."""
    form = await _signed_form(request)
    if form is None:
        raise web.HTTPForbidden(text="invalid signature")
    case = request.query.get("case", "")
    if form.get("QueueResult") == "bridged" and case.isdigit():
        body = await _rating_question(request, None, int(case))
    else:  # hung up while waiting, queue full, an error: nothing to rate
        body = twiml.hang_up()
    return web.Response(text=body, content_type="text/xml")


async def _rating_question(request: web.Request, conversation: str | None, case_id: int | None) -> str:
    """The rating question (voice/rating.py) for the contact, asked in the back end; a hang-up if it cannot be."""
    try:
        key = await asyncio.to_thread(request.app[SERVICES].facts.ask_rating, conversation, case_id)
    except Exception:  # noqa: BLE001 - the caller must hear a goodbye, not silence, if the back end fails
        log.exception("rating not asked for %s / case %s", conversation, case_id)
        key = None
    if key is None:
        return twiml.hang_up()
    return rating.question(request.app[CONFIG].webhook_url(rating.action_path(key)))


async def rating_key(request: web.Request) -> web.Response:
    """The caller's key for the rating question: 1-5 is stored and thanked, anything else a plain goodbye."""
    form = await _signed_form(request)
    if form is None:
        raise web.HTTPForbidden(text="invalid signature")
    score, key = rating.score_of(form.get("Digits")), request.query.get("key", "")
    stored = False
    if score is not None and key:
        try:
            stored = await asyncio.to_thread(request.app[SERVICES].facts.answer_rating, key, score)
        except Exception:  # noqa: BLE001 - the caller still hears a polite goodbye
            log.exception("rating %s not stored", key)
    record = request.app[CALLS].get(form.get("CallSid", ""))
    if record is not None:
        record.note("caller", f"[评价按键 {form.get('Digits', '')}]")
    return web.Response(text=rating.answered(stored), content_type="text/xml")


async def status(request: web.Request) -> web.Response:
    form = await _signed_form(request)
    if form is None:
        raise web.HTTPForbidden(text="invalid signature")
    if form.get("CallSid") and form.get("CallStatus"):
        record = request.app[CALLS].status(form["CallSid"], form["CallStatus"], form.get("From"))
        if form.get("CallDuration"):
            record.note("system", f"通话时长 {form['CallDuration']} 秒")
        if record.ended and record.sender and not record.marked_ended:
            record.marked_ended = True  # a status Twilio sends again is not written twice
            try:
                await request.app[SERVICES].rasa.mark_ended(record.sender, "voice")
            except RasaUnavailable as e:  # the contact then closes after the idle limit
                log.warning("call %s: end not written: %s", record.call_sid, e)
    return web.Response(status=204)


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.json_response(
        {
            "ok": True,
            "asr": services.recognizer_factory is not None,
            "tts": type(services.voice.engine).__name__,
            "calls": len(request.app[SESSIONS]),
        }
    )


# --- the media stream ----------------------------------------------------------------------------------
async def stream(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    if "X-Twilio-Signature" in request.headers:
        urls = (config.stream_url + request.path_qs.removeprefix("/voice/stream"), config.webhook_url(request.path_qs))
        if not any(_signed(request, url, {}) for url in urls):
            log.warning("refused a media stream from %s: bad X-Twilio-Signature", request.remote)
            raise web.HTTPForbidden(text="invalid signature")
    elif config.require_stream_signature:
        log.warning("refused an unsigned media stream from %s", request.remote)
        raise web.HTTPForbidden(text="signature required")
    ws = web.WebSocketResponse(max_msg_size=1 << 20)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    session: CallSession | None = None
    reason = "websocket closed"
    try:
        async for msg in ws:  # the only reader of this socket
            if msg.type != aiohttp.WSMsgType.TEXT:
                log.warning("non-text frame (%s) skipped", msg.type)
                continue
            try:
                event = twiml.parse(msg.data)
            except twiml.ProtocolError as e:
                log.warning("malformed Media Streams frame skipped: %s", e)
                continue
            if event.kind == "stop":
                reason = "stop"
                break
            try:
                session = await _dispatch(request.app, ws, session, event)
            except Exception:
                log.exception("error handling %s event; the call goes on", event.kind)
    finally:
        if session is not None:
            request.app[SESSIONS].pop(session.call_sid, None)
            await session.end(reason)
            await request.app[RECORDINGS].finish(session.call_sid, session.sender, list(session.record.events))
        await ws.close()
    return ws


async def _dispatch(
    app: web.Application, ws: web.WebSocketResponse, session: CallSession | None, event: twiml.StreamEvent
) -> CallSession | None:
    if event.kind == "start":
        if session is not None:
            log.warning("second start event on one stream ignored")
            return session
        return await _start_call(app, ws, event)
    if session is None:
        if event.kind not in ("connected",):
            log.warning("%s before start skipped", event.kind)
        return None
    if event.kind == "media":
        recorder = app[RECORDINGS].recorder(session.call_sid)
        if recorder is not None:
            recorder.inbound(event.audio)
        await session.on_media(event.audio)
    elif event.kind == "dtmf":
        await session.on_dtmf(event.digit)
    elif event.kind == "mark":
        session.on_mark(event.mark)
    return session


async def _start_call(app: web.Application, ws: web.WebSocketResponse, event: twiml.StreamEvent) -> CallSession:
    services, config = app[SERVICES], app[CONFIG]
    call_sid = event.call_sid or event.parameters.get("callSid") or event.stream_sid
    caller = event.parameters.get("caller", "")
    if caller and not call_token.valid(config.stream_secret, event.parameters.get("token", ""), call_sid, caller):
        log.warning("media stream %s names a caller without a valid call token: treated as unknown", call_sid)
        event = dataclasses.replace(event, parameters={k: v for k, v in event.parameters.items() if k != "caller"})

    session: CallSession | None = None
    recorded_sid = event.call_sid or event.parameters.get("callSid", "")  # what the session is known by
    recorder = app[RECORDINGS].start(recorded_sid, lambda mark: session.speaker.marks.get(mark) if session else None)

    async def send(text: str) -> None:
        if ws.closed:
            raise ConnectionResetError("media stream closed")
        await ws.send_str(text)
        if recorder is not None:  # what was sent is what the caller hears
            recorder.outbound(text)

    async def hangup() -> None:  # closing the stream ends <Connect>; with no verb after it, the call ends
        await ws.close()

    record = app[CALLS].open(call_sid)
    session = CallSession(
        event,
        send=send,
        hangup=hangup,
        rasa=services.rasa,
        lookup=services.lookup,
        voice=services.voice,
        config=config,
        record=record,
        recognizer=services.recognizer_factory() if services.recognizer_factory else None,
        simple_voice=services.simple_voice,
    )
    app[SESSIONS][session.call_sid] = session
    await session.begin()
    return session
