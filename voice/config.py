"""The voice gateway's settings: one typed object, read from the environment, checked when it is built."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from backend.db import database_url
from backend.settings import recordings_dir

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5058"
RECORDING_DAYS = 180  # why 180: voice/README.md, "Call recordings"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class VoiceConfig:
    public_url: str  # how Twilio reaches us, e.g. https://voice.example.cn (signatures use it)
    auth_token: str  # Twilio auth token: every webhook's X-Twilio-Signature is checked with it
    rasa_url: str = "http://127.0.0.1:5005"
    db_url: str = ""
    vosk_model: str | None = None  # folder of a Vosk model; None = DTMF-only (nothing recognises speech)
    tts_model: str | None = None  # folder of the Kokoro model; None = the TTS package's fallback engine
    prompt_cache_dir: str | None = None  # rendered fixed prompts (greeting, menu…) are kept here
    agent_queue: str = "95598"  # Twilio queue (<Enqueue>) the agents' softphones take calls from
    require_stream_signature: bool = True  # refuse a /voice/stream upgrade without X-Twilio-Signature
    no_input_seconds: float = 8.0  # silence after a prompt before "您还在吗？"
    no_input_reprompts: int = 2  # re-prompts before goodbye
    inter_digit_seconds: float = 4.0  # a key sequence (户号, phone) is taken as finished after this pause
    playback_lead_ms: int = 100  # outbound audio runs this far ahead of real time
    rasa_timeout_seconds: float = 30.0
    stream_secret: str = ""  # signs the per-call token (voice/call_token.py); default: derived from auth_token
    recordings_dir: str | None = None  # both legs of each call are kept here (None: calls are not recorded)
    recording_days: int = RECORDING_DAYS  # then the audio is deleted (the row stays)
    recording_sweep_seconds: float = 3600.0  # how often expired recordings are looked for
    twilio_api_base: str = "https://api.twilio.com"  # where recordings are fetched (a fake server in tests)
    account_sid: str = ""  # Twilio account SID for the REST API ('' = the one the recording callback names)

    def __post_init__(self):
        if not self.auth_token:
            raise ConfigError("TWILIO_AUTH_TOKEN is not set: webhooks cannot be authenticated")
        if not self.public_url.startswith(("http://", "https://")):
            raise ConfigError(f"P95598_PUBLIC_URL must start with http:// or https://, got {self.public_url!r}")
        if self.playback_lead_ms < 0 or self.playback_lead_ms > 1000:
            raise ConfigError("playback lead must be between 0 and 1000 ms")
        if self.no_input_seconds <= 0 or self.inter_digit_seconds <= 0:
            raise ConfigError("timeouts must be positive")
        if self.recording_days < 1 or self.recording_sweep_seconds <= 0:
            raise ConfigError("P95598_RECORDING_DAYS must be at least 1 and the retention sweep interval positive")
        if not self.twilio_api_base.startswith(("http://", "https://")):
            raise ConfigError(f"TWILIO_API_BASE must be an http(s) URL, got {self.twilio_api_base!r}")
        if not self.stream_secret:  # a key of its own, never the Twilio token itself
            derived = hmac.new(self.auth_token.encode(), b"p95598 call token", hashlib.sha256).hexdigest()
            object.__setattr__(self, "stream_secret", derived)
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        object.__setattr__(self, "rasa_url", self.rasa_url.rstrip("/"))

    @property
    def stream_url(self) -> str:
        """The websocket Twilio opens for the call's audio: wss:// for an https public URL."""
        base = self.public_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}/voice/stream"

    def webhook_url(self, path: str) -> str:
        return f"{self.public_url}{path}"

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> VoiceConfig:
        env = os.environ if env is None else env
        values = dict(
            public_url=env.get("P95598_PUBLIC_URL", DEFAULT_PUBLIC_URL),
            auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            rasa_url=env.get("P95598_RASA_URL", f"http://127.0.0.1:{env.get('P95598_RASA_PORT', '5005')}"),
            db_url=env.get("P95598_DB_URL") or database_url(),
            vosk_model=env.get("P95598_VOSK_MODEL") or None,
            tts_model=env.get("P95598_TTS_MODEL") or None,
            prompt_cache_dir=env.get("P95598_PROMPT_CACHE")
            or str(Path(env.get("P95598_CACHE", Path.home() / ".cache" / "p95598")) / "prompts"),
            agent_queue=env.get("P95598_AGENT_QUEUE", "95598"),
            stream_secret=env.get("P95598_STREAM_SECRET", ""),
            require_stream_signature=env.get("P95598_REQUIRE_STREAM_SIGNATURE", "1") not in ("0", "false", "no"),
            recordings_dir=str(kept) if (kept := recordings_dir(env)) else None,
            recording_days=_days(env.get("P95598_RECORDING_DAYS", str(RECORDING_DAYS))),
            twilio_api_base=env.get("TWILIO_API_BASE", "https://api.twilio.com"),
            account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
        )
        values.update(overrides)
        return cls(**values)


def _days(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"P95598_RECORDING_DAYS must be a whole number of days, got {text!r}") from None
