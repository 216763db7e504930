"""The gateway as a Rasa channel client: the REST webhook for turns, the tracker API to resume a call."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    pass


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
