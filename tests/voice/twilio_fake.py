"""Test-only defaults for the simulated Twilio of `voice.testing.fake_twilio`: a fixed auth token and public URL,
so the signature tests can forge and compare exactly."""

from __future__ import annotations

from voice.testing import fake_twilio
from voice.testing.fake_twilio import SILENCE, FakeTwilioCall, Harness, Received, tone  # noqa: F401  (re-exported)

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://voice.example.cn"
STREAM_URL = "wss://voice.example.cn/voice/stream"


def signature(url: str, params: dict, token: str = TOKEN) -> str:
    return fake_twilio.signature(url, params, token)


async def post_signed(http, base: str, path: str, params: dict, *, token: str = TOKEN, **kw):
    return await fake_twilio.post_signed(http, base, path, params, token=token, public_url=PUBLIC_URL, **kw)


def open_gateway(cis, rasa_url: str, voice, **kw):
    """`voice.testing.fake_twilio.open_gateway` signed with TOKEN for PUBLIC_URL."""
    return fake_twilio.open_gateway(cis, rasa_url, voice, token=TOKEN, public_url=PUBLIC_URL, **kw)
