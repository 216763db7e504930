"""The channels' one Rasa client (voice gateway and contact-centre hub): the REST webhook for turns, the tracker
API to read, extend and resume conversations."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from backend.settings import rasa_token

log = logging.getLogger(__name__)
Message = dict[str, Any]  # a bot message as Rasa's REST channel sends it, or a tracker event / the tracker
DOMAIN = Path(__file__).resolve().parent.parent / "bot" / "domain"


@lru_cache(maxsize=1)
def session_minutes(domain: Path = DOMAIN) -> float:
    """How long Rasa keeps a conversation's session (session_config in bot/domain, the one place it is set)."""
    for path in sorted(domain.glob("*.yml")):
        config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("session_config") or {}
        if "session_expiration_time" in config:
            return float(config["session_expiration_time"])
    return 60.0  # Rasa's own default


CALL_ENDED = "call_ended"  # metadata.shown_as of the invisible marker a gateway writes when the caller hangs up


class RasaUnavailable(RuntimeError):
    pass


def custom_payload(messages: list[Message], key: str) -> Any:
    """The value under `key` of the first custom message carrying it (None if none does)."""
    return next(
        (m["custom"][key] for m in messages if isinstance(m.get("custom"), dict) and m["custom"].get(key)), None
    )


def handoff_of(messages: list[Message]) -> Message | None:
    """The handoff payload ({"case", "position", "wait_minutes", "reason"}) if the bot handed over to a person."""
    payload = custom_payload(messages, "handoff")
    return payload if isinstance(payload, dict) else None


@dataclass(frozen=True)
class PendingForm:
    """A form the caller left half-filled (hung up mid-way): its name and the question last asked."""

    form: str
    question: str


class RasaClient:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, timeout: float = 30.0, token: str | None = None):
        self._http = http
        self._base = base_url.rstrip("/")
        token = rasa_token() if token is None else token
        self._auth = {"token": token} if token else {}  # Rasa's HTTP API (--auth-token); channels need none
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _post(self, path: str, body: Any, params: dict[str, str] | None = None, *, answer: bool = True) -> Any:
        """POST JSON; the JSON answer (None when `answer` is False). Anything but a 200 -> RasaUnavailable."""
        try:
            async with self._http.post(
                f"{self._base}{path}", json=body, params={**self._auth, **(params or {})}, timeout=self._timeout
            ) as r:
                if r.status != 200:
                    raise RasaUnavailable(f"Rasa answered {r.status}: {(await r.text())[:200]}")
                return await r.json(content_type=None) if answer else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise RasaUnavailable(f"Rasa not reachable or no valid answer: {e!r}") from e

    async def send(self, sender: str, text: str, metadata: Message) -> list[Message]:
        """One user turn; the bot's messages ({"text", "buttons"?, …}) in order."""
        messages = await self._post("/webhooks/rest/webhook", {"sender": sender, "message": text, "metadata": metadata})
        return [m for m in messages or [] if isinstance(m, dict)]

    async def pending_form(self, sender: str) -> PendingForm | None:
        """The form still active in this conversation (None if none, or if the tracker API is closed)."""
        tracker = await self.tracker(sender)
        form = (tracker.get("active_loop") or {}).get("name")
        idle = time.time() - float(tracker.get("latest_event_time") or 0)
        if not form or idle > session_minutes() * 60:  # an expired session starts afresh in Rasa
            return None
        question = next(
            (e.get("text") for e in reversed(tracker.get("events") or []) if e.get("event") == "bot" and e.get("text")),
            "",
        )
        return PendingForm(form, question or "")

    async def tracker(self, sender: str) -> Message:
        """The conversation's tracker (events of the current session and after), {} when unavailable."""
        try:
            async with self._http.get(
                f"{self._base}/conversations/{sender}/tracker",
                params={**self._auth, "include_events": "AFTER_RESTART"},
                timeout=self._timeout,
            ) as r:
                tracker = await r.json(content_type=None) if r.status == 200 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            log.info("tracker of %s not available: %r", sender, e)
            return {}
        return tracker if isinstance(tracker, dict) else {}

    async def mark_ended(self, sender: str, channel: str) -> None:
        """The contact is over (the caller hung up): an empty system event, so the contact closes at once instead
        of after the idle limit. It shows nowhere (transcripts skip events without text)."""
        metadata = {"channel": channel, "system": True, "shown_as": CALL_ENDED}
        await self.append(sender, [{"event": "bot", "text": "", "metadata": metadata}])

    async def append(self, sender: str, events: list[Message]) -> None:
        """Adds events (an agent's message, resume) to the stored conversation without running the bot."""
        await self._post(f"/conversations/{sender}/tracker/events", events, {"include_events": "NONE"}, answer=False)
