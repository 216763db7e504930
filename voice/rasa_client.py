"""The gateway as a Rasa channel client: the REST webhook for turns, the tracker API to resume a call."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    pass


def handoff_of(messages: list[dict]) -> dict | None:
    """The handoff payload ({"case", "position", "wait_minutes", "reason"}) if the bot handed over to a person."""
    return next(((m.get("custom") or {}).get("handoff") for m in messages
                 if isinstance(m.get("custom"), dict) and m["custom"].get("handoff")), None)


@dataclass(frozen=True)
class PendingForm:
    """A form the caller left half-filled (hung up mid-way): its name and the question last asked."""
    form: str
    question: str


class RasaClient:
    session_minutes = 60   # bot/domain session_config.session_expiration_time

    def __init__(self, http: aiohttp.ClientSession, base_url: str, timeout: float = 30.0):
        self._http = http
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, text: str, metadata: dict) -> list[dict]:
        """One user turn; the bot's messages ({"text", "buttons"?, …}) in order."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            async with self._http.post(f"{self._base}/webhooks/rest/webhook", json=body,
                                       timeout=self._timeout) as r:
                if r.status != 200:
                    raise RasaUnavailable(f"Rasa answered {r.status}: {(await r.text())[:200]}")
                messages = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise RasaUnavailable(f"Rasa not reachable or no valid answer: {e!r}") from e
        return [m for m in messages or [] if isinstance(m, dict)]

    async def pending_form(self, sender: str) -> PendingForm | None:
        """The form still active in this conversation (None if none, or if the tracker API is closed)."""
        url = f"{self._base}/conversations/{sender}/tracker"
        try:
            async with self._http.get(url, params={"include_events": "AFTER_RESTART"}, timeout=self._timeout) as r:
                if r.status != 200:
                    return None
                tracker = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            log.info("tracker of %s not available: %r", sender, e)
            return None
        form = (tracker.get("active_loop") or {}).get("name")
        idle = time.time() - float(tracker.get("latest_event_time") or 0)
        if not form or idle > self.session_minutes * 60:   # an expired session starts afresh in Rasa
            return None
        question = next((e.get("text") for e in reversed(tracker.get("events") or [])
                         if e.get("event") == "bot" and e.get("text")), "")
        return PendingForm(form, question or "")

    async def tracker(self, sender: str) -> dict:
        """The conversation's tracker (events of the current session and after), {} when unavailable."""
        try:
            async with self._http.get(f"{self._base}/conversations/{sender}/tracker",
                                      params={"include_events": "AFTER_RESTART"}, timeout=self._timeout) as r:
                return await r.json(content_type=None) if r.status == 200 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            log.info("tracker of %s not available: %r", sender, e)
            return {}

    async def append(self, sender: str, events: list[dict]) -> None:
        """Adds events (an agent's message, resume) to the stored conversation without running the bot."""
        try:
            async with self._http.post(f"{self._base}/conversations/{sender}/tracker/events", json=events,
                                       params={"include_events": "NONE"}, timeout=self._timeout) as r:
                if r.status != 200:
                    raise RasaUnavailable(f"Rasa answered {r.status}: {(await r.text())[:200]}")
        except (aiohttp.ClientError, TimeoutError) as e:
            raise RasaUnavailable(f"Rasa not reachable: {e!r}") from e

    async def trigger(self, sender: str, intent: str, entities: dict | None = None) -> list[dict]:
        """Runs the bot as if the customer had expressed `intent` (a channel detected anger or danger)."""
        body = {"name": intent, "entities": entities or {}}
        try:
            async with self._http.post(f"{self._base}/conversations/{sender}/trigger_intent", json=body,
                                       params={"include_events": "NONE"}, timeout=self._timeout) as r:
                if r.status != 200:
                    raise RasaUnavailable(f"Rasa answered {r.status}: {(await r.text())[:200]}")
                return [m for m in (await r.json(content_type=None)).get("messages") or [] if isinstance(m, dict)]
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise RasaUnavailable(f"Rasa not reachable or no valid answer: {e!r}") from e
