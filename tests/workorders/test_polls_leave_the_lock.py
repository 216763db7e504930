"""The console polls the work-order sweep and the notice outbox every second. With nothing due, a poll on SQLite
takes no database-wide write lock: it neither waits behind a live turn's write nor makes one wait."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

from backend import models as m
from backend.db import make_engine, make_sessionmaker, upgrade
from backend.workorders import outbox
from backend.workorders.supervision import sweep


def test_polls_with_nothing_due_run_while_another_writer_holds_the_lock(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    writer = sqlite3.connect(tmp_path / "b.db", check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # a live turn filing an order, mid-transaction
    polled: list[object] = []

    def poll() -> None:
        now = m.utcnow()
        polled.extend([sweep(sessions, now), outbox.claim(sessions, now + dt.timedelta(hours=1))])

    t = threading.Thread(target=poll)
    t.start()
    t.join(timeout=5)  # behind the lock they would wait out the 30 s busy timeout
    done_meanwhile = list(polled)
    writer.rollback()
    writer.close()
    t.join(timeout=60)
    engine.dispose()
    assert done_meanwhile == [0, []]
