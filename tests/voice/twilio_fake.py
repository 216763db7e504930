"""Test-only defaults for the simulated Twilio of `voice.twilio_client`: a fixed auth token and public URL,
so the signature tests can forge and compare exactly."""
from __future__ import annotations

from voice import twilio_client
from voice.twilio_client import FakeTwilioCall, Harness, Received, SILENCE, tone  # noqa: F401  (re-exported)

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://voice.example.cn"
STREAM_URL = "wss://voice.example.cn/voice/stream"


def signature(url: str, params: dict, token: str = TOKEN) -> str:
    return twilio_client.signature(url, params, token)


async def post_signed(http, base: str, path: str, params: dict, *, token: str = TOKEN, **kw):
    return await twilio_client.post_signed(http, base, path, params, token=token, public_url=PUBLIC_URL, **kw)


def open_gateway(cis, rasa_url: str, voice, **kw):
    """`voice.twilio_client.open_gateway` signed with TOKEN for PUBLIC_URL."""
    return twilio_client.open_gateway(cis, rasa_url, voice, token=TOKEN, public_url=PUBLIC_URL, **kw)
