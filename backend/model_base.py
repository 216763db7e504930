"""The declarative base every table registers on, and the clock the models stamp rows with (UTC, naive)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import DeclarativeBase


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def epoch(at: dt.datetime) -> float:
    """A stored (naive UTC) time as Unix seconds, the clock Rasa's tracker events use."""
    return at.replace(tzinfo=dt.timezone.utc).timestamp()


class Base(DeclarativeBase):
    pass
