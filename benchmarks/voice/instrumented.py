"""The voice gateway with measurement hooks, run by the voice benchmark as its own process.

    python -m benchmarks.voice.instrumented --port P --token T --rasa-url URL --db-url URL --asr vosk|scripted

It is `voice.gateway.create_app` unchanged, with the product's own Vosk factory (model, thread pool) or
ScriptedRecognizer per call, and the product's TTS voice and prompt cache. What is added only observes:

* every recogniser is wrapped to time its feeds: lag = when a frame's feed finished minus when that frame
  was due on the wire (first frame + 20 ms per frame), i.e. how far recognition is behind the caller;
* the voice records, per prompt, whether it came from the prompt cache and when its first chunk was ready;
* an asyncio ticker (every 10 ms) records the event loop's lag;
* `/bench/*` routes: stats (RSS, CPU, loop lag, per-call ASR lag, frames sent), a call's turns and whether
  it is still speaking, transcript injection at the ASR boundary (scripted mode), a reset of the counters.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import time

from aiohttp import web

from benchmarks.common import percentile
from voice.asr import ScriptedRecognizer
from voice.audio import SAMPLE_RATE
from voice.config import VoiceConfig
from voice.gateway import CALLS, SERVICES, SESSIONS, _default_voice, _vosk_factory, create_app
from voice.playback import Voice

TICK = 0.010
FRAME = 0.020


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


class TimedRecognizer:
    """Wraps a recogniser (same interface); records when each feed finished, to see how far recognition
    runs behind the caller's audio."""

    def __init__(self, inner):
        self.inner = inner
        self.done: list[float] = []  # loop time each feed finished
        self.feed: list[float] = []  # seconds each feed took (including waiting for a decoder thread)
        self.audio = 0.0
        self.finals = 0
        self.partials = 0

    def inject(self, text: str) -> None:
        self.inner.inject(text)

    async def feed_ulaw(self, payload: bytes):
        loop = asyncio.get_running_loop()
        started = loop.time()
        events = await self.inner.feed_ulaw(payload)
        done = loop.time()
        self.audio += len(payload) / SAMPLE_RATE
        self.done.append(done)
        self.feed.append(done - started)
        self.finals += sum(e.kind == "final" for e in events)
        self.partials += sum(e.kind == "partial" for e in events)
        return events

    async def finish(self):
        return await self.inner.finish()

    def lags(self) -> list[float]:
        """Per frame: when its feed finished minus when it was due. Frames come every 20 ms; frame k is due
        at t0 + k·20 ms, t0 the earliest start consistent with every frame (the least-delayed frame has 0)."""
        t0 = min((d - k * FRAME for k, d in enumerate(self.done)), default=0.0)
        return [d - k * FRAME - t0 for k, d in enumerate(self.done)]

    def summary(self, since: float = float("-inf")) -> dict:
        """`since` (loop time): `lag_ms_max_since` covers the frames whose feed finished after it."""
        lags = [x * 1000 for x in self.lags()]
        recent = [lag for lag, done in zip(lags, self.done) if done >= since]
        later = lags[int(2 / FRAME) :]  # after the call's first 2 s
        tail = lags[-50:]
        return {
            "frames": len(lags),
            "audio_seconds": round(self.audio, 2),
            "lag_ms_p50": percentile(lags, 50),
            "lag_ms_p95": percentile(lags, 95),
            "lag_ms_p99": percentile(lags, 99),
            "lag_ms_max": round(max(lags, default=0.0), 1),
            "lag_ms_max_after_2s": round(max(later, default=0.0), 1),
            "lag_ms_max_since": round(max(recent, default=0.0), 1),
            "lag_ms_last_second": round(sum(tail) / len(tail), 1) if tail else 0.0,
            "lag_ms_max_by_second": [round(max(lags[i : i + 50])) for i in range(0, len(lags), 50)],
            "feed_ms_p99": percentile([x * 1000 for x in self.feed], 99),
            "finals": self.finals,
            "partials": self.partials,
        }


