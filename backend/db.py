"""Engine and session factory: SQLite file by default, any SQLAlchemy URL (PostgreSQL) by configuration.

The schema is made and changed by the Alembic migrations in backend/migrations (`upgrade`), run by the set-up
(`python -m backend migrate` / `seed`), never as a side effect of opening the database.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{REPO / 'var' / 'backend.db'}"
MIGRATIONS = REPO / "backend" / "migrations"
BASELINE = "0001"  # the schema `create_all` made before there were migrations


def database_url() -> str:
    return os.environ.get("P95598_DB_URL", DEFAULT_URL)


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # As many kept connections as the default thread pool has threads (min(32, cpus + 4)) and then some: with
        # SQLAlchemy's 5, a burst opened and closed overflow connections, each with its pragmas, on every turn.
        engine = create_engine(url, connect_args={"timeout": 30}, pool_size=10, max_overflow=20)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn: Any, _record: Any) -> None:  # WAL: readers never block the writer
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def lock_if_any(session: Session, key: Any, *where: Any) -> bool:
    """For a poll: takes the write lock (`write_lock`) only when a row matches `where` (`key`: a column to select);
    False, and no lock, when none does. On SQLite a poll every second with nothing to do took the database-wide
    write lock from the live turns on every round."""
    if session.get_bind().dialect.name == "sqlite" and session.scalar(select(key).where(*where).limit(1)) is None:
        return False
    write_lock(session)
    return True


def write_lock(session: Session) -> None:
    """On SQLite, take the database's write lock now, at the start of a read-then-write transaction: a reader
    that later writes after another writer committed fails at once ("database is locked", no busy wait), while
    a writer from the start waits its turn. PostgreSQL needs nothing (row locks do it)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE work_orders SET id = id WHERE 0"))


def insert_new(session: Session, table: Table, row: dict[str, Any]) -> bool:
    """Inserts `row` unless one with the same unique key is there; whether it was inserted. One statement (INSERT
    ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL) that leaves the session's pending changes unflushed."""
    if session.get_bind().dialect.name not in ("sqlite", "postgresql"):  # a savepoint around a plain insert
        try:
            with session.begin_nested():
                session.connection().execute(table.insert(), row)
        except IntegrityError:
            return False
        return True
    for column in table.columns:  # the Python-side defaults a Core insert would have filled in
        if column.name not in row and column.default is not None:
            default = column.default
            row = {**row, column.name: default.arg(None) if default.is_callable else default.arg}  # type: ignore[attr-defined]
    return bool(session.connection().execute(_insert_or_nothing(table, tuple(sorted(row))), row).rowcount == 1)


@functools.lru_cache(maxsize=64)
def _insert_or_nothing(table: Table, columns: tuple[str, ...]) -> TextClause:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL), as text with typed parameters: SQLAlchemy
    2.0's dialect construct for it has no cache key and was compiled again for every row (the analytics feed
    spent a fifth of its time there)."""
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f":{c}" for c in columns)
    stmt = text(f'INSERT INTO "{table.name}" ({names}) VALUES ({values}) ON CONFLICT DO NOTHING')
    return stmt.bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config  # the set-up's dependency, not every process's import cost

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Brings the database's schema to `revision`. A database made by `create_all` before migrations existed
    (tables, no alembic_version) is first marked as being at the baseline."""
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        tables = set(inspect(conn).get_table_names())
        if tables and "alembic_version" not in tables:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def open_database(url: str | None = None) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and sessions of a database brought to the newest schema (set-up, tools and tests)."""
    engine = make_engine(url)
    upgrade(engine)
    return engine, make_sessionmaker(engine)
