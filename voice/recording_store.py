"""Where call recordings live: the audio files under the recordings directory and their `Recording` rows.

Files are named by leg, day and call (`bot/2026/12/04/CA….wav`, `agent/2026/12/04/RE….wav`); the row keeps the
path relative to the directory, so the directory can move (a volume mounted elsewhere) without touching rows.
Every row expires `days` after it was made; `delete_expired` removes the audio and keeps the row (deleted).
All methods block (database, disk): the gateway calls them in a thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.model_base import utcnow
from backend.models_recordings import Recording, RecordingLeg, RecordingStatus

log = logging.getLogger(__name__)
SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")
REASON_CHARS = 200  # Recording.reason's column


class RecordingStore:
    def __init__(self, sessions: sessionmaker[Session], directory: Path, days: int):
        if days < 1:
            raise ValueError("recordings must be kept at least one day")
        self.sessions, self.directory, self.days = sessions, Path(directory), days

    def new_path(self, leg: RecordingLeg, name: str, now: dt.datetime | None = None) -> str:
        """A relative path for a new recording of `leg` named after `name` (a CallSid or RecordingSid)."""
        day = (now or utcnow()).strftime("%Y/%m/%d")
        return f"{leg.value}/{day}/{SAFE_NAME.sub('_', name)[:64] or 'call'}.wav"

    def absolute(self, relative: str) -> Path:
        return self.directory / relative

    def add_bot_leg(
        self, call_sid: str, conversation_id: str | None, path: str, duration: float, transcript: list[dict[str, Any]]
    ) -> int:
        with self.sessions.begin() as s:
            row = self._new_row(call_sid, RecordingLeg.BOT, conversation_id)
            row.path, row.duration_seconds, row.transcript = path, round(duration, 2), transcript
            row.status = RecordingStatus.TRANSCRIBED if transcript else RecordingStatus.STORED
            s.add(row)
            s.flush()
            return row.id

    def claim_agent_leg(self, recording_sid: str, call_sid: str, conversation_id: str | None) -> int | None:
        """The row of a recording Twilio announced, made once: None when it exists (a retried callback)."""
        try:
            with self.sessions.begin() as s:
                row = self._new_row(call_sid, RecordingLeg.AGENT, conversation_id)
                row.recording_sid = recording_sid
                s.add(row)
                s.flush()
                return row.id
        except IntegrityError:
            return None

    def unfetched_agent_legs(self) -> list[tuple[int, str]]:
        """(id, RecordingSid) of the agent legs announced but never fetched (the gateway stopped meanwhile)."""
        with self.sessions() as s:
            rows = s.execute(
                select(Recording.id, Recording.recording_sid).where(
                    Recording.leg == RecordingLeg.AGENT,
                    Recording.status == RecordingStatus.STORED,
                    Recording.path.is_(None),
                    Recording.recording_sid.is_not(None),
                )
            )
            return [(row.id, str(row.recording_sid)) for row in rows]

    def conversation_of(self, call_sid: str) -> str | None:
        """The Rasa conversation of a call, from its bot leg (the agent leg's callback does not carry it)."""
        with self.sessions() as s:
            return s.scalar(
                select(Recording.conversation_id)
                .where(Recording.call_sid == call_sid, Recording.conversation_id.is_not(None))
                .limit(1)
            )

    def stored(self, recording_id: int, path: str, duration: float, channels: int) -> None:
        self._update(recording_id, path=path, duration_seconds=round(duration, 2), channels=channels)

    def transcribed(self, recording_id: int, transcript: list[dict[str, Any]]) -> None:
        self._update(recording_id, transcript=transcript, status=RecordingStatus.TRANSCRIBED, reason=None)

    def not_inspectable(self, recording_id: int, reason: str) -> None:
        self._update(recording_id, status=RecordingStatus.NOT_INSPECTABLE, reason=reason[:REASON_CHARS])

    def note(self, recording_id: int, reason: str) -> None:
        """A remark that changes nothing else (e.g. no speech model to transcribe with)."""
        self._update(recording_id, reason=reason[:REASON_CHARS])

    def get(self, recording_id: int) -> Recording | None:
        with self.sessions() as s:
            return s.get(Recording, recording_id)

    def delete_expired(self, now: dt.datetime | None = None) -> list[int]:
        """Deletes the audio of every recording past its retention and marks its row deleted; the ids."""
        now = now or utcnow()
        with self.sessions.begin() as s:
            rows = s.scalars(
                select(Recording).where(Recording.expires_at <= now, Recording.status != RecordingStatus.DELETED)
            ).all()
            for row in rows:
                if row.path:
                    try:
                        self.absolute(row.path).unlink(missing_ok=True)
                    except OSError as e:  # the row says deleted only when the file is gone
                        log.warning("recording %s not deleted: %s", row.id, e)
                        continue
                row.status, row.deleted_at = RecordingStatus.DELETED, now
            return [row.id for row in rows if row.status == RecordingStatus.DELETED]

    def _new_row(self, call_sid: str, leg: RecordingLeg, conversation_id: str | None) -> Recording:
        now = utcnow()
        return Recording(
            call_sid=call_sid[:64],
            leg=leg,
            conversation_id=conversation_id[:64] if conversation_id else None,
            channels=2,
            duration_seconds=0.0,
            status=RecordingStatus.STORED,
            transcript=[],
            created_at=now,
            expires_at=now + dt.timedelta(days=self.days),
        )

    def _update(self, recording_id: int, **values: Any) -> None:
        with self.sessions.begin() as s:
            row = s.get(Recording, recording_id)
            if row is None:
                raise LookupError(f"no recording {recording_id}")
            for name, value in values.items():
                setattr(row, name, value)