class MeasuredVoice(Voice):
    """The product's Voice; notes per prompt: cache hit, time to its first chunk, audio and synthesis time."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.prompts: list[dict] = []

    async def chunks(self, text: str):
        loop = asyncio.get_running_loop()
        started = loop.time()
        entry = None
        hits = getattr(self, "hits", 0)  # the voice's own count of pieces played from a cache, if it keeps one
        async with contextlib.aclosing(super().chunks(text)) as chunks:
            async for chunk in chunks:
                if entry is None:
                    entry = {
                        "text": text,
                        "at": started,
                        "first_chunk_ms": round((loop.time() - started) * 1000, 1),
                        "cached": self.cached(text),
                        "first_piece_cached": getattr(self, "hits", 0) > hits,
                        "audio_seconds": 0.0,
                    }
                    entry["first_piece_cached"] = entry["first_piece_cached"] or entry["cached"]
                    self.prompts.append(entry)
                entry["audio_seconds"] = round(entry["audio_seconds"] + len(chunk) / SAMPLE_RATE, 3)
                yield chunk


def make_voice(config: VoiceConfig) -> MeasuredVoice:
    """voice.gateway._default_voice: the configured TTS engine, fixed prompts cached, number clips."""
    return _default_voice(config, MeasuredVoice)


class Probe:
    def __init__(self):
        self.ticks: list[tuple[float, float]] = []  # (seconds since reset, lag in seconds) of every tick
        self.recognizers: list[TimedRecognizer] = []
        self.cpu0 = sum(os.times()[:2])
        self.wall0 = time.monotonic()

    async def ticker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(TICK)
            self.ticks.append((time.monotonic() - self.wall0, loop.time() - t - TICK))

    def reset(self) -> None:
        self.ticks.clear()
        self.cpu0, self.wall0 = sum(os.times()[:2]), time.monotonic()


PROBE = web.AppKey("probe", Probe)


def routes(app: web.Application) -> None:
    probe = app[PROBE]

    async def stats(request: web.Request) -> web.Response:
        voice: MeasuredVoice = app[SERVICES].voice
        since = float(request.query.get("since", 0))  # loop lag of the ticks after this (s since reset)
        lags = [lag * 1000 for t, lag in probe.ticks if t >= since]
        stalls = [(round(t, 2), round(lag * 1000, 1)) for t, lag in probe.ticks if lag > 0.020]
        ready = voice.cache is None or all(voice.cached(t) for t in voice.reusable)
        ready = ready and (voice.clips is None or voice.clips.rendered())  # else clips render beside the turns
        return web.json_response(
            {
                "rss_mb": round(rss_mb(), 1),
                "cpu_seconds": round(sum(os.times()[:2]) - probe.cpu0, 2),
                "wall_seconds": round(time.monotonic() - probe.wall0, 2),
                "cache_ready": ready,
                "monotonic_at_reset": probe.wall0,
                "tts": voice.engine.name,
                "loop_lag_ms": {
                    "n": len(lags),
                    "p50": percentile(lags, 50),
                    "p99": percentile(lags, 99),
                    "max": round(max(lags, default=0.0), 1),
                    "stalls_over_20ms": stalls[-50:],
                },
                "calls_open": len(app[SESSIONS]),
                "speaker_frames": {sid: s.speaker.frames_sent for sid, s in app[SESSIONS].items()},
                "asr": [r.summary(probe.wall0 + since) for r in probe.recognizers],
                "prompts": [{k: v for k, v in p.items() if k != "at"} for p in voice.prompts],
                "voice_pieces": {"hits": getattr(voice, "hits", None), "misses": getattr(voice, "misses", None)},
            }
        )

    async def reset(request: web.Request) -> web.Response:
        probe.reset()
        app[SERVICES].voice.prompts.clear()
        return web.json_response({"ok": True})

    async def call(request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        record, session = app[CALLS].get(sid), app[SESSIONS].get(sid)
        if record is None:
            raise web.HTTPNotFound()
        return web.json_response(
            {
                "speaking": bool(session and session.speaker.busy),
                "said": record.said(),
                "turns": [
                    {"user": t.user, "bot": t.bot, "rasa_ms": t.rasa_ms, "first_audio_ms": t.first_audio_ms}
                    for t in record.turns
                ],
            }
        )

    async def inject(request: web.Request) -> web.Response:
        body = await request.json()
        probe.recognizers[-1].inject(body["text"])  # calls run one at a time in scripted mode
        return web.json_response({"ok": True})

    async def prompt_seconds(request: web.Request) -> web.Response:
        voice: MeasuredVoice = app[SERVICES].voice
        audio = await asyncio.to_thread(voice.cache.get, request.query["text"])
        return web.json_response({"seconds": len(audio) / SAMPLE_RATE})

    app.add_routes(
        [
            web.get("/bench/stats", stats),
            web.post("/bench/reset", reset),
            web.get("/bench/call/{sid}", call),
            web.post("/bench/inject", inject),
            web.get("/bench/prompt_seconds", prompt_seconds),
        ]
    )


def nice_vosk_factory(config: VoiceConfig, nice: int):
    """As voice.gateway._vosk_factory, but its decoder threads run at a lower priority than the event loop."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from voice.asr import AsrConfig, CallRecognizer, kaldi_input_rate, load_model

    model = load_model(config.vosk_model)
    asr_config = AsrConfig(model_path=config.vosk_model, sample_rate=kaldi_input_rate(config.vosk_model))
    executor = ThreadPoolExecutor(
        max_workers=os.cpu_count() or 2,
        thread_name_prefix="vosk",
        initializer=lambda: os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice),
    )
    return lambda: CallRecognizer(model, asr_config, executor=executor)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.voice.instrumented")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--rasa-url", required=True)
    p.add_argument("--db-url", default=None)
    p.add_argument("--asr", choices=["vosk", "scripted"], required=True)
    p.add_argument("--vosk-model", default=None)
    p.add_argument(
        "--decoder-nice",
        type=int,
        default=0,
        help="experiment: the Vosk decoder threads at this nice level (0: the product as it is)",
    )
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    base = f"http://127.0.0.1:{a.port}"
    config = VoiceConfig.from_env(
        public_url=base,
        auth_token=a.token,
        rasa_url=a.rasa_url,
        vosk_model=a.vosk_model,
        **({"db_url": a.db_url} if a.db_url else {}),
    )
    probe = Probe()
    if a.asr == "vosk" and a.decoder_nice:
        inner = nice_vosk_factory(config, a.decoder_nice)
    elif a.asr == "vosk":
        inner = asyncio.run(_vosk_factory(config))  # the product's factory: shared model, its own thread pool
    else:
        inner = ScriptedRecognizer

    def recognizer():
        probe.recognizers.append(TimedRecognizer(inner()))
        return probe.recognizers[-1]

    app = create_app(config, voice=make_voice(config), recognizer_factory=recognizer)
    app[PROBE] = probe
    routes(app)

    async def start_ticker(app: web.Application):
        task = asyncio.create_task(probe.ticker())
        yield
        task.cancel()

    app.cleanup_ctx.append(start_ticker)
    web.run_app(app, host="127.0.0.1", port=a.port, print=None)


if __name__ == "__main__":
    main()
