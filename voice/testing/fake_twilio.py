"""A simulated Twilio: signed webhooks and a Media Streams websocket client, playing Twilio's side of calls.

Used by `python -m voice.testing.simulate`, the benchmarks and the tests: everything behind the gateway is real,
only what Twilio would do is played here.

    async with open_gateway(None, rasa_url, voice) as h:        # the gateway on a free local port
        async with h.dial("+8613912340001") as tw:            # signed /voice/incoming, TwiML, stream
            await tw.press("2")
            ...
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import secrets
import socket
import xml.etree.ElementTree as ET
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import numpy as np
from aiohttp import web
from twilio.request_validator import RequestValidator

from backend.customer_facts import BackendCustomerFacts
from voice import call_token
from voice.asr import ScriptedRecognizer
from voice.audio import pcm16_to_ulaw
from voice.config import VoiceConfig
from voice.gateway import CONFIG, SESSIONS, create_app

SILENCE = b"\xff" * 160  # 20 ms of μ-law silence


def tone(seconds: float = 0.02, dbfs: float = -12.0, hz: float = 440.0) -> bytes:
    """A loud μ-law tone: what the VAD takes for the caller speaking."""
    t = np.arange(int(8000 * seconds)) / 8000
    return pcm16_to_ulaw((32767 * 10 ** (dbfs / 20) * np.sin(2 * math.pi * hz * t)).astype(np.int16))


def signature(url: str, params: dict, token: str) -> str:
    """X-Twilio-Signature of a request to `url` with form `params` (empty for the stream upgrade)."""
    return RequestValidator(token).compute_signature(url, params)


async def post_signed(
    http: aiohttp.ClientSession,
    base: str,
    path: str,
    params: dict,
    *,
    token: str,
    public_url: str,
    sign_url: str | None = None,
    headers: dict | None = None,
):
    """POST a webhook to `base + path` signed as Twilio signs it (for `public_url + path`): (status, body)."""
    sig = signature(sign_url or public_url + path, params, token)
    hdrs = {"X-Twilio-Signature": sig} if headers is None else headers
    async with http.post(base + path, data=params, headers=hdrs) as r:
        return r.status, await r.text()


@dataclass
class Received:
    at: float  # loop time
    msg: dict


@dataclass
class FakeTwilioCall:
    """One call's media stream as Twilio drives it: start, 20 ms inbound frames (silence unless the caller
    plays audio), DTMF, marks echoed. With `record_audio`, keeps the inbound frames it sent (`sent`)."""

    ws: aiohttp.ClientWebSocketResponse
    call_sid: str
    stream_sid: str
    received: list[Received] = field(default_factory=list)
    echo_marks: bool = True
    send_silence: bool = True
    record_audio: bool = False
    sent: list[tuple[float, bytes]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _seq: int = 0
    _outbox: bytearray = field(default_factory=bytearray)
    _drained: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, msg: dict | str) -> None:
        await self.ws.send_str(msg if isinstance(msg, str) else json.dumps(msg))

    def _next(self) -> str:
        self._seq += 1
        return str(self._seq)

    async def start(self, caller: str | None, parameters: dict | None = None) -> None:
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        params = parameters or {"callSid": self.call_sid, **({"caller": caller} if caller else {})}
        await self.send(
            {
                "event": "start",
                "sequenceNumber": self._next(),
                "streamSid": self.stream_sid,
                "start": {
                    "accountSid": "AC00",
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": params,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            }
        )

    async def media(self, ulaw: bytes) -> None:
        await self.send(
            {
                "event": "media",
                "sequenceNumber": self._next(),
                "streamSid": self.stream_sid,
                "media": {
                    "track": "inbound",
                    "chunk": self._seq,
                    "timestamp": "0",
                    "payload": base64.b64encode(ulaw).decode(),
                },
            }
        )

    async def play(self, ulaw: bytes) -> None:
        """The caller's microphone carries `ulaw` (8 kHz μ-law) in real time; returns once it is all sent."""
        if not self.send_silence:
            raise RuntimeError("play() needs the frame feeder (send_silence=True)")
        self._outbox += ulaw
        self._drained.clear()
        await self._drained.wait()

    async def speak(self, seconds: float = 0.5) -> None:
        """The caller talks (a loud tone) for `seconds`: the 20 ms frames carry it instead of silence."""
        await self.play(tone(seconds))

    async def press(self, keys: str, gap: float = 0.05) -> None:
        for key in keys:
            await self.send(
                {
                    "event": "dtmf",
                    "streamSid": self.stream_sid,
                    "sequenceNumber": self._next(),
                    "dtmf": {"track": "inbound_track", "digit": key},
                }
            )
            await asyncio.sleep(gap)

    async def stop(self) -> None:
        await self.send(
            {
                "event": "stop",
                "sequenceNumber": self._next(),
                "streamSid": self.stream_sid,
                "stop": {"accountSid": "AC00", "callSid": self.call_sid},
            }
        )

    async def run(self) -> None:
        """Read what the gateway sends (echo marks like Twilio); meanwhile send a 20 ms frame each 20 ms."""
        feeder = asyncio.create_task(self._feed()) if self.send_silence else None
        loop = asyncio.get_running_loop()
        try:
            async for m in self.ws:
                if m.type != aiohttp.WSMsgType.TEXT:
                    break
                msg = json.loads(m.data)
                self.received.append(Received(loop.time(), msg))
                if msg["event"] == "mark" and self.echo_marks:
                    await self.send(
                        {
                            "event": "mark",
                            "sequenceNumber": self._next(),
                            "streamSid": self.stream_sid,
                            "mark": msg["mark"],
                        }
                    )
        finally:
            self.closed.set()
            self._drained.set()
            if feeder:
                feeder.cancel()

    async def _feed(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not self.ws.closed:
            frame = bytes(self._outbox[:160]).ljust(160, b"\xff") if self._outbox else SILENCE
            del self._outbox[:160]
            if not self._outbox:
                self._drained.set()
            try:
                await self.media(frame)
            except (ConnectionError, RuntimeError):
                return
            if self.record_audio:
                self.sent.append((loop.time(), frame))
            next_at += 0.02  # paced on the clock, not on sleep's drift
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    def events(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.msg["event"] == kind]

    async def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"timed out; received {[r.msg['event'] for r in self.received][-20:]}")
            await asyncio.sleep(0.02)

    async def wait_marks(self, n: int, timeout: float = 30.0) -> None:
        await self.wait_for(lambda: len(self.events("mark")) >= n, timeout)


