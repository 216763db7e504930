"""Rasa's SQL tracker store on a SQLite file, in WAL mode with one pooled connection (bot/endpoints.yml).

Rasa 3.6 opens SQLite with SQLAlchemy's defaults: a new connection per session and the rollback journal,
whose commit syncs the journal and the database file on every turn. That commit was a fifth of the Rasa
process's CPU per turn (benchmarks/throughput/profiles). In WAL mode a commit appends to one log file;
synchronous=FULL still syncs it on every commit, so a turn Rasa has answered survives a crash or a power
cut, as before. Tables, queries and stored events are Rasa's own.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.pool import QueuePool


def _pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class SQLiteTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Domain | None = None,
        db: str = "rasa.db",
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain=domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        # Rasa uses the store from its event loop thread only; the pool keeps that one connection open
        self.engine = sa.create_engine(
            url, poolclass=QueuePool, pool_size=1, max_overflow=4, connect_args={"check_same_thread": False}
        )
        sa.event.listen(self.engine, "connect", _pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
