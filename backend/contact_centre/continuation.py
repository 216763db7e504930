"""Carrying a case to another channel: short single-use codes, and which case a channel identity talks in."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m

CODE_TTL = dt.timedelta(minutes=30)  # continuation codes: short-lived and single use


class ContinuationStore:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def issue_code(self, conversation_id: str, ttl: dt.timedelta = CODE_TTL) -> str:
        for _ in range(20):
            code = f"{secrets.randbelow(10**6):06d}"
            try:
                with self._sessions.begin() as s:
                    old = s.get(m.ContinuationCode, code)
                    if old and old.expires_at > m.utcnow():
                        continue
                    if old:
                        s.delete(old)
                        s.flush()
                    s.add(m.ContinuationCode(code=code, conversation_id=conversation_id, expires_at=m.utcnow() + ttl))
                return code
            except IntegrityError:
                continue
        raise RuntimeError("no free continuation code")

    def redeem_code(self, code: str) -> str | None:
        """The case a code continues, once: the code is used up, and any identity proved in that case
        before is dropped, so whoever holds the code verifies again before hearing account data."""
        with self._sessions.begin() as s:
            row = s.get(m.ContinuationCode, code.strip())
            if row is None:
                return None
            s.delete(row)
            if row.expires_at <= m.utcnow():
                return None
            s.execute(delete(m.Verification).where(m.Verification.conversation_id == row.conversation_id))
            return row.conversation_id

    def bind(self, channel_user: str, conversation_id: str) -> None:
        with self._sessions.begin() as s:
            row = s.get(m.ChannelBinding, channel_user)
            if row:
                row.conversation_id = conversation_id
            else:
                s.add(m.ChannelBinding(channel_user=channel_user, conversation_id=conversation_id))

    def conversation_of(self, channel_user: str) -> str:
        """The case this identity talks in: a bound one, else its own (channel_user itself)."""
        with self._sessions() as s:
            row = s.get(m.ChannelBinding, channel_user)
            return row.conversation_id if row else channel_user[:64]

    def identities_of(self, conversation_id: str) -> list[str]:
        with self._sessions() as s:
            rows = s.scalars(
                select(m.ChannelBinding.channel_user).where(m.ChannelBinding.conversation_id == conversation_id)
            ).all()
        return sorted(set(rows) | {conversation_id})
