"""Case notes: what agents and supervisors record on a case besides the conversation (internal notes, transfers
with their reason). Stored in case_notes only: never written into the Rasa conversation, never delivered to the
customer on any channel.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre.kinds import NoteKind

MAX_NOTE = 500
MAX_TRANSFER_NOTE = 200
NOTE_LABELS: dict[str, str] = {
    NoteKind.NOTE: "内部备注",
    NoteKind.TRANSFER: "转接说明",
    NoteKind.WHISPER: "班长提示",
    NoteKind.VERIFY: "代客核验",
    NoteKind.BIND: "绑定客户",
    NoteKind.MONITOR: "班长监听",
    NoteKind.TAKEOVER: "班长接管",
    NoteKind.OFFER: "分配记录",
}


class NoteError(ValueError):
    """A note that cannot be stored as given; the message is for the agent (Chinese)."""


@dataclass(frozen=True)
class NoteInfo:
    id: int
    case_id: int
    agent_id: int | None
    agent_name: str
    kind: str
    text: str
    detail: dict[str, Any]
    at: dt.datetime

    def card(self) -> dict[str, Any]:
        """As the case timeline shows it (the time as the transcript writes it: ISO, UTC)."""
        return {
            "id": self.id,
            "who": "note",
            "kind": self.kind,
            "label": NOTE_LABELS.get(self.kind, "备注"),
            "text": self.text,
            "agent": self.agent_name,
            "at": self.at.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds"),
        }


def note_text(text: object, limit: int = MAX_NOTE, what: str = "备注") -> str:
    """The text to store, or NoteError telling the agent what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise NoteError(f"请先写好{what}内容")
    text = text.strip().replace("\r\n", "\n")
    if len(text) > limit:
        raise NoteError(f"{what}最多{limit}个字，现在是{len(text)}个字")
    if any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in text):
        raise NoteError(f"{what}里有不可见的控制字符，请重新输入")
    return text


class NoteStore:
    """Writing and reading a case's notes."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def add_note(
        self, case_id: int, agent_id: int | None, kind: str, text: str, detail: dict[str, Any] | None = None
    ) -> NoteInfo:
        with self._sessions.begin() as s:
            note = m.CaseNote(case_id=case_id, agent_id=agent_id, kind=NoteKind(kind), text=text, detail=detail or {})
            s.add(note)
            s.flush()
            agent = s.get(m.Agent, agent_id) if agent_id else None
            return _info(note, agent.display_name if agent else "")

    def notes_of(self, case_id: int) -> list[NoteInfo]:
        with self._sessions() as s:
            rows = s.execute(
                select(m.CaseNote, m.Agent.display_name)
                .outerjoin(m.Agent, m.Agent.id == m.CaseNote.agent_id)
                .where(m.CaseNote.case_id == case_id)
                .order_by(m.CaseNote.at, m.CaseNote.id)
            ).all()
            return [_info(note, name or "") for note, name in rows]


def _info(n: m.CaseNote, agent_name: str) -> NoteInfo:
    return NoteInfo(n.id, n.case_id, n.agent_id, agent_name, n.kind, n.text, dict(n.detail or {}), n.at)
