"""The gateway's record of calls: status callbacks, who called, what was said and how fast the bot answered.

In memory, the most recent calls only (a console or a SQL store can take the same records later).
Work orders are never touched here: they live in the back end and stay whatever happens to the call.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class Turn:
    user: str  # what the bot was sent (recognised speech or key-mapped text)
    source: str  # "speech" | "dtmf"
    bot: list[str] = field(default_factory=list)
    rasa_ms: float | None = None  # request to Rasa's answer
    first_audio_ms: float | None = None  # end of the caller's input to the first outbound audio frame


@dataclass
class CallRecord:
    call_sid: str
    caller: str | None = None
    customer: str | None = None  # account number of a recognised caller
    sender: str | None = None  # the Rasa conversation id used
    statuses: list[tuple[str, float]] = field(default_factory=list)  # (CallStatus, unix time)
    events: list[tuple[str, str, float]] = field(default_factory=list)  # (who, text, time): bot/caller/system
    turns: list[Turn] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    ended: float | None = None
    transfer_case: int | None = None  # handed to a person: the stream ends and the call joins the queue
    marked_ended: bool = False  # the hang-up is written into the conversation (the contact closes)
    bot_completed: bool = False  # the bot said goodbye after serving a request: the caller is asked to rate it

    @property
    def status(self) -> str | None:
        return self.statuses[-1][0] if self.statuses else None

    def note(self, who: str, text: str) -> None:
        self.events.append((who, text, time.time()))

    def said(self) -> list[str]:
        """Everything the gateway spoke, in order."""
        return [text for who, text, _ in self.events if who == "bot"]


class CallLog:
    def __init__(self, keep: int = 1000):
        self._records: OrderedDict[str, CallRecord] = OrderedDict()
        self._keep = keep

    def get(self, call_sid: str) -> CallRecord | None:
        return self._records.get(call_sid)

    def open(self, call_sid: str) -> CallRecord:
        record = self._records.get(call_sid)
        if record is None:
            record = self._records[call_sid] = CallRecord(call_sid)
            while len(self._records) > self._keep:
                self._records.popitem(last=False)
        return record

    def status(self, call_sid: str, status: str, caller: str | None = None) -> CallRecord:
        record = self.open(call_sid)
        record.statuses.append((status, time.time()))
        record.caller = record.caller or caller
        if status in ("completed", "busy", "failed", "no-answer", "canceled"):
            record.ended = record.ended or time.time()
        return record

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, call_sid: str) -> bool:
        return call_sid in self._records
