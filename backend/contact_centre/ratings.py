"""Satisfaction: a customer's 1-5 rating of one contact (an agent's case, or a bot-only chat), on any channel.

A contact is asked once (`ask` is idempotent per contact key) and answered once: a second answer keeps the
first score and may only add a comment the first answer lacked. Keys: `case:<id>` for a case,
`bot:<conversation>:<n>` for the n-th bot-only chat in a conversation that was ended and asked about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m

PENDING_WINDOW = dt.timedelta(hours=24)  # an unanswered question older than this is not asked again
MAX_COMMENT = 300
SCORES = range(1, 6)


@dataclass(frozen=True)
class RatingInfo:
    contact_key: str
    conversation_id: str
    channel: str
    case_id: int | None
    agent_id: int | None
    account_no: str | None
    score: int | None
    comment: str
    asked_at: dt.datetime
    answered_at: dt.datetime | None

    @property
    def answered(self) -> bool:
        return self.score is not None


def rating_info(r: m.Rating) -> RatingInfo:
    return RatingInfo(
        r.contact_key,
        r.conversation_id,
        r.channel,
        r.case_id,
        r.agent_id,
        r.account_no,
        r.score,
        r.comment or "",
        r.asked_at,
        r.answered_at,
    )


def check_score(score: object) -> int:
    """A score of 1 to 5 (an int, not a bool or a string): anything else is a ValueError."""
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise ValueError(f"a score is an integer from 1 to 5, not {score!r}")
    return score


class RatingStore:
    """Asking for, answering and summing up satisfaction ratings."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def ask(
        self,
        conversation_id: str,
        channel: str,
        *,
        case_id: int | None = None,
        agent_id: int | None = None,
        account_no: str | None = None,
    ) -> str:
        """The contact key asked about: `case:<id>` once per case; for a bot-only chat the unanswered
        question still open in the conversation, or a new `bot:<conversation>:<n>`."""
        for _ in range(5):
            with self._sessions() as s:
                if case_id is not None:
                    key = f"case:{case_id}"
                    if s.scalar(select(m.Rating.id).where(m.Rating.contact_key == key)) is not None:
                        return key
                else:
                    prefix = f"bot:{conversation_id}:"
                    open_one = s.scalars(
                        select(m.Rating.contact_key)
                        .where(
                            m.Rating.conversation_id == conversation_id,
                            m.Rating.case_id.is_(None),
                            m.Rating.score.is_(None),
                            m.Rating.asked_at > m.utcnow() - PENDING_WINDOW,
                        )
                        .order_by(m.Rating.id.desc())
                    ).first()
                    if open_one is not None:
                        return open_one
                    asked = s.scalar(
                        select(func.count(m.Rating.id)).where(m.Rating.contact_key.startswith(prefix, autoescape=True))
                    )
                    key = f"{prefix}{(asked or 0) + 1}"
            try:
                with self._sessions.begin() as s:
                    s.add(
                        m.Rating(
                            contact_key=key,
                            conversation_id=conversation_id,
                            case_id=case_id,
                            agent_id=agent_id,
                            account_no=account_no,
                            channel=str(channel),
                            comment="",
                        )
                    )
                return key
            except IntegrityError:  # asked at the same moment by another process: read again
                continue
        raise RuntimeError(f"could not ask for a rating in {conversation_id}")

    def rating(self, contact_key: str) -> RatingInfo | None:
        with self._sessions() as s:
            r = s.scalars(select(m.Rating).where(m.Rating.contact_key == contact_key)).first()
            return rating_info(r) if r else None

    def pending(self, conversation_id: str) -> RatingInfo | None:
        """The latest question asked in the conversation and not answered yet, within 24 hours."""
        with self._sessions() as s:
            r = s.scalars(
                select(m.Rating)
                .where(
                    m.Rating.conversation_id == conversation_id,
                    m.Rating.score.is_(None),
                    m.Rating.asked_at > m.utcnow() - PENDING_WINDOW,
                )
                .order_by(m.Rating.asked_at.desc(), m.Rating.id.desc())
            ).first()
            return rating_info(r) if r else None

    def answer(self, contact_key: str, score: int, comment: str = "") -> RatingInfo:
        """Records the answer; a second answer keeps the first score and only adds a missing comment.
        A bad score or a comment over 300 characters: ValueError; an unknown key: LookupError."""
        check_score(score)
        comment = (comment or "").strip()
        if len(comment) > MAX_COMMENT:
            raise ValueError(f"a comment has at most {MAX_COMMENT} characters")
        with self._sessions.begin() as s:
            s.execute(
                update(m.Rating)
                .where(m.Rating.contact_key == contact_key, m.Rating.score.is_(None))
                .values(score=score, comment=comment, answered_at=m.utcnow())
            )
            if comment:
                s.execute(
                    update(m.Rating)
                    .where(m.Rating.contact_key == contact_key, m.Rating.comment == "")
                    .values(comment=comment)
                )
            r = s.scalars(select(m.Rating).where(m.Rating.contact_key == contact_key)).first()
            if r is None:
                raise LookupError(f"no rating was asked for {contact_key}")
            return rating_info(r)

    def by_agent(self, since: dt.datetime) -> dict[int, tuple[int, float]]:
        """Per agent: how many answered ratings since then, and their mean score."""
        with self._sessions() as s:
            rows = s.execute(
                select(m.Rating.agent_id, func.count(m.Rating.id), func.avg(m.Rating.score))
                .where(m.Rating.agent_id.is_not(None), m.Rating.score.is_not(None), m.Rating.answered_at >= since)
                .group_by(m.Rating.agent_id)
            ).all()
        return {int(agent): (int(n), round(float(mean), 2)) for agent, n, mean in rows if agent is not None}

    def ratings_of(self, account_no: str, limit: int = 20) -> list[RatingInfo]:
        """A customer's answered ratings, newest first (for the customer panel's history)."""
        with self._sessions() as s:
            q = (
                select(m.Rating)
                .where(m.Rating.account_no == account_no, m.Rating.score.is_not(None))
                .order_by(m.Rating.id.desc())
                .limit(limit)
            )
            return [rating_info(r) for r in s.scalars(q)]
