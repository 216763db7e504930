"""What Twilio speaks, with no I/O: the TwiML answer to a call and the Media Streams websocket messages.

Inbound messages are parsed into `StreamEvent`s (`parse`); outbound ones are built by `media`, `mark` and
`clear`. Audio is μ-law 8 kHz mono, base64 in JSON, 160 bytes = 20 ms per outbound frame.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from twilio.twiml.voice_response import Connect, Enqueue, Start, Stream, VoiceResponse

FRAME_BYTES = 160  # 20 ms of μ-law at 8 kHz
FRAME_SECONDS = 0.02
EVENTS = ("connected", "start", "media", "dtmf", "mark", "stop")


class ProtocolError(ValueError):
    """A frame that is not a Media Streams message we can use; the call goes on without it."""


def connect_stream(stream_url: str, parameters: dict[str, str], action_url: str | None = None) -> str:
    """<Response><Connect action=…><Stream url=…><Parameter…/></Stream></Connect></Response>: a bidirectional
    stream; when we close it, Twilio asks `action_url` what to do next (hang up, or queue for an agent)."""
    response, connect = VoiceResponse(), Connect(action=action_url) if action_url else Connect()
    stream = Stream(url=stream_url)
    for name, value in parameters.items():
        if value:
            stream.parameter(name=name, value=value)
    connect.append(stream)
    response.append(connect)
    return str(response)


def enqueue(queue: str, case_id: int, action_url: str | None = None, recording_callback: str | None = None) -> str:
    """The caller waits in the agents' queue; the console has already popped the case up with its context.
    When the call leaves the queue (after the agent hangs up, too) Twilio asks `action_url` what follows.
    With `recording_callback`, Twilio records the rest of the call in two channels (the caller; what the caller
    hears: the agent) and posts to it when the file is ready (voice/recording_callbacks.py)."""
    response = VoiceResponse()
    if recording_callback:
        start = Start()
        start.recording(
            channels="dual",
            track="both",
            recording_status_callback=recording_callback,
            recording_status_callback_event="completed absent",
        )
        response.append(start)
    enqueue = Enqueue(queue, action=action_url) if action_url else Enqueue(queue)
    enqueue.task(f'{{"case": {int(case_id)}}}')  # read by TaskRouter if the queue is a workflow; harmless otherwise
    response.append(enqueue)
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def say_and_hang_up(text: str) -> str:
    """Fallback answer when no stream can be offered (e.g. the gateway is shutting down)."""
    response = VoiceResponse()
    response.say(text, language="cmn-CN")
    response.hangup()
    return str(response)


@dataclass(frozen=True)
class StreamEvent:
    kind: str  # one of EVENTS
    stream_sid: str = ""
    call_sid: str = ""
    audio: bytes = b""  # media: μ-law bytes
    digit: str = ""  # dtmf
    mark: str = ""  # mark name
    parameters: dict = field(default_factory=dict)  # start: customParameters
    sequence: int | None = None


def parse(text: str | bytes) -> StreamEvent:
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"not JSON: {e}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("not a JSON object")
    kind = msg.get("event")
    if kind not in EVENTS:
        raise ProtocolError(f"unknown event {kind!r}")
    seq = msg.get("sequenceNumber")
    common = {
        "kind": kind,
        "stream_sid": str(msg.get("streamSid") or ""),
        "sequence": int(seq) if str(seq or "").isdigit() else None,
    }
    body = msg.get(kind) if isinstance(msg.get(kind), dict) else {}
    if kind == "start":
        params = body.get("customParameters") if isinstance(body.get("customParameters"), dict) else {}
        return StreamEvent(
            **{**common, "stream_sid": str(body.get("streamSid") or common["stream_sid"])},
            call_sid=str(body.get("callSid") or ""),
            parameters={str(k): str(v) for k, v in params.items()},
        )
    if kind == "media":
        if body.get("track", "inbound") not in ("inbound", "inbound_track"):
            raise ProtocolError(f"media of track {body.get('track')!r} ignored")
        try:
            audio = base64.b64decode(str(body.get("payload", "")), validate=True)
        except (binascii.Error, ValueError) as e:
            raise ProtocolError(f"bad base64 payload: {e}") from None
        return StreamEvent(**common, audio=audio)
    if kind == "dtmf":
        digit = str(body.get("digit", ""))
        if len(digit) != 1 or digit not in "0123456789*#":
            raise ProtocolError(f"bad DTMF digit {digit!r}")
        return StreamEvent(**common, digit=digit)
    if kind == "mark":
        return StreamEvent(**common, mark=str(body.get("name", "")))
    if kind == "stop":
        return StreamEvent(**common, call_sid=str(body.get("callSid") or ""))
    return StreamEvent(**common)


def media(stream_sid: str, ulaw: bytes) -> str:
    return json.dumps(
        {"event": "media", "streamSid": stream_sid, "media": {"payload": base64.b64encode(ulaw).decode("ascii")}}
    )


def mark(stream_sid: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})
