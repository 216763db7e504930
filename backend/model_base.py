"""The declarative base every table registers on, and the clock the models stamp rows with (UTC, naive)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Session


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def epoch(at: dt.datetime) -> float:
    """A stored (naive UTC) time as Unix seconds, the clock Rasa's tracker events use."""
    return at.replace(tzinfo=dt.timezone.utc).timestamp()


class Base(DeclarativeBase):
    pass


MEMO = "p95598_memo"


def transaction_memo(s: Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction: what a writer has already looked up or done
    in it (the analytics feed asks the same questions for every event of a batch)."""
    memo: dict[str, dict[Any, Any]] = s.info.setdefault(MEMO, {})
    return memo.setdefault(name, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_memo(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended: what it knew may no longer hold
        session.info.pop(MEMO, None)
