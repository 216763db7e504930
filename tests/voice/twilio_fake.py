"""Twilio's side of a call, played by the tests: signed webhooks and a Media Streams websocket client.

Everything behind the gateway is real in the call-flow tests; only what Twilio would do is played here.
"""
from __future__ import annotations

import asyncio
import base64
import json
import math
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import numpy as np
from twilio.request_validator import RequestValidator

from aiohttp.test_utils import TestServer

from voice.asr import ScriptedRecognizer
from voice.audio import pcm16_to_ulaw
from voice.config import VoiceConfig
from voice.gateway import SESSIONS, create_app

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://voice.example.cn"
STREAM_URL = "wss://voice.example.cn/voice/stream"
SILENCE = b"\xff" * 160


def tone(seconds: float = 0.02, dbfs: float = -12.0, hz: float = 440.0) -> bytes:
    """A loud μ-law tone: what the VAD takes for the caller speaking."""
    t = np.arange(int(8000 * seconds)) / 8000
    return pcm16_to_ulaw((32767 * 10 ** (dbfs / 20) * np.sin(2 * math.pi * hz * t)).astype(np.int16))


def signature(url: str, params: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


async def post_signed(http: aiohttp.ClientSession, base: str, path: str, params: dict, *,
                      sign_url: str | None = None, token: str = TOKEN, headers: dict | None = None):
    sig = signature(sign_url or PUBLIC_URL + path, params, token)
    hdrs = {"X-Twilio-Signature": sig} if headers is None else headers
    async with http.post(base + path, data=params, headers=hdrs) as r:
        return r.status, await r.text()


@dataclass
class Received:
    at: float
    msg: dict


@dataclass
class FakeTwilioCall:
    """One call's media stream as Twilio drives it: start, 20 ms inbound frames, DTMF, marks echoed."""
    ws: aiohttp.ClientWebSocketResponse
    call_sid: str
    stream_sid: str
    received: list[Received] = field(default_factory=list)
    echo_marks: bool = True
    send_silence: bool = True
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _seq: int = 0
    _loud_frames: int = 0

    async def send(self, msg: dict | str) -> None:
        await self.ws.send_str(msg if isinstance(msg, str) else json.dumps(msg))

    def _next(self) -> str:
        self._seq += 1
        return str(self._seq)

    async def start(self, caller: str | None) -> None:
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        params = {"callSid": self.call_sid, **({"caller": caller} if caller else {})}
        await self.send({"event": "start", "sequenceNumber": self._next(), "streamSid": self.stream_sid,
                         "start": {"accountSid": "AC00", "streamSid": self.stream_sid, "callSid": self.call_sid,
                                   "tracks": ["inbound"], "customParameters": params,
                                   "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})

    async def media(self, ulaw: bytes) -> None:
        await self.send({"event": "media", "sequenceNumber": self._next(), "streamSid": self.stream_sid,
                         "media": {"track": "inbound", "chunk": self._seq, "timestamp": "0",
                                   "payload": base64.b64encode(ulaw).decode()}})

    async def speak(self, seconds: float = 0.5) -> None:
        """The caller talks (a loud tone) for `seconds`: the 20 ms frames carry it instead of silence."""
        self._loud_frames = int(seconds / 0.02)
        while self._loud_frames > 0:
            await asyncio.sleep(0.02)

    async def press(self, keys: str, gap: float = 0.05) -> None:
        for key in keys:
            await self.send({"event": "dtmf", "streamSid": self.stream_sid, "sequenceNumber": self._next(),
                             "dtmf": {"track": "inbound_track", "digit": key}})
            await asyncio.sleep(gap)

    async def stop(self) -> None:
        await self.send({"event": "stop", "sequenceNumber": self._next(), "streamSid": self.stream_sid,
                         "stop": {"accountSid": "AC00", "callSid": self.call_sid}})

    async def run(self) -> None:
        """Read what the gateway sends (echo marks like Twilio); meanwhile send 20 ms of silence each 20 ms."""
        feeder = asyncio.create_task(self._feed()) if self.send_silence else None
        loop = asyncio.get_running_loop()
        try:
            async for m in self.ws:
                if m.type != aiohttp.WSMsgType.TEXT:
                    break
                msg = json.loads(m.data)
                self.received.append(Received(loop.time(), msg))
                if msg["event"] == "mark" and self.echo_marks:
                    await self.send({"event": "mark", "sequenceNumber": self._next(), "streamSid": self.stream_sid,
                                     "mark": msg["mark"]})
        finally:
            self.closed.set()
            if feeder:
                feeder.cancel()

    async def _feed(self) -> None:
        while not self.ws.closed:
            loud, self._loud_frames = self._loud_frames > 0, max(0, self._loud_frames - 1)
            try:
                await self.media(tone() if loud else SILENCE)
            except (ConnectionError, RuntimeError):
                return
            await asyncio.sleep(0.02)

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
    app: web.Application
    base: str
    rasa: object   # the scripted Rasa of the protocol tests, or None for the real one
    recognizers: list[ScriptedRecognizer]
    http: aiohttp.ClientSession

    @asynccontextmanager
    async def call(self, caller: str | None = "+8613912340001", call_sid: str = "CA0001", *,
                   signed: bool = True, **options):
        headers = {"X-Twilio-Signature": signature(STREAM_URL, {})} if signed else {}
        ws = await self.http.ws_connect(self.base + "/voice/stream", headers=headers)
        fake = FakeTwilioCall(ws, call_sid, "MZ" + call_sid[2:], **options)
        reader = asyncio.create_task(fake.run())
        await fake.start(caller)
        try:
            yield fake
        finally:
            if not ws.closed:
                await fake.stop()
                await ws.close()
            await asyncio.wait_for(reader, 10)

    def session(self, call_sid: str = "CA0001"):
        return self.app[SESSIONS].get(call_sid)


@asynccontextmanager
async def open_gateway(cis, rasa_url: str, voice, *, speech: bool = True, **overrides):
    """The gateway on a free port; each call gets a ScriptedRecognizer (`speech`) so transcripts can be
    injected at the ASR boundary, or none (DTMF only)."""
    recognizers: list[ScriptedRecognizer] = []

    def recognizer():
        recognizers.append(ScriptedRecognizer())
        return recognizers[-1]

    config = VoiceConfig(public_url=PUBLIC_URL, auth_token=TOKEN, db_url="unused", rasa_url=rasa_url,
                         **{"no_input_seconds": 60.0, **overrides})
    server = TestServer(create_app(config, cis=cis, voice=voice, recognizer_factory=recognizer if speech else None))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Harness(server.app, str(server.make_url("")).rstrip("/"), None, recognizers, http)
    finally:
        await server.close()

