"""The periodic refresh settles open contacts a few per write transaction: on SQLite a live write (a case opened on
转人工) waits for one short step at most, not for the whole refresh of a burst's contacts."""

from __future__ import annotations

import datetime as dt
import sqlite3

from sqlalchemy import text

from analytics import contacts
from analytics.contacts import refresh
from backend.db import write_lock
from backend.models_analytics import ContactOutcome
from tests.analytics.test_feed import backend, by_conversation, feed_all, make_tracker


def test_the_lock_is_free_between_steps_and_every_open_contact_is_settled(tmp_path, monkeypatch):
    tracker, sessions = make_tracker(tmp_path / "tracker.db", copies=4), backend(tmp_path / "b.db")
    with tracker.begin() as c:  # the chats go on: no 结束会话, so every contact is open
        c.execute(text("DELETE FROM events WHERE data LIKE '%本次会话已结束%'"))
    feed_all(tracker, sessions)
    open_ = [c for c in by_conversation(sessions).values() if c.outcome == ContactOutcome.IN_PROGRESS]
    assert len(open_) >= 8
    free: list[bool] = []

    def lock_after_a_live_write(session):
        conn = sqlite3.connect(tmp_path / "b.db", timeout=0.2)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the database-wide write lock, as a live turn's write takes it
            conn.commit()
            free.append(True)
        except sqlite3.OperationalError:
            free.append(False)
        finally:
            conn.close()
        write_lock(session)

    monkeypatch.setattr(contacts, "write_lock", lock_after_a_live_write)
    latest = max(c.ended_at or c.started_at for c in open_)
    looked = refresh(sessions, latest + dt.timedelta(minutes=31), step=3)  # idle 30 minutes: every one settles
    assert looked >= len(open_) and len(free) == -(-looked // 3) + 1 and all(free)
    assert not [c for c in by_conversation(sessions).values() if c.outcome == ContactOutcome.IN_PROGRESS]