@dataclass
class Harness:
    """A running gateway and Twilio's account with it (auth token, public URL)."""

    app: web.Application
    base: str  # where the gateway listens (http://127.0.0.1:port)
    rasa: object  # free for the caller's use (the tests keep their scripted Rasa here)
    recognizers: list  # one per call, in order
    http: aiohttp.ClientSession
    token: str = ""
    public_url: str = ""

    @property
    def stream_url(self) -> str:
        return self.app[CONFIG].stream_url

    async def post(self, path: str, params: dict, **kw):
        """A signed webhook (`sign_url`, `token`, `headers` override the signing): (status, body)."""
        kw.setdefault("token", self.token)
        return await post_signed(self.http, self.base, path, params, public_url=self.public_url, **kw)

    @asynccontextmanager
    async def call(
        self,
        caller: str | None = "+8613912340001",
        call_sid: str = "CA0001",
        *,
        signed: bool = True,
        parameters: dict | None = None,
        **options,
    ):
        """The media stream of one call (no webhook before it): yields the FakeTwilioCall."""
        headers = {"X-Twilio-Signature": signature(self.stream_url, {}, self.token)} if signed else {}
        ws = await self.http.ws_connect(self.base + "/voice/stream", headers=headers)
        fake = FakeTwilioCall(ws, call_sid, "MZ" + call_sid[2:], **options)
        reader = asyncio.create_task(fake.run())
        if parameters is None and caller and signed:  # as if /voice/incoming had answered with its TwiML
            parameters = {
                "callSid": call_sid,
                "caller": caller,
                "token": call_token.mint(self.app[CONFIG].stream_secret, call_sid, caller),
            }
        await fake.start(caller, parameters)
        try:
            yield fake
        finally:
            if not ws.closed:
                await fake.stop()
                await ws.close()
            await asyncio.wait_for(reader, 10)

    @asynccontextmanager
    async def dial(self, caller: str, call_sid: str | None = None, to: str = "+8695598", **options):
        """A whole inbound call as Twilio places it: signed /voice/incoming, the TwiML's <Stream> opened
        with its parameters, and a signed `completed` status callback after hang-up."""
        call_sid = call_sid or "CA" + secrets.token_hex(16)
        form = {
            "CallSid": call_sid,
            "AccountSid": "AC00",
            "From": caller,
            "To": to,
            "CallStatus": "ringing",
            "Direction": "inbound",
        }
        status, body = await self.post("/voice/incoming", form)
        if status != 200:
            raise RuntimeError(f"/voice/incoming answered {status}: {body[:200]}")
        stream = ET.fromstring(body).find("./Connect/Stream")
        if stream is None or stream.get("url") != self.stream_url:
            raise RuntimeError(f"unexpected TwiML: {body[:300]}")
        params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with self.call(caller, call_sid, parameters=params, **options) as fake:
                yield fake
        finally:
            await self.post(
                "/voice/status", {**form, "CallStatus": "completed", "CallDuration": str(round(loop.time() - started))}
            )

    def session(self, call_sid: str = "CA0001"):
        return self.app[SESSIONS].get(call_sid)


@asynccontextmanager
async def open_gateway(
    cis,
    rasa_url: str,
    voice,
    *,
    speech: bool = True,
    recognizer_factory=None,
    token: str | None = None,
    public_url: str | None = None,
    recordings=None,
    **overrides,
):
    """The gateway on a free local port, behind a simulated Twilio account.

    `cis` None: the back end of `db_url` (an override; default P95598_DB_URL). Recognisers: each call gets
    `recognizer_factory()` if given, else a ScriptedRecognizer (`speech`; transcripts are injected at the
    ASR boundary with `h.recognizers[-1].inject(text)`), else none (DTMF only). `token`: Twilio's auth
    token (default: a fresh random one); `public_url`: the URL Twilio signs (default: the local address).
    `recordings`: a RecordingStore to keep the calls' recordings in (default: none with `cis`).
    """
    recognizers: list = []

    def recognizer():
        recognizers.append(recognizer_factory() if recognizer_factory else ScriptedRecognizer())
        return recognizers[-1]

    token = token or secrets.token_hex(16)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = {"no_input_seconds": 60.0, **overrides}
    if cis is None:
        config = VoiceConfig.from_env(public_url=public_url or base, auth_token=token, rasa_url=rasa_url, **settings)
    else:
        config = VoiceConfig(
            public_url=public_url or base, auth_token=token, db_url="unused", rasa_url=rasa_url, **settings
        )
    factory = recognizer if (speech or recognizer_factory) else None
    facts = BackendCustomerFacts.over(cis) if cis is not None else None
    app = create_app(config, facts=facts, voice=voice, recognizer_factory=factory, recordings=recordings)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        async with aiohttp.ClientSession() as http:
            yield Harness(runner.app, base, None, recognizers, http, token, config.public_url)
    finally:
        await runner.cleanup()
        sock.close()
