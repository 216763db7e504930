"""The embedded profile's analytics feed: tails Rasa's SQLite tracker store (its `events` table, one row per event
with an autoincrement id) into turn_analytics and contacts, from a process of its own.

    python -m analytics feed [--tracker var/tracker.db]

Rasa does no extra work per turn: the events are already in its store. The feed remembers the last event id it
applied (analytics_feed_positions) in the same transaction as the rows it wrote, so a restart goes on where it
stopped and never applies an event twice; rows are keyed by the event as well (a re-read writes nothing). While
the back-end database is unavailable the events simply wait in the tracker store.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from analytics.contacts import apply, refresh
from analytics.events import KINDS_READ, SLOTS_READ, BadEvent, EventChanges, changes_of
from backend.db import write_lock
from backend.models import utcnow
from backend.models_analytics import FeedPosition

log = logging.getLogger(__name__)
SOURCE = "tracker"
BATCH = 500
CHUNK = 50  # events applied per write transaction (see feed_once)
Task = Callable[[dt.datetime], object]


def tracker_engine(path: str | Path) -> Engine:
    """Rasa's tracker store (the feed only reads it; a read-only open fails on a WAL file without its -shm)."""
    return create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})


READ = text(  # Rasa's SQL tracker store keeps a slot's name in action_name: most slot events are not even read
    "SELECT id, sender_id, type_name, data FROM events WHERE id > :after AND (type_name IN :kinds"
    " OR (type_name = 'slot' AND action_name IN :slots)) ORDER BY id LIMIT :n"
).bindparams(bindparam("kinds", expanding=True), bindparam("slots", expanding=True))


def _read(tracker: Engine, after: int, limit: int) -> list[tuple[int, str, str, str | None]]:
    try:
        with tracker.connect() as c:
            rows = c.execute(
                READ, {"after": after, "n": limit, "kinds": list(KINDS_READ), "slots": list(SLOTS_READ)}
            ).all()
    except OperationalError as e:
        if "no such table" in str(e) or "unable to open" in str(e):  # Rasa has not created its store yet
            return []
        raise
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


def _last_id(tracker: Engine) -> int:
    try:
        with tracker.connect() as c:
            return int(c.execute(text("SELECT coalesce(max(id), 0) FROM events")).scalar_one())
    except OperationalError:
        return 0


def _position(s: Session) -> FeedPosition:
    pos = s.get(FeedPosition, SOURCE)
    if pos is None:
        pos = FeedPosition(source=SOURCE, last_id=0, updated_at=utcnow())
        s.add(pos)
    return pos


def _changes(event_id: int, sender: str, kind: str, data: str | None) -> EventChanges | None:
    """What one stored event changes; None (and the reason logged) for an event that cannot be read."""
    try:
        event = json.loads(data or "")
        if not isinstance(event, dict):
            raise BadEvent(f"the stored event is a {type(event).__name__}")
        return changes_of({**event, "sender_id": sender})
    except (ValueError, BadEvent) as e:
        log.warning("skipping tracker event %s of %s: %s", event_id, sender[:64], e)
        return None


def _apply_row(s: Session, event_id: int, sender: str, kind: str, data: str | None) -> None:
    changes = _changes(event_id, sender, kind, data)
    if changes is not None:
        apply(s, changes)


def _stored_position(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        pos = s.get(FeedPosition, SOURCE)
        return pos.last_id if pos is not None else 0


def feed_once(tracker: Engine, sessions: sessionmaker[Session], limit: int = BATCH) -> int:
    """Applies the next events after the stored position; the number read. They are read and parsed outside any
    transaction, then applied CHUNK at a time, each chunk with the position in one short write transaction. On
    SQLite a whole batch under one write lock held it through the reading and parsing too, and a live write (the
    case opened on 转人工) waited behind this process, which runs at a lower CPU priority."""
    after = _stored_position(sessions)
    rows = _read(tracker, after, limit)
    if not rows:
        if after and _last_id(tracker) < after:  # a new tracker store: its ids start again
            log.warning("the tracker store restarted its ids; reading it from the start")
            with sessions.begin() as s:
                write_lock(s)
                _position(s).last_id = 0
        return 0
    parsed = [(row, _changes(*row)) for row in rows]
    for first in range(0, len(parsed), CHUNK):
        chunk = parsed[first : first + CHUNK]
        try:
            with sessions.begin() as s:
                write_lock(s)
                pos = _position(s)
                if pos.last_id != after:  # another feed moved on meanwhile: read again from where it is
                    return first
                for _, changes in chunk:  # autoflush: a bot's or slot's event only moves the contact's end,
                    if changes is not None:  # written with the next statement, not one by one
                        apply(s, changes)
                pos.last_id, pos.updated_at = chunk[-1][0][0], utcnow()
        except OperationalError:
            raise  # the store is unavailable: nothing written, the same events are read again later
        except SQLAlchemyError as e:
            log.warning("a batch failed (%s); applying its events one by one", e.__class__.__name__)
            _one_by_one(sessions, [row for row, _ in chunk])
        after = chunk[-1][0][0]
    return len(rows)


def _one_by_one(sessions: sessionmaker[Session], rows: Sequence[tuple[int, str, str, str | None]]) -> int:
    """A batch that failed: each event in its own transaction, the one that fails skipped with its reason."""
    for event_id, sender, kind, data in rows:
        try:
            with sessions.begin() as s:
                write_lock(s)
                _apply_row(s, event_id, sender, kind, data)
                _position(s).last_id = event_id
        except OperationalError:
            raise
        except SQLAlchemyError as e:
            log.warning("skipping tracker event %s of %s: %s", event_id, sender[:64], e.__class__.__name__)
            with sessions.begin() as s:
                write_lock(s)
                _position(s).last_id = event_id
    return len(rows)


def refresh_contacts(sessions: sessionmaker[Session]) -> Task:
    """The periodic settling of open contacts (agents claiming, customers leaving, idle contacts, ratings)."""

    def task(now: dt.datetime) -> object:
        return refresh(sessions, now)

    return task


def run_task(task: Task) -> None:
    try:
        task(utcnow())
    except OperationalError:
        raise
    except Exception:  # a periodic task's bug must not stop the feed
        log.exception("analytics task %s failed", getattr(task, "__qualname__", task))


def run(
    tracker: Engine,
    sessions: sessionmaker[Session],
    tasks: Sequence[Task] = (),
    poll_seconds: float = 1.0,
    task_seconds: float = 15.0,
    stop: threading.Event | None = None,
) -> None:
    """Feeds until `stop` is set; runs `tasks` (refresh, surge detection...) every `task_seconds`."""
    stop = stop or threading.Event()
    next_tasks = 0.0
    while not stop.is_set():
        read = 0
        try:
            read = feed_once(tracker, sessions)
            if time.monotonic() >= next_tasks:
                next_tasks = time.monotonic() + task_seconds
                for task in tasks:
                    run_task(task)
        except OperationalError as e:  # a store is unavailable: wait, the events keep
            log.warning("analytics store unavailable (%s); retrying", str(e).splitlines()[0][:120])
            stop.wait(5)
            continue
        if read < BATCH:
            stop.wait(poll_seconds)
