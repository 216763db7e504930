"""Alembic's entry: migrates the connection `backend.db.upgrade` hands over, else the P95598_DB_URL database."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from backend.db import make_engine
from backend.models import Base

config = context.config


def run(connection: Connection) -> None:
    # batch mode: SQLite cannot ALTER most things, so alembic rebuilds the table instead
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
