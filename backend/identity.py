"""Who has proved what in a conversation: verification records bound to one account, and attempt limits.

Every account-scoped read or change asks `verified(conversation, account, strength)`; the Rasa slot
`verified_account` is only a hint for what to prefill, never the proof. Wrong answers are limited per
conversation, per client (caller number, chat address, WeChat openid) and per account across clients; a
lockout is written as a security event for supervisors. Unknown and known accounts get the same answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from backend import models as m
from backend.pii import mask

IDLE = dt.timedelta(minutes=15)  # a verification lapses after this long unused
WINDOW = dt.timedelta(minutes=30)  # wrong answers are counted over this window
LIMITS = {"conversation": 3, "client": 20, "account": 5}  # a client address may be a whole office's NAT
READ, CHANGE = 1, 2  # strengths: last four digits; last four + the holder's name


class Check(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class SecurityEventInfo:
    at: dt.datetime
    kind: str
    subject: str
    detail: dict


class IdentityStore:
    def __init__(self, sessions: sessionmaker, now=m.utcnow):
        self._sessions, self._now = sessions, now

    # --- proof -------------------------------------------------------------------------------------
    @staticmethod
    def _verification(s, conversation_id: str, account_no: str) -> m.Verification | None:
        return s.scalars(
            select(m.Verification).where(
                m.Verification.conversation_id == conversation_id, m.Verification.account_no == account_no
            )
        ).first()

    def verified(self, conversation_id: str, account_no: str | None, strength: int = READ) -> bool:
        """True while this conversation holds a live verification of this account (and touches it)."""
        if not conversation_id or not account_no:
            return False
        now = self._now()
        with self._sessions() as s:
            v = self._verification(s, conversation_id, account_no)
            if v is None or v.strength < strength or now - v.last_used_at > IDLE:
                return False
            v.last_used_at = now
            s.commit()
            return True

    def record(self, conversation_id: str, account_no: str, method: str, strength: int = READ) -> None:
        now = self._now()
        with self._sessions() as s:
            v = self._verification(s, conversation_id, account_no)
            if v is None:
                s.add(
                    m.Verification(
                        conversation_id=conversation_id,
                        account_no=account_no,
                        method=method,
                        strength=strength,
                        verified_at=now,
                        last_used_at=now,
                    )
                )
            else:
                v.method, v.strength = (method, strength) if strength >= v.strength else (v.method, v.strength)
                v.verified_at = v.last_used_at = now
            s.commit()

    def forget(self, conversation_id: str) -> None:
        """The session ended: nothing proved in it carries over."""
        mine = m.Verification.conversation_id == conversation_id
        with self._sessions() as s:
            if s.scalar(select(m.Verification.id).where(mine).limit(1)) is None:
                return  # most sessions proved nothing: no write (every session start asks)
            s.execute(delete(m.Verification).where(mine))
            s.commit()

    # --- attempts ----------------------------------------------------------------------------------
    def locked(self, conversation_id: str, client: str, account_no: str) -> bool:
        since = self._now() - WINDOW
        with self._sessions() as s:

            def wrong(column, value) -> int:
                return (
                    s.scalar(
                        select(func.count(m.VerificationFailure.id)).where(
                            column == value, m.VerificationFailure.at > since
                        )
                    )
                    or 0
                )

            return (
                wrong(m.VerificationFailure.conversation_id, conversation_id) >= LIMITS["conversation"]
                or (client and wrong(m.VerificationFailure.client, client) >= LIMITS["client"])
                or wrong(m.VerificationFailure.account_no, account_no) >= LIMITS["account"]
            )

    def attempt(
        self,
        conversation_id: str,
        client: str,
        account_no: str,
        correct: bool,
        method: str = "last4",
        strength: int = READ,
    ) -> Check:
        """One answer to an identity question. The caller works out `correct`; this records and limits it.
        A locked conversation, client or account gets LOCKED even for a right answer."""
        if self.locked(conversation_id, client, account_no):
            return Check.LOCKED
        if correct:
            self.record(conversation_id, account_no, method, strength)
            return Check.OK
        with self._sessions() as s:
            s.add(
                m.VerificationFailure(
                    conversation_id=conversation_id, client=client or "", account_no=account_no, at=self._now()
                )
            )
            s.commit()
        if self.locked(conversation_id, client, account_no):
            self.security_event(
                "identity_lockout",
                account_no,
                {"conversation": mask(conversation_id), "client": mask(client or ""), "account": mask(account_no)},
            )
            return Check.LOCKED
        return Check.WRONG

    # --- security events ---------------------------------------------------------------------------
    def security_event(self, kind: str, subject: str, detail: dict) -> None:
        with self._sessions() as s:
            s.add(m.SecurityEvent(kind=kind, subject=mask(subject), detail=detail, at=self._now()))
            s.commit()

    def security_events(self, limit: int = 50) -> list[SecurityEventInfo]:
        with self._sessions() as s:
            rows = s.scalars(select(m.SecurityEvent).order_by(m.SecurityEvent.id.desc()).limit(limit))
            return [SecurityEventInfo(e.at, e.kind, e.subject, dict(e.detail or {})) for e in rows]
